package ledger_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/tenants"
)

func TestReverse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const alice, bob = 4001, 4002
	g := b.guild.ID

	award, err := b.led.Award(b.ctx, b.actor, ledger.Adjustment{Key: key("award"), GuildID: g, CurrencyID: b.gold.ID, UserID: alice, Amount: 50, Reason: "event winner"})
	require.NoError(t, err)
	spent := b.credit(t, b.gold, bob, 30)
	_, err = b.led.Transfer(b.ctx, ledger.Op{Key: key("t"), GuildID: g, CurrencyID: b.gold.ID, From: bob, To: alice, Amount: 30})
	require.NoError(t, err)

	t.Run("reversing the award takes it back and uncounts it from lifetime earnings", func(t *testing.T) {
		k := key("rev")
		rev, err := b.led.Reverse(b.ctx, b.actor, k, g, award.TransactionID, "awarded by mistake")
		require.NoError(t, err)
		require.Equal(t, int64(30), b.balance(t, b.gold, alice))
		w, err := b.led.Balance(b.ctx, g, b.gold.ID, alice)
		require.NoError(t, err)
		require.Equal(t, int64(0), w.LifetimeEarned)

		tx, err := b.led.Transaction(b.ctx, rev.TransactionID)
		require.NoError(t, err)
		require.Equal(t, ledger.KindReversal, tx.Kind)
		require.Equal(t, award.TransactionID, tx.Reverses)
		orig, err := b.led.Transaction(b.ctx, award.TransactionID)
		require.NoError(t, err)
		for i := range orig.Postings {
			orig.Postings[i].Amount = -orig.Postings[i].Amount
			orig.Postings[i].BalanceAfter = nil
		}
		for i := range tx.Postings {
			tx.Postings[i].BalanceAfter = nil
		}
		require.ElementsMatch(t, orig.Postings, tx.Postings, "a reversal negates every posting")

		again, err := b.led.Reverse(b.ctx, b.actor, k, g, award.TransactionID, "awarded by mistake")
		require.NoError(t, err, "the same key replays")
		require.True(t, again.Replayed)
	})
	t.Run("a transaction is reversed once", func(t *testing.T) {
		_, err := b.led.Reverse(b.ctx, b.actor, key("rev"), g, award.TransactionID, "again")
		require.ErrorIs(t, err, ledger.ErrAlreadyReversed)
	})
	t.Run("a reversal cannot be reversed", func(t *testing.T) {
		hist, err := b.led.History(b.ctx, g, alice, ledger.HistoryQuery{Limit: 1})
		require.NoError(t, err)
		require.Equal(t, ledger.KindReversal, hist[0].Kind)
		_, err = b.led.Reverse(b.ctx, b.actor, key("rev"), g, hist[0].TransactionID, "undo undo")
		require.ErrorIs(t, err, ledger.ErrNotReversible)
	})
	t.Run("a reversal that would overdraw is refused", func(t *testing.T) {
		// bob's 30 went to alice; taking bob's mint back would leave him at -30.
		_, err := b.led.Reverse(b.ctx, b.actor, key("rev"), g, spent.TransactionID, "fraud")
		require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
		require.Equal(t, int64(0), b.balance(t, b.gold, bob))
	})
	t.Run("unknown transaction", func(t *testing.T) {
		_, err := b.led.Reverse(b.ctx, b.actor, key("rev"), g, 1<<50, "nothing")
		require.ErrorIs(t, err, ledger.ErrUnknownTransaction)
	})
	t.Run("award and reversal are audited with balances before and after", func(t *testing.T) {
		entries, err := tenants.NewStore(b.db.Bun).ForTenant(b.led.TenantID()).Audit().List(b.ctx, tenants.AuditFilter{GuildID: &g})
		require.NoError(t, err)
		byAction := map[string]tenants.AuditEntry{}
		for _, e := range entries {
			byAction[e.Action] = e
		}
		require.Contains(t, byAction, "ledger.award")
		require.Contains(t, byAction, "ledger.reverse")
		var before, after struct {
			Balances []struct{ Balance int64 } `json:"balances"`
		}
		require.NoError(t, json.Unmarshal(byAction["ledger.reverse"].Before, &before))
		require.NoError(t, json.Unmarshal(byAction["ledger.reverse"].After, &after))
		require.Equal(t, int64(80), before.Balances[0].Balance)
		require.Equal(t, int64(30), after.Balances[0].Balance)
		require.Equal(t, "42", byAction["ledger.award"].Actor)
		n := 0
		for _, e := range entries {
			if e.Action == "ledger.reverse" {
				n++
			}
		}
		require.Equal(t, 1, n, "a replay writes no second audit entry")
	})
	requireInvariants(t, b.db)
}

// The journal is append-only and balanced whatever code writes to it.
func TestJournalIsAppendOnlyAndBalanced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.credit(t, b.gold, 5001, 10)
	cases := []struct {
		name string
		sql  string
	}{
		{"update a posting", `UPDATE ledger_postings SET amount = amount * 2`},
		{"delete a posting", `DELETE FROM ledger_postings`},
		{"update a transaction", `UPDATE ledger_transactions SET reason = 'rewritten'`},
		{"delete a transaction", `DELETE FROM ledger_transactions`},
		{"unbalanced postings", `INSERT INTO ledger_postings (tenant_id, transaction_id, guild_id, currency_id, account, amount)
			SELECT tenant_id, transaction_id, guild_id, currency_id, 777, 5 FROM ledger_postings LIMIT 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.db.Pool.Exec(b.ctx, tc.sql)
			require.Error(t, err)
		})
	}
	tx, err := b.led.Transaction(b.ctx, r.TransactionID)
	require.NoError(t, err)
	require.Len(t, tx.Postings, 2)
	require.Equal(t, int64(10), b.balance(t, b.gold, 5001))
	requireInvariants(t, b.db)

	t.Run("only a declared purge deletes", func(t *testing.T) {
		tx, err := b.db.Pool.Begin(b.ctx)
		require.NoError(t, err)
		defer tx.Rollback(b.ctx) //nolint:errcheck // rolled back on purpose
		_, err = tx.Exec(b.ctx, `SET LOCAL ledger.purge = 'on'`)
		require.NoError(t, err)
		_, err = tx.Exec(b.ctx, `DELETE FROM ledger_postings WHERE tenant_id = $1`, b.led.TenantID())
		require.NoError(t, err)
		var n int
		require.NoError(t, tx.QueryRow(b.ctx, `SELECT count(*) FROM ledger_postings`).Scan(&n))
		require.Zero(t, n)
	})
}
