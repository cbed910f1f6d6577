package lake

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WriteOneNaive stores one event the simple way: its own transaction, one
// INSERT, then one upsert per counter and per active day it adds. It exists as the baseline the batched
// writer is measured against (the loadtest's "naive" profile and the
// benchmarks); nothing in the pipeline uses it.
func WriteOneNaive(ctx context.Context, pool *pgxpool.Pool, e Event) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	tag, err := tx.Exec(ctx, `INSERT INTO event_lake (tenant_id, guild_id, occurred_at, source_id, user_id, channel_id, target_id, counts, magnitude, event_type, flags)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		e.TenantID, e.GuildID, e.OccurredAt, e.SourceID, e.UserID, e.ChannelID, e.TargetID, int32(e.Counts), e.Magnitude, int16(e.Type), int16(e.Flags))
	if err != nil {
		return fmt.Errorf("naive insert: %w", err)
	}
	if tag.RowsAffected() == 1 {
		var cerr error
		eachCount(e, func(typ Type, user, channel int64, magnitude int32) {
			if cerr != nil {
				return
			}
			_, cerr = tx.Exec(ctx, `INSERT INTO event_counters AS c (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
				VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
				ON CONFLICT (tenant_id, guild_id, day, event_type, user_id, channel_id) DO UPDATE SET events = c.events + 1, magnitude = c.magnitude + EXCLUDED.magnitude`,
				e.TenantID, e.GuildID, e.OccurredAt.UTC().Truncate(24*time.Hour), int16(typ), user, channel, int64(magnitude))
		})
		if cerr != nil {
			return fmt.Errorf("naive counter: %w", cerr)
		}
		var zone string
		if err := tx.QueryRow(ctx, `SELECT coalesce(settings->'milestones'->>'timezone', settings->>'timezone', '') FROM guilds WHERE id = $1`, e.GuildID).Scan(&zone); err != nil && err != pgx.ErrNoRows {
			return fmt.Errorf("naive zone: %w", err)
		}
		day := LocalDate(e.OccurredAt, LoadZone(zone))
		eachActivity(e, func(typ Type) {
			if cerr != nil {
				return
			}
			_, cerr = tx.Exec(ctx, `INSERT INTO member_active_days AS a (tenant_id, guild_id, user_id, day, events, event_type)
				VALUES ($1, $2, $3, $4, 1, $5)
				ON CONFLICT (tenant_id, guild_id, user_id, day, event_type) DO UPDATE SET events = a.events + 1`,
				e.TenantID, e.GuildID, e.UserID, day, int16(typ))
		})
		if cerr != nil {
			return fmt.Errorf("naive active day: %w", cerr)
		}
	}
	return tx.Commit(ctx)
}
