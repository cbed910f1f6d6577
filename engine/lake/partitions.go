package lake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PartitionName is the daily partition holding day (UTC).
func PartitionName(day time.Time) string {
	return "event_lake_" + day.UTC().Format("20060102")
}

// EnsurePartitions creates the daily partitions covering [from, to] that do
// not exist yet. Safe to run concurrently: a partition created by another
// process in the meantime is not an error.
func EnsurePartitions(ctx context.Context, pool *pgxpool.Pool, from, to time.Time) (created []string, err error) {
	var days []time.Time
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(to.UTC()); day = day.Add(24 * time.Hour) {
		days = append(days, day)
	}
	return ensureDays(ctx, pool, days)
}

// ensureDays creates the partitions of the given (UTC, truncated) days.
func ensureDays(ctx context.Context, pool *pgxpool.Pool, days []time.Time) (created []string, err error) {
	for _, day := range days {
		name := PartitionName(day)
		sql := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF event_lake FOR VALUES FROM ('%s') TO ('%s')`,
			pgx.Identifier{name}.Sanitize(), day.Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339))
		tag, err := pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && (pgErr.Code == "42P07" || pgErr.Code == "23505"):
			// created concurrently
		case err != nil:
			return created, fmt.Errorf("create partition %s: %w", name, err)
		case tag.String() != "":
			created = append(created, name)
		}
	}
	return created, nil
}

// Partition is one day of the lake.
type Partition struct {
	Name  string
	Day   time.Time
	Bytes int64 // heap, indexes and TOAST
}

// Partitions lists the lake's partitions, oldest first, with their size.
func Partitions(ctx context.Context, pool *pgxpool.Pool) ([]Partition, error) {
	rows, err := pool.Query(ctx, `
		SELECT c.relname, pg_total_relation_size(c.oid)
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'event_lake' AND p.relnamespace = to_regnamespace(current_schema())::oid
		ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	defer rows.Close()
	var out []Partition
	for rows.Next() {
		var p Partition
		if err := rows.Scan(&p.Name, &p.Bytes); err != nil {
			return nil, err
		}
		day, err := time.Parse("20060102", strings.TrimPrefix(p.Name, "event_lake_"))
		if err != nil {
			continue // not one of ours
		}
		p.Day = day
		out = append(out, p)
	}
	return out, rows.Err()
}

// DropPartitionsBefore drops whole days older than cutoff: dropping a
// partition frees its space at once, where a bulk DELETE would leave dead
// rows to vacuum. Callers decide the cutoff (every tenant must allow it).
func DropPartitionsBefore(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time) ([]string, error) {
	parts, err := Partitions(ctx, pool)
	if err != nil {
		return nil, err
	}
	var dropped []string
	for _, p := range parts {
		if !p.Day.Add(24 * time.Hour).After(cutoff) {
			if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{p.Name}.Sanitize()); err != nil {
				return dropped, fmt.Errorf("drop partition %s: %w", p.Name, err)
			}
			dropped = append(dropped, p.Name)
		}
	}
	return dropped, nil
}
