package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// voiceGuild is one guild on one leased shard, captured by workers that
// share a clock the test moves (voice time is measured on it).
type voiceGuild struct {
	db      *postgres.DB
	sim     *discordsim.Server
	clk     *stepClock
	guild   discordsim.GuildInfo
	channel discordsim.ID // a voice channel
}

func newVoiceGuild(t *testing.T) voiceGuild {
	t.Helper()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards, cfg.MembersPerGuild = 1, 1, 10
	v := voiceGuild{db: testenv.DB(t), sim: gatewaytest.Sim(t, cfg), clk: &stepClock{t: time.Now().UTC()}}
	v.guild = v.sim.Guilds()[0]
	v.channel = v.guild.Channels["General"]
	require.NotZero(t, v.channel)
	_, err := v.db.Pool.Exec(context.Background(), `INSERT INTO shard_sessions (shard_id, shard_count, fence, owner, state) VALUES (0, 1, 1, 'first', 'running')`)
	require.NoError(t, err)
	return v
}

// worker starts a worker capturing the shard under the given lease.
func (v voiceGuild) worker(t *testing.T, fence int64, resume *gateway.Resume) *gateway.Worker {
	t.Helper()
	w, _ := gatewaytest.Capture(t, v.db, v.sim, gateway.Config{Now: v.clk.now})
	require.NoError(t, w.StartShard(context.Background(), 0, 1, fence, resume))
	return w
}

// takeOver moves the lease to the next owner and returns the session the
// last one checkpointed.
func (v voiceGuild) takeOver(t *testing.T) gateway.Resume {
	t.Helper()
	var r gateway.Resume
	require.NoError(t, v.db.Pool.QueryRow(context.Background(), `UPDATE shard_sessions SET fence = 2, owner = 'second', state = 'starting'
		WHERE shard_id = 0 AND shard_count = 1 RETURNING session_id, resume_url, seq`).Scan(&r.SessionID, &r.ResumeURL, &r.Seq))
	require.NotEmpty(t, r.SessionID)
	return r
}

func (v voiceGuild) rows(t *testing.T, typ lake.Type) int64 {
	return countRows(t, v.db.Pool, `SELECT count(*) FROM event_lake WHERE event_type = $1`, int16(typ))
}

func (v voiceGuild) waitRows(t *testing.T, typ lake.Type, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return v.rows(t, typ) == n }, 20*time.Second, 10*time.Millisecond, "%d %s rows", n, typ)
}

// leftFor reports whether a member's real (not synthetic) leave is stored.
func (v voiceGuild) leftFor(t *testing.T, user discordsim.ID) bool {
	return countRows(t, v.db.Pool, `SELECT count(*) FROM event_lake WHERE event_type = $1 AND user_id = $2 AND flags & $3 = 0`,
		int16(lake.VoiceLeave), int64(user), int16(lake.FlagSynthetic)) > 0
}

// activeSeconds is a member's non-AFK voice time, as milestones read it.
func (v voiceGuild) activeSeconds(t *testing.T, user discordsim.ID) int64 {
	return countRows(t, v.db.Pool, `SELECT coalesce(sum(magnitude), 0) FROM event_counters WHERE event_type = $1 AND user_id = $2`,
		int16(lake.VoiceActive), int64(user))
}

// Time nobody watched is not voice time. Two members are in voice for 10
// minutes; the shard's worker stops (SIGTERM) or is killed, one member
// leaves, and the shard starts again 8 hours later with a new session
// (nothing to resume): the member who left is paid the 10 minutes, the one
// still there the 10 minutes and the hour after the new start. Before, the
// 8 hours were paid to both.
func TestVoiceDowntimeIsNotPaid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		killed bool
	}{
		{name: "stopped"},
		{name: "killed", killed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			v := newVoiceGuild(t)
			stays, leaves := v.guild.Members[1], v.guild.Members[2]
			first := v.worker(t, 1, nil)
			require.NoError(t, v.sim.VoiceJoin(ctx, v.guild.ID, stays, v.channel))
			require.NoError(t, v.sim.VoiceJoin(ctx, v.guild.ID, leaves, v.channel))
			v.waitRows(t, lake.VoiceJoin, 2)
			v.clk.advance(10 * time.Minute)
			lastEvent := v.clk.now() // say a message came then: the checkpoint's last_event_at
			ghost := int64(1)        // the leave of the member who left while nobody watched
			if tc.killed {
				first.DropShard(ctx, 0, 1)
			} else {
				first.StopShard(ctx, 0, 1) // pays both stretches so far
				ghost++
			}

			require.NoError(t, v.sim.VoiceLeave(ctx, v.guild.ID, leaves))
			v.clk.advance(8 * time.Hour)
			resume := v.takeOver(t)
			resume.SessionID, resume.LastEventAt = "ended-by-discord", lastEvent
			v.worker(t, 2, &resume)
			require.Eventually(t, func() bool { // GUILD_CREATE was handled
				return countRows(t, v.db.Pool, `SELECT count(*) FROM event_lake WHERE event_type = $1 AND user_id = $2`,
					int16(lake.VoiceLeave), int64(leaves)) == ghost
			}, 20*time.Second, 10*time.Millisecond)
			v.clk.advance(time.Hour)
			require.NoError(t, v.sim.VoiceLeave(ctx, v.guild.ID, stays))
			require.Eventually(t, func() bool { return v.leftFor(t, stays) }, 20*time.Second, 10*time.Millisecond)
			require.EqualValues(t, 600, v.activeSeconds(t, leaves), "left while nobody watched: paid until last watched")
			require.EqualValues(t, 600+3600, v.activeSeconds(t, stays), "the 8 hours nobody watched are not paid")
		})
	}
}

