package lake

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// WriteOneNaive stores one event the simple way: its own transaction, one
// INSERT and one counter upsert. It exists as the baseline the batched
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
		if _, err := tx.Exec(ctx, `INSERT INTO event_counters AS c (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
			VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
			ON CONFLICT (tenant_id, guild_id, day, event_type, user_id, channel_id) DO UPDATE SET events = c.events + 1, magnitude = c.magnitude + EXCLUDED.magnitude`,
			e.TenantID, e.GuildID, e.OccurredAt.UTC().Truncate(24*time.Hour), int16(e.Type), e.UserID, e.ChannelID, int64(e.Magnitude)); err != nil {
			return fmt.Errorf("naive counter: %w", err)
		}
	}
	if tag.RowsAffected() == 1 && e.Type == ReactionAdd && e.TargetID != 0 && e.TargetID != e.UserID {
		if _, err := tx.Exec(ctx, `INSERT INTO event_counters AS c (tenant_id, guild_id, day, event_type, user_id, channel_id, events, magnitude)
			VALUES ($1, $2, $3, $4, $5, $6, 1, 0)
			ON CONFLICT (tenant_id, guild_id, day, event_type, user_id, channel_id) DO UPDATE SET events = c.events + 1`,
			e.TenantID, e.GuildID, e.OccurredAt.UTC().Truncate(24*time.Hour), int16(ReactionReceived), e.TargetID, e.ChannelID); err != nil {
			return fmt.Errorf("naive counter: %w", err)
		}
	}
	return tx.Commit(ctx)
}
