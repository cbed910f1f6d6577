package ledger_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/tenants"
)

func TestSeasons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	stars := b.currency(t, ledger.Currency{Code: "stars", Name: "Stars", Transferable: true, Seasonal: true})
	const alice, bob, carol = 6001, 6002, 6003

	_, _, err := b.led.EndSeason(b.ctx, b.actor, g)
	require.ErrorIs(t, err, ledger.ErrNoOpenSeason)

	s1, err := b.led.StartSeason(b.ctx, b.actor, g, "Spring")
	require.NoError(t, err)
	_, err = b.led.StartSeason(b.ctx, b.actor, g, "Overlap")
	require.ErrorIs(t, err, ledger.ErrSeasonOpen)

	b.credit(t, stars, alice, 30)
	b.credit(t, stars, bob, 50)
	b.credit(t, stars, carol, 30)
	b.credit(t, b.xp, alice, 500)

	ended, resets, err := b.led.EndSeason(b.ctx, b.actor, g)
	require.NoError(t, err)
	require.NotNil(t, ended.EndedAt)
	require.Len(t, resets, 1)
	require.Equal(t, stars.ID, resets[0].CurrencyID)
	require.Equal(t, int64(3), resets[0].Wallets)
	require.Equal(t, int64(110), resets[0].Total)

	t.Run("seasonal balances reset, lifetime kept, lifetime currencies untouched", func(t *testing.T) {
		w, err := b.led.Balance(b.ctx, g, stars.ID, bob)
		require.NoError(t, err)
		require.Zero(t, w.Balance)
		require.Equal(t, int64(50), w.LifetimeEarned)
		require.Equal(t, int64(500), b.balance(t, b.xp, alice))
		reserve, err := b.led.SystemBalance(b.ctx, g, stars.ID, ledger.AccountSeasonReserve)
		require.NoError(t, err)
		require.Equal(t, int64(110), reserve)
	})
	t.Run("the past season's leaderboard is still there", func(t *testing.T) {
		b.credit(t, stars, carol, 5) // the new period's activity must not leak into it
		top, err := b.led.Leaderboard(b.ctx, g, stars.ID, ledger.LeaderboardQuery{SeasonID: s1.ID})
		require.NoError(t, err)
		require.Equal(t, []ledger.Standing{
			{Rank: 1, UserID: bob, Balance: 50},
			{Rank: 2, UserID: alice, Balance: 30},
			{Rank: 2, UserID: carol, Balance: 30},
		}, top)
		me, err := b.led.Rank(b.ctx, g, stars.ID, carol, s1.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), me.Rank)
		live, err := b.led.Rank(b.ctx, g, stars.ID, carol, 0)
		require.NoError(t, err)
		require.Equal(t, int64(1), live.Rank)
		require.Equal(t, int64(5), live.Balance)
	})
	t.Run("a new season starts after the last one ended", func(t *testing.T) {
		s2, err := b.led.StartSeason(b.ctx, b.actor, g, "Summer")
		require.NoError(t, err)
		require.NotEqual(t, s1.ID, s2.ID)
		ss, err := b.led.Seasons(b.ctx, g)
		require.NoError(t, err)
		require.Len(t, ss, 2)
	})
	t.Run("start and end are audited", func(t *testing.T) {
		entries, err := tenants.NewStore(b.db.Bun).ForTenant(b.led.TenantID()).Audit().List(b.ctx, tenants.AuditFilter{GuildID: &g})
		require.NoError(t, err)
		actions := map[string]int{}
		for _, e := range entries {
			actions[e.Action]++
		}
		require.Equal(t, 2, actions["ledger.season.start"])
		require.Equal(t, 1, actions["ledger.season.end"])
	})
	requireInvariants(t, b.db)
}

// Ending a season while members keep earning (new and existing wallets)
// leaves the books, the snapshot and the rank buckets consistent.
func TestEndSeasonUnderConcurrentPostings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	stars := b.currency(t, ledger.Currency{Code: "stars", Name: "Stars", Transferable: true, Seasonal: true})
	for u := int64(1); u <= 50; u++ {
		b.credit(t, stars, u, u)
	}
	_, err := b.led.StartSeason(b.ctx, b.actor, g, "S1")
	require.NoError(t, err)

	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				var ops []ledger.Op
				for j := range 20 {
					u := int64(1 + (i*20+j+w*7)%120) // users above 50 are new wallets
					ops = append(ops, ledger.Op{Kind: ledger.KindCredit, Key: key("s"), GuildID: g, CurrencyID: stars.ID, To: u, Amount: 3})
				}
				if _, err := b.led.ApplyBatch(b.ctx, ops); err != nil {
					t.Errorf("batch: %v", err)
					return
				}
			}
		})
	}
	_, resets, err := b.led.EndSeason(b.ctx, b.actor, g)
	close(done)
	wg.Wait()
	require.NoError(t, err)
	require.Len(t, resets, 1)
	require.Positive(t, resets[0].Total)
	requireInvariants(t, b.db)
}
