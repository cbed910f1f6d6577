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
