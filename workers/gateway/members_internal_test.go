package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A directory batch goes in one transaction; when one of its updates
// fails (here: a member of a guild the directory does not know), the
// others are still applied, in order.
func TestDirectoryBatchSurvivesABadUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	s := &shardRun{w: &Worker{dir: NewDirectory(db)}, log: testenv.Logger(t)}
	member := func(guild, user int64) memberUpdate {
		joined := time.Now().UTC()
		return memberUpdate{tenantID: tn.ID, guildID: guild, at: joined,
			members: []discord.Member{{User: discord.User{ID: snowflake.ID(user), Username: "m"}, JoinedAt: &joined}}}
	}
	present := func() []int64 {
		var ids []int64
		require.NoError(t, db.Bun.NewSelect().Table("members").Column("user_id").
			Where("guild_id = ? AND left_at IS NULL", g.ID).Order("user_id").Scan(ctx, &ids))
		return ids
	}

	s.applyDirectory(ctx, []memberUpdate{member(g.ID, 1), member(g.ID, 2)})
	require.Equal(t, []int64{1, 2}, present())

	left := memberUpdate{tenantID: tn.ID, guildID: g.ID, left: 1, at: time.Now().UTC()}
	s.applyDirectory(ctx, []memberUpdate{left, member(g.ID+1, 7), member(g.ID, 3)})
	require.Equal(t, []int64{2, 3}, present(), "the leave and the other join applied despite the bad update")
}
