package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/stretchr/testify/require"

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
	sim, w := oneShardCapture(t, db, 25)
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	g := sim.Guilds()[0]
	members := func() (n, withMemberRole int) {
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE roles @> ARRAY[$2::bigint]) FROM members WHERE guild_id = $1`,
			int64(g.ID), int64(g.Roles["Member"])).Scan(&n, &withMemberRole))
		return n, withMemberRole
	}
	require.Eventually(t, func() bool { n, _ := members(); return n > len(g.Members) }, 10*time.Second, 20*time.Millisecond)

	// As if GUILD_CREATE had listed nobody: the request brings everyone.
	_, err := db.Pool.Exec(ctx, `DELETE FROM members WHERE guild_id = $1`, int64(g.ID))
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
