package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// A guild the bot was removed from while no session of its shard was
// connected gets no GUILD_DELETE: the next session's READY no longer
// lists it, and the shard marks it left then.
func TestGuildLeftWhileAwayIsMarkedLeftAtReady(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards = 2, 1
	sim := gatewaytest.Sim(t, cfg)
	db := testenv.DB(t)
	present := func() map[int64]bool {
		rows, err := db.Pool.Query(ctx, "SELECT id, bot_left_at IS NULL FROM guilds")
		require.NoError(t, err)
		defer rows.Close()
		out := map[int64]bool{}
		for rows.Next() {
			var id int64
			var in bool
			require.NoError(t, rows.Scan(&id, &in))
			out[id] = in
		}
		require.NoError(t, rows.Err())
		return out
	}
	first, _ := gatewaytest.Capture(t, db, sim, gateway.Config{})
	require.NoError(t, first.StartShard(ctx, 0, 1, 0, nil))
	require.Eventually(t, func() bool { return len(present()) == 2 }, 10*time.Second, 20*time.Millisecond)
	first.StopShard(ctx, 0, 1)

	kept, removed := sim.Guilds()[0].ID, sim.Guilds()[1].ID
	require.NoError(t, sim.RemoveBot(ctx, removed))
	next, _ := gatewaytest.Capture(t, db, sim, gateway.Config{})
	require.NoError(t, next.StartShard(ctx, 0, 1, 0, nil)) // a new session: READY lists what the bot is in
	require.Eventually(t, func() bool { return !present()[int64(removed)] }, 10*time.Second, 20*time.Millisecond)
	require.True(t, present()[int64(kept)])
}
