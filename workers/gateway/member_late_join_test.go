package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A GUILD_MEMBER_ADD that arrives minutes after the join (a shard parked
// while the database stalled, or resumed after an outage, gets it in the
// replay) is a join, stored once however often it is replayed and by
// whichever process; an add repeated for a member the shard knows present
// with the same joined_at is not a second join.
func TestLateMemberJoinIsStoredOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	now := time.Now().UTC()
	// shard is one process's capture of the guild, its clock at now.
	shard := func() *shardRun {
		n := newNormalizer(func() time.Time { return now })
		e := &guildEntry{tenantID: tn.ID}
		e.capture.Store(&lake.CaptureSettings{})
		n.guilds[g.ID] = newGuildState(e)
		return &shardRun{norm: n, ctx: ctx, members: make(chan memberUpdate, 64), log: testenv.Logger(t)}
	}
	w := lake.NewWriter(db.Pool)
	seq := 0
	// deliver handles a dispatch as the read loop does and commits its rows.
	deliver := func(s *shardRun, ev gateway.EventData) []lake.Event {
		seq++
		events := s.norm.normalize(ev, seq)
		s.followDirectory(ev, now)
		_, err := w.Write(ctx, lake.Batch{Events: events})
		require.NoError(t, err)
		return events
	}
	member := func(user int64, joined time.Time) discord.Member {
		return discord.Member{GuildID: snowflake.ID(g.ID), User: discord.User{ID: snowflake.ID(user), Username: "m"}, JoinedAt: &joined}
	}
	add := func(user int64, joined time.Time) gateway.EventData {
		return gateway.EventGuildMemberAdd{Member: member(user, joined)}
	}
	joins := func(user int64) int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM event_lake WHERE guild_id = $1 AND user_id = $2 AND event_type = $3`,
			g.ID, user, int16(lake.MemberJoin)).Scan(&n))
		return n
	}

	first := shard()
	late := now.Add(-15 * time.Minute) // joined a quarter of an hour before the replay delivers it
	require.Len(t, deliver(first, add(42, late)), 1, "a late join is a join")
	require.Equal(t, 1, joins(42))
	require.Empty(t, deliver(first, add(42, late)), "replayed again to the same shard: known present")
	require.Equal(t, 1, joins(42))
	deliver(shard(), add(42, late)) // another worker took the shard over and got the replay too
	require.Equal(t, 1, joins(42), "stored once: same joined_at, same source id")

	// A member the shard knows present (a member list chunk) with the same
	// joined_at: Discord re-sending the add is no join.
	known := now.Add(-2 * 24 * time.Hour)
	deliver(first, gateway.EventGuildMembersChunk{GuildID: snowflake.ID(g.ID), Members: []discord.Member{member(43, known)}})
	require.Empty(t, deliver(first, add(43, known)))
	require.Zero(t, joins(43))

	// A member list chunk served just after a join can reach the shard
	// before the join's own add does: that add is still the join.
	fresh := now.Add(-time.Second)
	deliver(first, gateway.EventGuildMembersChunk{GuildID: snowflake.ID(g.ID), Members: []discord.Member{member(44, fresh)}})
	require.Len(t, deliver(first, add(44, fresh)), 1, "the add that trails a chunk is the join")
	require.Empty(t, deliver(first, add(44, fresh)), "its repeat is not")
	require.Equal(t, 1, joins(44))

	// Leaving and joining again (even late) is a new join.
	deliver(first, gateway.EventGuildMemberRemove{GuildID: snowflake.ID(g.ID), User: discord.User{ID: 42}})
	require.Len(t, deliver(first, add(42, now.Add(-12*time.Minute))), 1)
	require.Equal(t, 2, joins(42))
}
