package ledger_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// WalletsOf returns, for each user asked for, what Wallets returns for
// them, and nothing of another tenant's guild.
func TestWalletsOfMatchesWallets(t *testing.T) {
	t.Parallel()
	a := setup(t)
	bb := setupOn(t, a.db)
	const alice, bob, carol = 101, 102, 103 // carol never received anything
	a.credit(t, a.xp, alice, 30)
	a.credit(t, a.gold, alice, 5)
	a.credit(t, a.gold, bob, 7)
	bb.credit(t, bb.gold, alice, 1000) // the same user in B's guild

	users := []int64{alice, bob, carol, alice}
	got, err := a.led.WalletsOf(a.ctx, a.guild.ID, users)
	require.NoError(t, err)
	require.Len(t, got, 3)
	for _, u := range users {
		one, err := a.led.Wallets(a.ctx, a.guild.ID, u)
		require.NoError(t, err)
		require.Len(t, one, 3)
		require.Equal(t, one, got[u], "user %d", u)
	}

	t.Run("another tenant's guild", func(t *testing.T) {
		got, err := a.led.WalletsOf(a.ctx, bb.guild.ID, []int64{alice, bob})
		require.NoError(t, err)
		require.Empty(t, got)
	})
	t.Run("no users", func(t *testing.T) {
		got, err := a.led.WalletsOf(a.ctx, a.guild.ID, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})
}
