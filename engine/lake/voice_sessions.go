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
// written when a shard stops (StaysInVoice) ends the stretch so far while
// the member stays in voice: the next stretch starts at that moment. A
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
			b.Queue(`UPDATE voice_sessions SET started_at = $3 WHERE guild_id = $1 AND user_id = $2`, e.GuildID, e.UserID, e.OccurredAt)
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
