package lake

import (
	"context"
	"fmt"
	"slices"
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

// queueVoice keeps voice_sessions in step with the batch's voice events:
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
//
// A member's events are folded, in the order the gateway delivered them,
// into what they leave behind (see voiceOp), and written as at most three
// statements over disjoint members: one statement per event cost more
// Postgres CPU than the rest of the voice event's row.
func queueVoice(p *pipeline, events []Event) {
	type member struct{ guild, user int64 }
	ops := map[member]*voiceOp{}
	var order []member
	for i := range events {
		e := &events[i]
		if e.Type != VoiceJoin && e.Type != VoiceMove && e.Type != VoiceLeave {
			continue
		}
		k := member{e.GuildID, e.UserID}
		op := ops[k]
		if op == nil {
			op = &voiceOp{}
			ops[k] = op
			order = append(order, k)
		}
		op.apply(e)
	}
	if len(order) == 0 {
		return
	}
	// Each statement locks its members in one order, the same in every writer.
	slices.SortFunc(order, func(a, b member) int {
		if a.guild != b.guild {
			return cmpInt(a.guild, b.guild)
		}
		return cmpInt(a.user, b.user)
	})
	var open, restart, gone struct {
		tenant, guild, user, channel []int64
		at                           []time.Time
		muted                        []bool
	}
	for _, k := range order {
		op := ops[k]
		switch op.kind {
		case voiceOpen:
			open.tenant, open.guild, open.user = append(open.tenant, op.tenant), append(open.guild, k.guild), append(open.user, k.user)
			open.channel, open.at, open.muted = append(open.channel, op.channel), append(open.at, op.at), append(open.muted, op.muted)
		case voiceRestart:
			restart.guild, restart.user = append(restart.guild, k.guild), append(restart.user, k.user)
			restart.at, restart.muted = append(restart.at, op.at), append(restart.muted, op.muted)
		case voiceEnd:
			gone.guild, gone.user = append(gone.guild, k.guild), append(gone.user, k.user)
		}
	}
	if len(gone.guild) > 0 {
		p.queue("voice sessions", nil, `DELETE FROM voice_sessions v USING unnest($1::bigint[], $2::bigint[]) AS d(guild_id, user_id)
			WHERE v.guild_id = d.guild_id AND v.user_id = d.user_id`, gone.guild, gone.user)
	}
	if len(open.guild) > 0 {
		p.queue("voice sessions", nil, `INSERT INTO voice_sessions (tenant_id, guild_id, user_id, channel_id, started_at, muted_deaf)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::bool[])
			ON CONFLICT (guild_id, user_id) DO UPDATE SET channel_id = EXCLUDED.channel_id, started_at = EXCLUDED.started_at, muted_deaf = EXCLUDED.muted_deaf`,
			open.tenant, open.guild, open.user, open.channel, open.at, open.muted)
	}
	if len(restart.guild) > 0 {
		p.queue("voice sessions", nil, `UPDATE voice_sessions v SET started_at = d.started_at, muted_deaf = d.muted_deaf
			FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bool[]) AS d(guild_id, user_id, started_at, muted_deaf)
			WHERE v.guild_id = d.guild_id AND v.user_id = d.user_id`, restart.guild, restart.user, restart.at, restart.muted)
	}
}

// voiceOp is what a member's voice events of one batch leave behind.
type voiceOp struct {
	kind    voiceOpKind
	tenant  int64
	channel int64 // voiceOpen
	at      time.Time
	muted   bool
}

type voiceOpKind int8

const (
	voiceRestart voiceOpKind = iota // an open session, if any, restarts at `at`
	voiceOpen                       // the session is exactly this one
	voiceEnd                        // no session
)

// apply folds the member's next event into the op: a join or move opens
// (whatever came before), a leave ends, and a leave that stays in voice
// restarts an open session: one opened in the batch is opened restarted,
// one ended stays ended, one unknown is restarted if it exists.
func (op *voiceOp) apply(e *Event) {
	muted := e.Flags&FlagMutedDeaf != 0
	switch {
	case e.Type == VoiceJoin || e.Type == VoiceMove:
		*op = voiceOp{kind: voiceOpen, tenant: e.TenantID, channel: e.ChannelID, at: e.OccurredAt, muted: muted}
	case e.StaysInVoice:
		if op.kind != voiceEnd {
			op.at, op.muted = e.OccurredAt, muted
		}
	default:
		*op = voiceOp{kind: voiceEnd}
	}
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
