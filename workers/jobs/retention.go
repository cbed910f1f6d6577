package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
)

// activeDaysKept bounds member_active_days: the longest streak a
// milestone may ask for (366 days) and a margin.
const activeDaysKept = 400

// RetentionReport says what a retention run removed.
type RetentionReport struct {
	DroppedPartitions []string `json:"dropped_partitions"`
	DeletedRows       int64    `json:"deleted_rows"`
	LongestDays       int      `json:"longest_retention_days"`
	DeletedActiveDays int64    `json:"deleted_active_days"` // member_active_days rows past activeDaysKept
}

// Retention enforces each guild's retention_days (default 90).
//
// Whole days older than the longest retention any guild has are dropped as
// partitions: instant, and no dead rows to vacuum. A guild that keeps less
// than that has its older rows deleted inside the partitions that remain;
// the delete touches only those partitions (pruned by occurred_at) and
// that guild's index range.
func (m *Maintenance) Retention(ctx context.Context) (RetentionReport, error) {
	var rep RetentionReport
	today := m.now().UTC().Truncate(24 * time.Hour)
	rows, err := m.pool.Query(ctx, `SELECT tenant_id, id, COALESCE((settings->'capture'->>'retention_days')::int, $1) FROM guilds`, lake.DefaultRetentionDays)
	if err != nil {
		return rep, fmt.Errorf("retention: read settings: %w", err)
	}
	type gr struct {
		tenant, guild int64
		days          int
	}
	var guilds []gr
	rep.LongestDays = lake.DefaultRetentionDays
	for rows.Next() {
		var g gr
		if err := rows.Scan(&g.tenant, &g.guild, &g.days); err != nil {
			rows.Close()
			return rep, err
		}
		if g.days <= 0 {
			g.days = lake.DefaultRetentionDays
		}
		rep.LongestDays = max(rep.LongestDays, g.days)
		guilds = append(guilds, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	dropped, err := lake.DropPartitionsBefore(ctx, m.pool, today.AddDate(0, 0, -rep.LongestDays))
	rep.DroppedPartitions = dropped
	m.dropped.Add(float64(len(dropped)))
	if err != nil {
		return rep, err
	}
	for _, g := range guilds {
		if g.days >= rep.LongestDays {
			continue
		}
		tag, err := m.pool.Exec(ctx, `DELETE FROM event_lake WHERE tenant_id = $1 AND guild_id = $2 AND occurred_at < $3`,
			g.tenant, g.guild, today.AddDate(0, 0, -g.days))
		if err != nil {
			return rep, fmt.Errorf("retention: guild %d: %w", g.guild, err)
		}
		rep.DeletedRows += tag.RowsAffected()
	}
	// Active days serve streaks only (at most a year long): older ones go.
	tag, err := m.pool.Exec(ctx, `DELETE FROM member_active_days WHERE day < $1::date`, today.AddDate(0, 0, -activeDaysKept).Format(time.DateOnly))
	if err != nil {
		return rep, fmt.Errorf("retention: active days: %w", err)
	}
	rep.DeletedActiveDays = tag.RowsAffected()
	m.log.Info("retention applied", slog.Any("dropped", dropped), slog.Int64("deleted_rows", rep.DeletedRows), slog.Int("longest_days", rep.LongestDays))
	return rep, nil
}
