package tenants_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// GetMany returns what Get returns for each known member and nothing for
// users the guild never saw, nor for another tenant's members.
func TestMemberGetManyMatchesGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	a := tenanttest.Tenant(ctx, t, db, nil)
	b := tenanttest.Tenant(ctx, t, db, nil)
	ga := tenanttest.Guild(ctx, t, db, a.ID, nil)
	gb := tenanttest.Guild(ctx, t, db, b.ID, nil)
	joined := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alice := tenanttest.Member(ctx, t, db, ga, &tenanttest.MemberOpts{JoinedAt: joined, Roles: []int64{7, 8}, Flags: tenants.MemberDMOptOut})
	bot := tenanttest.Member(ctx, t, db, ga, &tenanttest.MemberOpts{Flags: tenants.MemberBot})
	bob := tenanttest.Member(ctx, t, db, gb, &tenanttest.MemberOpts{Roles: []int64{9}})
	const stranger = 424242
	members := tenants.NewStore(db).ForTenant(a.ID).Members()

	got, err := members.GetMany(ctx, ga.ID, []int64{alice.UserID, bot.UserID, bob.UserID, stranger, alice.UserID})
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, id := range []int64{alice.UserID, bot.UserID} {
		one, err := members.Get(ctx, ga.ID, id)
		require.NoError(t, err)
		require.Equal(t, one, got[id])
	}

	for name, guild := range map[string]int64{"B's guild": gb.ID, "A's guild": ga.ID} {
		t.Run("B's member in "+name, func(t *testing.T) {
			got, err := members.GetMany(ctx, guild, []int64{bob.UserID})
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
	t.Run("no users", func(t *testing.T) {
		got, err := members.GetMany(ctx, ga.ID, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})
}
