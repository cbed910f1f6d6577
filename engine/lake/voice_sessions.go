package lake

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// VoiceSession is a member's open stretch in a voice channel.
type VoiceSession struct {
	TenantID, GuildID, UserID, ChannelID int64
	StartedAt                            time.Time
	MutedDeaf                            bool
}

// trackVoice keeps voice_sessions in step with the batch's voice events:
// a join or move opens a stretch, a leave ends it, and a synthetic leave
// that keeps the member in voice (StaysInVoice: written when a shard
// stops, or when the gateway restarts a stretch) ends the stretch so far:
// the next stretch starts at that moment, self-muted and self-deafened if
// the leave carries FlagMutedDeaf (the member's state then; muted_deaf
// kept the state the previous stretch began with, and a member who had
// unmuted was restored as muted and deafened, and tagged AFK). A
// synthetic leave from reconciling GUILD_CREATE (the member left while no
// session watched) ends the session like a real one; keeping it open left
// a ghost that the shard's next owner restored, turning the member's next
// join into a move.
func trackVoice(ctx context.Context, tx pgx.Tx, events []Event) error {
	var b pgx.Batch
	for _, e := range events {
		switch {
		case e.Type == VoiceJoin || e.Type == VoiceMove:
			b.Queue(`INSERT INTO voice_sessions (tenant_id, guild_id, user_id, channel_id, started_at, muted_deaf) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (guild_id, user_id) DO UPDATE SET channel_id = EXCLUDED.channel_id, started_at = EXCLUDED.started_at, muted_deaf = EXCLUDED.muted_deaf`,
				e.TenantID, e.GuildID, e.UserID, e.ChannelID, e.OccurredAt, e.Flags&FlagMutedDeaf != 0)
		case e.Type == VoiceLeave && e.StaysInVoice:
			b.Queue(`UPDATE voice_sessions SET started_at = $3, muted_deaf = $4 WHERE guild_id = $1 AND user_id = $2`,
				e.GuildID, e.UserID, e.OccurredAt, e.Flags&FlagMutedDeaf != 0)
		case e.Type == VoiceLeave:
			b.Queue(`DELETE FROM voice_sessions WHERE guild_id = $1 AND user_id = $2`, e.GuildID, e.UserID)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("lake: voice sessions: %w", err)
	}
	return nil
}

// MarkVoiceSessionActive records that a member's open stretch, the one
// that started at startedAt, is no longer spent self-muted and
// self-deafened throughout (the member unmuted or undeafened). One write
// per stretch at most: only the first change matters. A stretch that
// ended or was restarted meanwhile is left alone.
func MarkVoiceSessionActive(ctx context.Context, pool *pgxpool.Pool, tenantID, guildID, userID int64, startedAt time.Time) error {
	_, err := pool.Exec(ctx, `UPDATE voice_sessions SET muted_deaf = false
		WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3 AND started_at = $4 AND muted_deaf`, tenantID, guildID, userID, startedAt)
	if err != nil {
		return fmt.Errorf("lake: voice session active: %w", err)
	}
	return nil
}

// OpenVoiceSessions lists the open stretches in the given guilds.
func OpenVoiceSessions(ctx context.Context, pool *pgxpool.Pool, guildIDs []int64) ([]VoiceSession, error) {
	rows, err := pool.Query(ctx, `SELECT tenant_id, guild_id, user_id, channel_id, started_at, muted_deaf FROM voice_sessions WHERE guild_id = ANY($1)`, guildIDs)
	if err != nil {
		return nil, fmt.Errorf("open voice sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (VoiceSession, error) {
		var v VoiceSession
		err := r.Scan(&v.TenantID, &v.GuildID, &v.UserID, &v.ChannelID, &v.StartedAt, &v.MutedDeaf)
		return v, err
	})
}
