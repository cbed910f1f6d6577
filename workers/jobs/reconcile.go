package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
)

// ReconcilePayload optionally widens a reconciliation run.
type ReconcilePayload struct {
	Days int `json:"days"`
}

// ReconcileReport says how far the counters had drifted.
type ReconcileReport struct {
	Days     int   `json:"days"`
	Drifted  int64 `json:"drifted_rows"`  // counter rows whose values differed from the lake
	Orphaned int64 `json:"orphaned_rows"` // counter rows with no lake rows behind them
	// ActiveDays counts member_active_days rows repaired or removed.
	ActiveDays int64 `json:"active_day_rows"`
}

// Reconcile recomputes the counters of the last days (default 8: a week
// and the day the previous run was in) from the lake itself, repairs rows
// that differ and reports how many did. Counters are written in the same
// transaction as the lake rows, so drift means a bug or a manual edit:
// worth an alert, not routine.
//
// Only the days the lake still holds for a guild are compared: a guild
// keeping fewer days than the run looks back (capture.retention_days, read
// as the retention job reads it) has its older days left alone, since its
// counters and active days outlive its lake rows on purpose (milestones
// count from them) and would otherwise all read as drift and be deleted.
func (m *Maintenance) Reconcile(ctx context.Context, days int) (ReconcileReport, error) {
	if days <= 0 {
		days = 8
	}
	rep := ReconcileReport{Days: days}
	guilds, _, err := m.guildRetentions(ctx)
	if err != nil {
		return rep, err
	}
	end := m.now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	for d := 0; d < days; d++ {
		from := end.AddDate(0, 0, -(d + 1))
		// The retention job keeps a guild's rows from today - days on:
		// day today - d is whole while d <= days.
		var skip guildSet
		for _, g := range guilds {
			if d > g.days {
				skip.add(g.tenant, g.guild)
			}
		}
		drifted, orphaned, err := m.reconcileDay(ctx, from, skip)
		if err != nil {
			return rep, err
		}
		rep.Drifted += drifted
		rep.Orphaned += orphaned
	}
	active, err := m.reconcileActiveDays(ctx, end.AddDate(0, 0, -days), end, guilds)
	if err != nil {
		return rep, err
	}
	rep.ActiveDays = active
	m.drift.Add(float64(active))
	m.drift.Add(float64(rep.Drifted + rep.Orphaned))
	level := slog.LevelInfo
	if rep.Drifted+rep.Orphaned+rep.ActiveDays > 0 {
		level = slog.LevelWarn
	}
	m.log.Log(ctx, level, "counters reconciled", slog.Int("days", days), slog.Int64("drifted", rep.Drifted), slog.Int64("orphaned", rep.Orphaned), slog.Int64("active_days", rep.ActiveDays))
	return rep, nil
}

// guildSet is a list of guilds as two arrays, for unnest in a query.
type guildSet struct{ tenants, guilds []int64 }

func (s *guildSet) add(tenant, guild int64) {
	s.tenants, s.guilds = append(s.tenants, tenant), append(s.guilds, guild)
}

// reconcileDay reconciles one UTC day's counters of every guild but those
// in skip (whose lake rows of that day are past their retention).
func (m *Maintenance) reconcileDay(ctx context.Context, day time.Time, skip guildSet) (drifted, orphaned int64, err error) {
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	// Repair counters that differ from (or are missing for) the lake's
	// truth. The derived types restate lake.eachCount: reactions received
	// ($3) from reaction_add ($4) rows, non-AFK voice ($5) from voice_leave
	// ($6) and voice_move ($7) rows without the AFK flag ($8), on the
	// channel the stretch was in.
	args := []any{day, day.Add(24 * time.Hour), int16(lake.ReactionReceived), int16(lake.ReactionAdd),
		int16(lake.VoiceActive), int16(lake.VoiceLeave), int16(lake.VoiceMove), int16(lake.FlagAFK), skip.tenants, skip.guilds}
	tag, err := tx.Exec(ctx, `
		WITH truth AS (
			SELECT tenant_id, guild_id, (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, user_id, channel_id,
			       count(*) AS events, sum(magnitude)::bigint AS magnitude
			FROM event_lake WHERE occurred_at >= $1 AND occurred_at < $2
			GROUP BY 1, 2, 3, 4, 5, 6
			UNION ALL
			SELECT tenant_id, guild_id, (occurred_at AT TIME ZONE 'UTC')::date, $3::smallint, target_id, channel_id, count(*), 0
			FROM event_lake WHERE occurred_at >= $1 AND occurred_at < $2 AND event_type = $4 AND target_id <> 0 AND target_id <> user_id
			GROUP BY 1, 2, 3, 5, 6
			UNION ALL
			SELECT tenant_id, guild_id, (occurred_at AT TIME ZONE 'UTC')::date, $5::smallint, user_id,
			       CASE WHEN event_type = $7 THEN target_id ELSE channel_id END, count(*), sum(magnitude)::bigint
			FROM event_lake WHERE occurred_at >= $1 AND occurred_at < $2 AND event_type IN ($6, $7) AND flags & $8 = 0
			GROUP BY 1, 2, 3, 5, 6
		)
		INSERT INTO event_counters AS c (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
		SELECT t.* FROM truth t
		LEFT JOIN event_counters x USING (tenant_id, guild_id, day, event_type, user_id, channel_id)
		WHERE (x.events IS DISTINCT FROM t.events OR x.magnitude IS DISTINCT FROM t.magnitude)
		  AND (t.tenant_id, t.guild_id) NOT IN (SELECT * FROM unnest($9::bigint[], $10::bigint[]))
		ON CONFLICT (tenant_id, guild_id, day, event_type, user_id, channel_id)
		DO UPDATE SET events = EXCLUDED.events, magnitude = EXCLUDED.magnitude`, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("reconcile %s: %w", day.Format(time.DateOnly), err)
	}
	drifted = tag.RowsAffected()
	// Remove counters with nothing behind them.
	tag, err = tx.Exec(ctx, `
		DELETE FROM event_counters c WHERE c.day = $1::date
		  AND (c.tenant_id, c.guild_id) NOT IN (SELECT * FROM unnest($10::bigint[], $11::bigint[]))
		  AND NOT EXISTS (
			SELECT 1 FROM event_lake l WHERE l.occurred_at >= $2 AND l.occurred_at < $3
			  AND l.tenant_id = c.tenant_id AND l.guild_id = c.guild_id
			  AND ((c.event_type NOT IN ($4, $6) AND l.event_type = c.event_type AND l.user_id = c.user_id AND l.channel_id = c.channel_id)
			    OR (c.event_type = $4 AND l.event_type = $5 AND l.target_id = c.user_id AND l.user_id <> c.user_id AND l.channel_id = c.channel_id)
			    OR (c.event_type = $6 AND l.event_type IN ($7, $8) AND l.flags & $9 = 0 AND l.user_id = c.user_id
			        AND CASE WHEN l.event_type = $8 THEN l.target_id ELSE l.channel_id END = c.channel_id)))`,
		day.Format(time.DateOnly), day, day.Add(24*time.Hour), int16(lake.ReactionReceived), int16(lake.ReactionAdd),
		int16(lake.VoiceActive), int16(lake.VoiceLeave), int16(lake.VoiceMove), int16(lake.FlagAFK), skip.tenants, skip.guilds)
	if err != nil {
		return 0, 0, fmt.Errorf("reconcile %s: %w", day.Format(time.DateOnly), err)
	}
	orphaned = tag.RowsAffected()
	return drifted, orphaned, tx.Commit(ctx)
}
