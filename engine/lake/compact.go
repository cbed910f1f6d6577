package lake

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// CompactGrace is how long after its day ends a partition is compacted:
// late events (a gap's backfill, a voice leave after midnight) land in it
// first.
const CompactGrace = 2 * time.Hour

// Compaction is one partition rebuilt by CompactPartition.
type Compaction struct {
	Partition   string `json:"partition"`
	BytesBefore int64  `json:"bytes_before"`
	BytesAfter  int64  `json:"bytes_after"`
}

// CompactPartition rebuilds a partition's indexes packed, with REINDEX
// CONCURRENTLY (inserts and reads go on meanwhile), and records it in
// lake_compactions. While a day is written, its natural-key index fills
// only as far as its ids arrive in order: shards running at different
// distances behind Discord insert into several places of it at once, and
// every page split there leaves two half-full pages (about 70% dense at
// max rate, against 100% for in-order inserts). Rebuilt once the day is
// closed, the index is packed for the rest of its retention. ok is false
// when another process is compacting the partition right now.
func CompactPartition(ctx context.Context, pool *pgxpool.Pool, name string) (c Compaction, ok bool, err error) {
	c.Partition = name
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return c, false, fmt.Errorf("compact %s: %w", name, err)
	}
	defer conn.Release()
	// A session lock on the connection that runs the REINDEX, which cannot
	// run inside a transaction.
	key := "lake_compact:" + name
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, key).Scan(&ok); err != nil || !ok {
		return c, false, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext($1))`, key) //nolint:errcheck // the lock ends with the session anyway

	if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size(to_regclass($1))`, name).Scan(&c.BytesBefore); err != nil {
		return c, false, fmt.Errorf("compact %s: size: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "REINDEX TABLE CONCURRENTLY "+pgx.Identifier{name}.Sanitize()); err != nil {
		return c, false, fmt.Errorf("compact %s: reindex: %w", name, err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size(to_regclass($1))`, name).Scan(&c.BytesAfter); err != nil {
		return c, false, fmt.Errorf("compact %s: size: %w", name, err)
	}
	if _, err := conn.Exec(ctx, `
		INSERT INTO lake_compactions (partition, bytes_before, bytes_after) VALUES ($1, $2, $3)
		ON CONFLICT (partition) DO UPDATE SET compacted_at = now(), bytes_before = $2, bytes_after = $3`,
		name, c.BytesBefore, c.BytesAfter); err != nil {
		return c, false, fmt.Errorf("compact %s: record: %w", name, err)
	}
	return c, true, nil
}

// CompactPerRun bounds the partitions one CompactClosed call rebuilds: the
// first run after an upgrade finds every closed day uncompacted, and works
// through them over the following runs instead of all at once.
const CompactPerRun = 2

// CompactClosed compacts the partitions whose day ended CompactGrace or
// more before now and that were not compacted yet, oldest first, at most
// CompactPerRun of them.
func CompactClosed(ctx context.Context, pool *pgxpool.Pool, now time.Time) ([]Compaction, error) {
	parts, err := Partitions(ctx, pool)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	rows, err := pool.Query(ctx, `SELECT partition FROM lake_compactions`)
	if err != nil {
		return nil, fmt.Errorf("list compactions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list compactions: %w", err)
	}
	for _, n := range names {
		done[n] = true
	}
	var out []Compaction
	for _, p := range parts {
		if len(out) == CompactPerRun {
			break
		}
		if done[p.Name] || p.Day.Add(24*time.Hour+CompactGrace).After(now) {
			continue
		}
		c, ok, err := CompactPartition(ctx, pool, p.Name)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}