// A worker is killed; its shard's next owner resumes the session, and
// Discord replays a leave that happened during the gap, without saying
// when. It was stamped when replayed, so a 2-hour gap was paid as voice
// time; it is paid up to when the gap began. A resume within seconds
// still pays the gap.
func TestReplayedVoiceLeaveDoesNotPayTheGap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		gap  time.Duration
		want int64
	}{
		{name: "two hours", gap: 2 * time.Hour, want: 600},
		{name: "seconds", gap: 20 * time.Second, want: 620},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			v := newVoiceGuild(t)
			member := v.guild.Members[1]
			first := v.worker(t, 1, nil)
			require.NoError(t, v.sim.VoiceJoin(ctx, v.guild.ID, member, v.channel))
			v.waitRows(t, lake.VoiceJoin, 1)
			v.clk.advance(10 * time.Minute)
			lastEvent := v.clk.now()
			first.DropShard(ctx, 0, 1) // killed: its session stays resumable

			require.NoError(t, v.sim.VoiceLeave(ctx, v.guild.ID, member))
			v.clk.advance(tc.gap)
			resume := v.takeOver(t)
			resume.LastEventAt = lastEvent
			v.worker(t, 2, &resume)
			v.waitRows(t, lake.VoiceLeave, 1)
			require.Equal(t, tc.want, v.activeSeconds(t, member))
		})
	}
}

// A member joins self-muted and self-deafened, unmutes a minute later,
// then the shard changes owner (a handover, or its worker is killed) and
// the member talks for an hour: not AFK. voice_sessions kept the state the
// stretch began with (a handover only moved its start), so the next owner
// restored the member as muted and deafened throughout and tagged the hour
// AFK.
func TestUnmutedMemberIsNotAFKAfterHandover(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		killed bool
	}{
		{name: "handover"},
		{name: "killed", killed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			v := newVoiceGuild(t)
			member, other := v.guild.Members[1], v.guild.Members[2]
			first := v.worker(t, 1, nil)
			require.NoError(t, v.sim.UpdateVoice(ctx, discordsim.VoiceUpdate{GuildID: v.guild.ID, UserID: member, ChannelID: v.channel, SelfMute: true, SelfDeaf: true}))
			v.waitRows(t, lake.VoiceJoin, 1)
			v.clk.advance(time.Minute)
			require.NoError(t, v.sim.VoiceSetSelf(ctx, v.guild.ID, member, false, false))
			require.NoError(t, v.sim.VoiceJoin(ctx, v.guild.ID, other, v.channel))
			v.waitRows(t, lake.VoiceJoin, 2) // the unmute, dispatched before, was handled
			if tc.killed {
				require.Eventually(t, func() bool {
					return countRows(t, v.db.Pool, `SELECT count(*) FROM voice_sessions WHERE user_id = $1 AND NOT muted_deaf`, int64(member)) == 1
				}, 20*time.Second, 10*time.Millisecond, "the open session records the unmute")
				first.DropShard(ctx, 0, 1)
			} else {
				first.StopShard(ctx, 0, 1)
			}

			resume := v.takeOver(t)
			v.worker(t, 2, &resume)
			v.clk.advance(time.Hour)
			require.NoError(t, v.sim.VoiceLeave(ctx, v.guild.ID, member))
			require.Eventually(t, func() bool { return v.leftFor(t, member) }, 20*time.Second, 10*time.Millisecond)
			require.Zero(t, countRows(t, v.db.Pool, `SELECT count(*) FROM event_lake WHERE event_type = $1 AND user_id = $2 AND flags & $3 <> 0`,
				int16(lake.VoiceLeave), int64(member), int16(lake.FlagAFK)), "talked: no stretch is AFK")
			require.EqualValues(t, 3660, v.activeSeconds(t, member))
		})
	}
}

// A stop returns once the voice leaves it writes are committed: the next
// owner restores voice_sessions as they left them. It waited only for the
// last dispatch's position, which the leaves reuse and which was committed
// already, so the next owner could restore the sessions as they were
// before the stop (or the leaves' checkpoint was refused under its newer
// lease, and the leaves were lost).
func TestStopReturnsWithItsVoiceLeavesCommitted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v := newVoiceGuild(t)
	member := v.guild.Members[1]
	w := v.worker(t, 1, nil)
	require.NoError(t, v.sim.VoiceJoin(ctx, v.guild.ID, member, v.channel))
	v.waitRows(t, lake.VoiceJoin, 1)
	v.clk.advance(10 * time.Minute)
	w.StopShard(ctx, 0, 1)
	require.EqualValues(t, 1, v.rows(t, lake.VoiceLeave), "the stop's leave is committed")
	open, err := lake.OpenVoiceSessions(ctx, v.db.Pool, []int64{int64(v.guild.ID)})
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.True(t, open[0].StartedAt.Equal(v.clk.now().Truncate(time.Microsecond)), "the next stretch starts at the stop")
}
