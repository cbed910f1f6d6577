package ledger_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/infra/apperr"
)

func TestShop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	const alice = 7001
	coffee, err := b.led.PutShopItem(b.ctx, b.actor, ledger.ShopItem{GuildID: g, Code: "coffee", Name: "Coffee", CurrencyID: b.gold.ID, Price: 50})
	require.NoError(t, err)
	require.True(t, coffee.Active)
	_, err = b.led.PutShopItem(b.ctx, b.actor, ledger.ShopItem{GuildID: g, Code: "xp-boost", Name: "Boost", CurrencyID: b.xp.ID, Price: 5})
	require.ErrorIs(t, err, ledger.ErrNotSpendable, "items are priced in spendable currencies")
	b.credit(t, b.gold, alice, 120)

	cases := []struct {
		name    string
		code    string
		wantErr error
		left    int64
	}{
		{"buy", "coffee", nil, 70},
		{"buy again", "coffee", nil, 20},
		{"insufficient funds", "coffee", ledger.ErrInsufficientFunds, 20},
		{"unknown item", "espresso", ledger.ErrUnknownItem, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := b.led.Buy(b.ctx, g, alice, tc.code, key("buy"))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				after, ok := p.Result.BalanceOf(alice)
				require.True(t, ok)
				require.Equal(t, tc.left, after)
			}
			require.Equal(t, tc.left, b.balance(t, b.gold, alice))
		})
	}
	t.Run("the price lands in the shop sink", func(t *testing.T) {
		sink, err := b.led.SystemBalance(b.ctx, g, b.gold.ID, ledger.AccountShopSink)
		require.NoError(t, err)
		require.Equal(t, int64(100), sink)
	})
	t.Run("a currency made unspendable stops purchases", func(t *testing.T) {
		no := false
		_, err := b.led.UpdateCurrency(b.ctx, b.actor, g, b.gold.ID, ledger.CurrencyPatch{Spendable: &no})
		require.NoError(t, err)
		_, err = b.led.Buy(b.ctx, g, alice, "coffee", key("buy"))
		require.ErrorIs(t, err, ledger.ErrNotSpendable)
		var ve *apperr.ValidationError
		require.ErrorAs(t, err, &ve)
	})
	t.Run("removed items cannot be bought", func(t *testing.T) {
		require.NoError(t, b.led.RemoveShopItem(b.ctx, b.actor, g, "coffee"))
		_, err := b.led.Buy(b.ctx, g, alice, "coffee", key("buy"))
		require.ErrorIs(t, err, ledger.ErrUnknownItem)
		items, err := b.led.ShopItems(b.ctx, g)
		require.NoError(t, err)
		require.Empty(t, items)
	})
	requireInvariants(t, b.db)
}

func TestPresets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		preset   string
		primary  string
		decimals int16
		items    []string
	}{
		{ledger.PresetClassic, "xp", 0, []string{"coffee", "shoutout", "custom-role"}},
		{ledger.PresetNonprofit, "hours", 2, []string{"coffee", "thank-you-card"}},
	}
	for _, tc := range cases {
		t.Run(tc.preset, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			g := newGuild(t, b.db, b.led.TenantID()) // a guild without the fixture's currencies
			for range 2 {                            // installing twice changes nothing
				_, err := b.led.InstallPreset(b.ctx, b.actor, g.ID, tc.preset)
				require.NoError(t, err)
			}
			cs, err := b.led.Currencies(b.ctx, g.ID)
			require.NoError(t, err)
			require.Len(t, cs, len(ledger.Presets()[tc.preset].Currencies))
			require.Equal(t, tc.primary, cs[0].Code)
			require.True(t, cs[0].Primary)
			require.Equal(t, tc.decimals, cs[0].Decimals)
			require.NotNil(t, cs[0].LevelCurve)
			items, err := b.led.ShopItems(b.ctx, g.ID)
			require.NoError(t, err)
			var codes []string
			for _, it := range items {
				codes = append(codes, it.Code)
			}
			require.ElementsMatch(t, tc.items, codes)

			// The primary currency works end to end: earn, level, buy coffee.
			const member = 8001
			_, err = b.led.Award(b.ctx, b.actor, ledger.Adjustment{Key: key("p"), GuildID: g.ID, CurrencyID: cs[0].ID, UserID: member, Amount: 2550})
			require.NoError(t, err)
			p, err := b.led.Profile(b.ctx, g.ID, member)
			require.NoError(t, err)
			h, ok := p.Primary()
			require.True(t, ok)
			require.Equal(t, int64(1), h.Rank)
			require.NotNil(t, h.Level)
			require.Positive(t, h.Level.Level)
			coffee, err := b.led.ShopItem(b.ctx, g.ID, "coffee")
			require.NoError(t, err)
			spendable, err := b.led.Currency(b.ctx, g.ID, coffee.CurrencyID)
			require.NoError(t, err)
			_, err = b.led.Award(b.ctx, b.actor, ledger.Adjustment{Key: key("p"), GuildID: g.ID, CurrencyID: spendable.ID, UserID: member, Amount: coffee.Price})
			require.NoError(t, err)
			_, err = b.led.Buy(b.ctx, g.ID, member, "coffee", key("coffee"))
			require.NoError(t, err)
		})
	}
	t.Run("an operator's changes survive a reinstall", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		g := newGuild(t, b.db, b.led.TenantID())
		cs, err := b.led.InstallPreset(b.ctx, b.actor, g.ID, ledger.PresetClassic)
		require.NoError(t, err)
		name := "Experience"
		_, err = b.led.UpdateCurrency(b.ctx, b.actor, g.ID, cs[0].ID, ledger.CurrencyPatch{Name: &name})
		require.NoError(t, err)
		_, err = b.led.InstallPreset(b.ctx, b.actor, g.ID, ledger.PresetClassic)
		require.NoError(t, err)
		c, err := b.led.Currency(b.ctx, g.ID, cs[0].ID)
		require.NoError(t, err)
		require.Equal(t, "Experience", c.Name)
	})
	t.Run("unknown preset", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.led.InstallPreset(b.ctx, b.actor, b.guild.ID, "casino")
		var ve *apperr.ValidationError
		require.ErrorAs(t, err, &ve)
	})
}
