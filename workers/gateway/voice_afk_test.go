package gateway_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A session spent self-muted and self-deafened is AFK all the way to the
// counters: voice_active (what voice-minute milestones read) holds only
// the member who talked.
func TestMutedDeafenedVoiceIsNotActiveVoice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	cfg := simConfig()
	cfg.Guilds, cfg.Shards, cfg.MembersPerGuild = 1, 1, 10
	sim := gatewaytest.Sim(t, cfg)
	clk := &stepClock{t: time.Now().UTC()}
	w, _ := gatewaytest.Capture(t, db, sim, gateway.Config{Now: clk.now})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	g := sim.Guilds()[0]
	general := g.Channels["General"]
	afkMember, talker := g.Members[1], g.Members[2]
	rows := func(typ lake.Type) int {
		return int(countRows(t, db.Pool, `SELECT count(*) FROM event_lake WHERE event_type = $1`, int16(typ)))
	}
	require.Eventually(t, func() bool {
		return countRows(t, db.Pool, `SELECT count(*) FROM guilds WHERE id = $1`, int64(g.ID)) == 1
	}, 10*time.Second, 20*time.Millisecond)

	require.NoError(t, sim.UpdateVoice(ctx, discordsim.VoiceUpdate{GuildID: g.ID, UserID: afkMember, ChannelID: general, SelfMute: true, SelfDeaf: true}))
	require.NoError(t, sim.VoiceJoin(ctx, g.ID, talker, general))
	require.Eventually(t, func() bool { return rows(lake.VoiceJoin) == 2 }, 10*time.Second, 20*time.Millisecond)
	clk.advance(40 * time.Minute)
	require.NoError(t, sim.VoiceLeave(ctx, g.ID, afkMember))
	require.NoError(t, sim.VoiceLeave(ctx, g.ID, talker))
	require.Eventually(t, func() bool { return rows(lake.VoiceLeave) == 2 }, 10*time.Second, 20*time.Millisecond)

	secs := func(user discordsim.ID) int64 {
		return countRows(t, db.Pool, `SELECT coalesce(sum(magnitude), 0) FROM event_counters WHERE event_type = $1 AND user_id = $2`, int16(lake.VoiceActive), int64(user))
	}
	require.EqualValues(t, 40*60, secs(talker))
	require.Zero(t, secs(afkMember), "muted and deafened throughout: AFK")
	require.EqualValues(t, 40*60, countRows(t, db.Pool, `SELECT magnitude FROM event_lake WHERE event_type = $1 AND user_id = $2 AND flags & $3 <> 0`,
		int16(lake.VoiceLeave), int64(afkMember), int16(lake.FlagAFK)), "the lake keeps the AFK session, flagged")
}

func countRows(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}
