package ledger_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
)

// Two tenants in one schema: the ledger bound to A must neither see nor
// change B's currencies, wallets, transactions, seasons or shop, even when
// handed B's guild and ids.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	a := setup(t)
	bb := setupOn(t, a.db)
	const bob = 9001
	bTx := bb.credit(t, bb.gold, bob, 100)
	_, err := bb.led.PutShopItem(bb.ctx, bb.actor, ledger.ShopItem{GuildID: bb.guild.ID, Code: "coffee", Name: "Coffee", CurrencyID: bb.gold.ID, Price: 10})
	require.NoError(t, err)
	_, err = bb.led.StartSeason(bb.ctx, bb.actor, bb.guild.ID, "B's season")
	require.NoError(t, err)
	ctx, led, gB := a.ctx, a.led, bb.guild.ID

	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"currency by id", func() error { _, err := led.Currency(ctx, gB, bb.gold.ID); return err }, ledger.ErrUnknownCurrency},
		{"currency by code", func() error { _, err := led.CurrencyByCode(ctx, gB, "gold"); return err }, ledger.ErrUnknownCurrency},
		{"update currency", func() error {
			name := "stolen"
			_, err := led.UpdateCurrency(ctx, a.actor, gB, bb.gold.ID, ledger.CurrencyPatch{Name: &name})
			return err
		}, ledger.ErrUnknownCurrency},
		{"balance", func() error { _, err := led.Balance(ctx, gB, bb.gold.ID, bob); return err }, ledger.ErrUnknownCurrency},
		{"credit into B", func() error {
			_, err := led.Credit(ctx, ledger.Op{Key: key("x"), GuildID: gB, CurrencyID: bb.gold.ID, To: bob, Amount: 1})
			return err
		}, ledger.ErrUnknownCurrency},
		{"debit from B", func() error {
			_, err := led.Debit(ctx, ledger.Op{Key: key("x"), GuildID: gB, CurrencyID: bb.gold.ID, From: bob, Amount: 1})
			return err
		}, ledger.ErrUnknownCurrency},
		{"B's currency in A's guild", func() error {
			_, err := led.Credit(ctx, ledger.Op{Key: key("x"), GuildID: a.guild.ID, CurrencyID: bb.gold.ID, To: bob, Amount: 1})
			return err
		}, ledger.ErrUnknownCurrency},
		{"reverse B's transaction", func() error {
			_, err := led.Reverse(ctx, a.actor, key("x"), gB, bTx.TransactionID, "steal")
			return err
		}, ledger.ErrUnknownTransaction},
		{"read B's transaction", func() error { _, err := led.Transaction(ctx, bTx.TransactionID); return err }, ledger.ErrUnknownTransaction},
		{"leaderboard", func() error {
			_, err := led.Leaderboard(ctx, gB, bb.gold.ID, ledger.LeaderboardQuery{})
			return err
		}, ledger.ErrUnknownCurrency},
		{"buy in B's shop", func() error { _, err := led.Buy(ctx, gB, bob, "coffee", key("x")); return err }, ledger.ErrUnknownItem},
		{"end B's season", func() error { _, _, err := led.EndSeason(ctx, a.actor, gB); return err }, ledger.ErrNoOpenSeason},
		{"create a currency in B's guild", func() error {
			_, err := led.CreateCurrency(ctx, a.actor, ledger.Currency{GuildID: gB, Code: "fake", Name: "Fake"})
			return err
		}, nil}, // checked below: refused as not found
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.Error(t, err)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}

	t.Run("listings are empty", func(t *testing.T) {
		cs, err := led.Currencies(ctx, gB)
		require.NoError(t, err)
		require.Empty(t, cs)
		ws, err := led.Wallets(ctx, gB, bob)
		require.NoError(t, err)
		require.Empty(t, ws)
		h, err := led.History(ctx, gB, bob, ledger.HistoryQuery{})
		require.NoError(t, err)
		require.Empty(t, h)
		items, err := led.ShopItems(ctx, gB)
		require.NoError(t, err)
		require.Empty(t, items)
		ss, err := led.Seasons(ctx, gB)
		require.NoError(t, err)
		require.Empty(t, ss)
	})
	t.Run("B is untouched", func(t *testing.T) {
		require.Equal(t, int64(100), bb.balance(t, bb.gold, bob))
		c, err := bb.led.Currency(ctx, gB, bb.gold.ID)
		require.NoError(t, err)
		require.Equal(t, "Gold", c.Name)
		cs, err := bb.led.Currencies(ctx, gB)
		require.NoError(t, err)
		require.Len(t, cs, 3)
		ss, err := bb.led.Seasons(ctx, gB)
		require.NoError(t, err)
		require.Nil(t, ss[0].EndedAt)
	})
	t.Run("idempotency keys are per tenant", func(t *testing.T) {
		k := key("shared")
		_, err := bb.led.Credit(ctx, ledger.Op{Key: k, GuildID: gB, CurrencyID: bb.gold.ID, To: bob, Amount: 1})
		require.NoError(t, err)
		r, err := led.Credit(ctx, ledger.Op{Key: k, GuildID: a.guild.ID, CurrencyID: a.gold.ID, To: bob, Amount: 1})
		require.NoError(t, err)
		require.False(t, r.Replayed)
	})
	requireInvariants(t, a.db)
}
