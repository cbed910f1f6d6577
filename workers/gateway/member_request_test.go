package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
)

func TestNeedsMemberList(t *testing.T) {
	t.Parallel()
	full := discord.GatewayGuild{Members: make([]discord.Member, 3)}
	full.MemberCount = 3
	partial := discord.GatewayGuild{Members: make([]discord.Member, 1)}
	partial.MemberCount = 40
	require.False(t, needsMemberList(full))
	require.True(t, needsMemberList(partial), "Discord without presences: only the bot and members in voice")
}

// A requested member list (op 8 → GUILD_MEMBERS_CHUNK) fills the members
// table with everyone's roles.
func TestRequestedMemberListFillsTheDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	log := testenv.Logger(t)
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 1, 25, 1
	cfg.IdentifyInterval = 10 * time.Millisecond
	sim, err := discordsim.New(cfg, log.With("component", "sim"))
	require.NoError(t, err)
	require.NoError(t, sim.Start(ctx))
	t.Cleanup(func() { _ = sim.Close() })
	reg := ops.NewRegistry()
	pipe := NewPipeline(DefaultPipelineConfig(), lake.NewWriter(db.Pool), log, reg)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); pipe.Run(ctx, stop) }()
	w := NewWorker(Config{Token: sim.Token(), GatewayURL: sim.GatewayURL()}, NewDirectory(db), pipe, log, reg)
	t.Cleanup(func() {
		w.StopAll(ctx)
		close(stop)
		<-done
	})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	g := sim.Guilds()[0]
	members := func() (n, withMemberRole int) {
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE roles @> ARRAY[$2::bigint]) FROM members WHERE guild_id = $1`,
			int64(g.ID), int64(g.Roles["Member"])).Scan(&n, &withMemberRole))
		return n, withMemberRole
	}
	require.Eventually(t, func() bool { n, _ := members(); return n > len(g.Members) }, 10*time.Second, 20*time.Millisecond)

	// As if GUILD_CREATE had listed nobody: the request brings everyone.
	_, err = db.Pool.Exec(ctx, `DELETE FROM members WHERE guild_id = $1`, int64(g.ID))
	require.NoError(t, err)
	w.mu.Lock()
	s := w.shards[[2]int{0, 1}]
	w.mu.Unlock()
	s.queueMemberRequest(int64(g.ID))
	require.Eventually(t, func() bool {
		n, with := members()
		return n == len(g.Members)+1 && with == len(g.Members) // the bot holds no role
	}, 10*time.Second, 20*time.Millisecond)
}
