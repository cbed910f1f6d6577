package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// A guild the bot joins while the database refuses to register it (here a
// trigger refuses new tenants, counting its refusals in a sequence, which
// no rollback undoes) is registered once the database accepts again,
// without a restart, and the messages posted in it meanwhile are captured:
// the shard holds the guild's GUILD_CREATE, parking as for a full buffer,
// and Discord replays what came after on resume.
func TestGuildJoinedWhileTheDatabaseRefusesIsRegisteredLater(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards = 2, 1
	cfg.HeartbeatInterval = 300 * time.Millisecond
	sim := gatewaytest.Sim(t, cfg)
	db := testenv.DB(t)
	reg := ops.NewRegistry()
	pcfg := gateway.DefaultPipelineConfig()
	pcfg.MaxBlock = 200 * time.Millisecond
	w, _ := gatewaytest.CaptureWith(t, db, sim, gateway.Config{}, gatewaytest.Options{Pipeline: pcfg, Registry: reg})
	known, joined := sim.Guilds()[0], sim.Guilds()[1]
	require.NoError(t, sim.RemoveBot(ctx, joined.ID)) // not in it yet: the database has never seen it
	registered := func(id discordsim.ID) bool {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM guilds WHERE id = $1 AND bot_left_at IS NULL`, int64(id)).Scan(&n))
		return n == 1
	}
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	require.Eventually(t, func() bool { return registered(known.ID) }, 10*time.Second, 10*time.Millisecond)

	_, err := db.Pool.Exec(ctx, `
		CREATE SEQUENCE refusals;
		CREATE FUNCTION refuse_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM nextval('refusals');
			RAISE EXCEPTION 'tenants are refused for now';
		END $$;
		CREATE TRIGGER refuse BEFORE INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION refuse_tenant();`)
	require.NoError(t, err)
	refusals := func() int64 {
		var n int64
		var called bool
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT last_value, is_called FROM refusals`).Scan(&n, &called))
		if !called {
			return 0
		}
		return n
	}

	require.NoError(t, sim.AddBot(ctx, joined.ID))
	for i := range 10 {
		for _, g := range []discordsim.GuildInfo{joined, known} {
			_, err := sim.SendMessage(ctx, discordsim.MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1+i%5], Content: "while the guild is not registered"})
			require.NoError(t, err)
		}
	}
	require.Eventually(t, func() bool { return refusals() >= 3 }, 20*time.Second, 10*time.Millisecond, "registration retried")
	require.False(t, registered(joined.ID))
	_, err = db.Pool.Exec(ctx, `DROP TRIGGER refuse ON tenants`)
	require.NoError(t, err)

	require.Eventually(t, func() bool { return registered(joined.ID) }, 20*time.Second, 10*time.Millisecond)
	exp := gateway.ExpectFromGroundTruth(sim.GroundTruth())
	require.Equal(t, 20, exp.ByType[lake.MessageCreate])
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 20 }, 20*time.Second, 20*time.Millisecond)
	var perGuild int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM event_lake WHERE guild_id = $1 AND event_type = $2`,
		int64(joined.ID), int16(lake.MessageCreate)).Scan(&perGuild))
	require.Equal(t, 10, perGuild, "the new guild's messages, posted while it could not be registered")
	var status string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT t.status FROM tenants t JOIN guilds g ON g.tenant_id = t.id WHERE g.id = $1`, int64(joined.ID)).Scan(&status))
	require.Equal(t, "unclaimed", status, "a tenant of its own")
	require.Equal(t, exp.ByType, lakeCounts(t, db), "every event stored once")
	// Held for longer than MaxBlock, the shard parked and resumed its session.
	require.Eventually(t, func() bool { return sim.Stats().Resumes == 1 }, 10*time.Second, 10*time.Millisecond, "the session was resumed")
	st := sim.Stats()
	require.Equal(t, 1, st.Identifies.Total-st.Identifies.Remaining, "one session: never identified again")
}
