package ledger_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/ledger/levels"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

func TestCurrencyValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := levels.Polynomial(0, 1)
	cases := []struct {
		name  string
		c     ledger.Currency
		field string
	}{
		{"code with capitals", ledger.Currency{Code: "Gold", Name: "Gold"}, "code"},
		{"empty name", ledger.Currency{Code: "gems"}, "name"},
		{"too many decimals", ledger.Currency{Code: "gems", Name: "Gems", Decimals: 5}, "decimals"},
		{"curve that never levels", ledger.Currency{Code: "gems", Name: "Gems", LevelCurve: &bad}, "level_curve"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.c.GuildID = b.guild.ID
			_, err := b.led.CreateCurrency(b.ctx, b.actor, tc.c)
			var ve *apperr.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
		})
	}
	t.Run("duplicate code", func(t *testing.T) {
		t.Parallel()
		_, err := b.led.CreateCurrency(b.ctx, b.actor, ledger.Currency{GuildID: b.guild.ID, Code: "gold", Name: "More gold"})
		require.ErrorIs(t, err, apperr.ErrConflict)
	})
}

func TestCurrencyLimitAndPrimary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	for i := 3; i < ledger.MaxCurrenciesPerGuild; i++ {
		b.currency(t, ledger.Currency{Code: fmt.Sprintf("c%d", i), Name: "C"})
	}
	_, err := b.led.CreateCurrency(b.ctx, b.actor, ledger.Currency{GuildID: g, Code: "one_more", Name: "One more"})
	require.ErrorIs(t, err, apperr.ErrLimitExceeded)

	yes := true
	gold, err := b.led.UpdateCurrency(b.ctx, b.actor, g, b.gold.ID, ledger.CurrencyPatch{Primary: &yes})
	require.NoError(t, err)
	require.True(t, gold.Primary)
	xp, err := b.led.Currency(b.ctx, g, b.xp.ID)
	require.NoError(t, err)
	require.False(t, xp.Primary, "one primary currency per guild")
	cs, err := b.led.Currencies(b.ctx, g)
	require.NoError(t, err)
	require.Equal(t, "gold", cs[0].Code)
}

func TestCurrencyUpdateIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	name, no := "Coins", false
	curve := levels.Linear(500)
	curvePtr := &curve
	out, err := b.led.UpdateCurrency(b.ctx, tenants.Actor{ID: "77", RequestID: "r-9"}, g, b.gold.ID,
		ledger.CurrencyPatch{Name: &name, Transferable: &no, LevelCurve: &curvePtr})
	require.NoError(t, err)
	require.Equal(t, "Coins", out.Name)
	require.False(t, out.Transferable)
	require.Equal(t, int64(2), out.Level(1000).Level)

	entries, err := tenants.NewStore(b.db.Bun).ForTenant(b.led.TenantID()).Audit().List(b.ctx, tenants.AuditFilter{GuildID: &g})
	require.NoError(t, err)
	var upd *tenants.AuditEntry
	for i := range entries {
		if entries[i].Action == "ledger.currency.update" {
			upd = &entries[i]
		}
	}
	require.NotNil(t, upd)
	require.Equal(t, "77", upd.Actor)
	require.Equal(t, "r-9", upd.RequestID)
	var before, after ledger.Currency
	require.NoError(t, json.Unmarshal(upd.Before, &before))
	require.NoError(t, json.Unmarshal(upd.After, &after))
	require.Equal(t, "Gold", before.Name)
	require.True(t, before.Transferable)
	require.Equal(t, "Coins", after.Name)
	require.False(t, after.Transferable)

	t.Run("unknown currency", func(t *testing.T) {
		_, err := b.led.UpdateCurrency(b.ctx, b.actor, g, 1<<50, ledger.CurrencyPatch{Name: &name})
		require.ErrorIs(t, err, ledger.ErrUnknownCurrency)
	})
	t.Run("the transfer refusal follows the new setting", func(t *testing.T) {
		b.credit(t, b.gold, 1, 10)
		_, err := b.led.Transfer(b.ctx, ledger.Op{Key: key("t"), GuildID: g, CurrencyID: b.gold.ID, From: 1, To: 2, Amount: 1})
		require.ErrorIs(t, err, ledger.ErrNotTransferable)
	})
}

func TestHistory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	const alice, bob = 11, 12
	b.credit(t, b.gold, alice, 100)
	_, err := b.led.Transfer(b.ctx, ledger.Op{Key: key("h"), GuildID: g, CurrencyID: b.gold.ID, From: alice, To: bob, Amount: 30, Reason: "thanks"})
	require.NoError(t, err)
	b.credit(t, b.xp, alice, 5)

	all, err := b.led.History(b.ctx, g, alice, ledger.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	require.Equal(t, ledger.KindCredit, all[0].Kind) // newest first
	require.Equal(t, b.xp.ID, all[0].CurrencyID)
	require.Equal(t, ledger.KindTransfer, all[1].Kind)
	require.Equal(t, int64(-30), all[1].Amount)
	require.Equal(t, "thanks", all[1].Reason)
	require.Equal(t, int64(70), *all[1].BalanceAfter)

	gold, err := b.led.History(b.ctx, g, alice, ledger.HistoryQuery{CurrencyID: b.gold.ID, Limit: 1})
	require.NoError(t, err)
	require.Len(t, gold, 1)
	older, err := b.led.History(b.ctx, g, alice, ledger.HistoryQuery{CurrencyID: b.gold.ID, BeforeTxID: gold[0].TransactionID})
	require.NoError(t, err)
	require.Len(t, older, 1)
	require.Equal(t, ledger.KindCredit, older[0].Kind)

	issuer, err := b.led.History(b.ctx, g, ledger.AccountIssuer, ledger.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, issuer, 2, "system accounts have a history too")
	require.Nil(t, issuer[0].BalanceAfter)
}
