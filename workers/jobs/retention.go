package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// MalformedSettings counts guilds whose capture.retention_days was
	// malformed and read as its default (or rounded, or capped): logged
	// each, and never a reason to stop the run for the other guilds.
	MalformedSettings int `json:"malformed_settings"`
}

// guildRetention is one guild's retention setting.
type guildRetention struct {
	tenant, guild int64
	days          int
}

// guildRetentions reads every guild's retention_days as the gateway reads
// its capture settings (lake.ParseCaptureSettings): field by field, a
// malformed value falling back for that guild alone. It returns how many
// guilds had a malformed value, each logged.
func (m *Maintenance) guildRetentions(ctx context.Context) ([]guildRetention, int, error) {
	rows, err := m.pool.Query(ctx, `SELECT tenant_id, id, jsonb_build_object('capture', settings->'capture') FROM guilds`)
	if err != nil {
		return nil, 0, fmt.Errorf("retention: read settings: %w", err)
	}
	defer rows.Close()
	var out []guildRetention
	malformed := 0
	for rows.Next() {
		var g guildRetention
		var settings []byte
		if err := rows.Scan(&g.tenant, &g.guild, &settings); err != nil {
			return nil, 0, fmt.Errorf("retention: read settings: %w", err)
		}
		cs := lake.ParseCaptureSettings(settings)
		g.days = cs.RetentionDays
		if slices.Contains(cs.Ignored, "capture.retention_days") {
			malformed++
			m.log.Warn("malformed capture.retention_days: read as the default, rounded up or capped",
				slog.Int64("tenant_id", g.tenant), slog.Int64("guild_id", g.guild),
				slog.String("value", rawRetentionDays(settings)), slog.Int("days", g.days))
		}
		out = append(out, g)
	}
	return out, malformed, rows.Err()
}

// rawRetentionDays is the retention_days of a capture document as written, for logs.
func rawRetentionDays(settings []byte) string {
	var doc struct {
		Capture map[string]json.RawMessage `json:"capture"`
	}
	if json.Unmarshal(settings, &doc) != nil {
		return ""
	}
	return string(doc.Capture["retention_days"])
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
	guilds, malformed, err := m.guildRetentions(ctx)
	if err != nil {
		return rep, err
	}
	rep.MalformedSettings = malformed
	rep.LongestDays = lake.DefaultRetentionDays
	for _, g := range guilds {
		rep.LongestDays = max(rep.LongestDays, g.days)
	}
	dropped, err := lake.DropPartitionsBefore(ctx, m.pool, today.AddDate(0, 0, -rep.LongestDays))
	rep.DroppedPartitions = dropped
	m.dropped.Add(float64(len(dropped)))
	if err != nil {
		return rep, err
	}
	// One guild's failure does not keep the others' data: the run goes on
	// and fails at the end (asynq retries it).
	var errs []error
	for _, g := range guilds {
		if g.days >= rep.LongestDays {
			continue
		}
		tag, err := m.pool.Exec(ctx, `DELETE FROM event_lake WHERE tenant_id = $1 AND guild_id = $2 AND occurred_at < $3`,
			g.tenant, g.guild, today.AddDate(0, 0, -g.days))
		if err != nil {
			errs = append(errs, fmt.Errorf("retention: guild %d: %w", g.guild, err))
			continue
		}
		rep.DeletedRows += tag.RowsAffected()
	}
	// Active days serve streaks only (at most a year long): older ones go.
	tag, err := m.pool.Exec(ctx, `DELETE FROM member_active_days WHERE day < $1::date`, today.AddDate(0, 0, -activeDaysKept).Format(time.DateOnly))
	if err != nil {
		return rep, fmt.Errorf("retention: active days: %w", err)
	}
	rep.DeletedActiveDays = tag.RowsAffected()
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	m.log.Info("retention applied", slog.Any("dropped", dropped), slog.Int64("deleted_rows", rep.DeletedRows), slog.Int("longest_days", rep.LongestDays),
		slog.Int("malformed_settings", rep.MalformedSettings))
	return rep, nil
}
