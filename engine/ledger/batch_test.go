package ledger_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/infra/apperr"
)

func TestSingleOps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const alice, bob = 1001, 1002
	b.credit(t, b.gold, alice, 100)
	b.credit(t, b.xp, alice, 100)
	other := setupOn(t, b.db) // another tenant in the same schema

	cases := []struct {
		name    string
		op      ledger.Op
		wantErr error
		alice   int64 // alice's gold afterwards
		bob     int64
	}{
		{"credit", ledger.Op{Kind: ledger.KindCredit, CurrencyID: b.gold.ID, To: bob, Amount: 5}, nil, 100, 5},
		{"debit", ledger.Op{Kind: ledger.KindDebit, CurrencyID: b.gold.ID, From: alice, Amount: 10}, nil, 90, 5},
		{"overdraft debit", ledger.Op{Kind: ledger.KindDebit, CurrencyID: b.gold.ID, From: bob, Amount: 6}, ledger.ErrInsufficientFunds, 90, 5},
		{"transfer", ledger.Op{Kind: ledger.KindTransfer, CurrencyID: b.gold.ID, From: alice, To: bob, Amount: 40}, nil, 50, 45},
		{"overdraft transfer", ledger.Op{Kind: ledger.KindTransfer, CurrencyID: b.gold.ID, From: alice, To: bob, Amount: 51}, ledger.ErrInsufficientFunds, 50, 45},
		{"transfer of xp", ledger.Op{Kind: ledger.KindTransfer, CurrencyID: b.xp.ID, From: alice, To: bob, Amount: 1}, ledger.ErrNotTransferable, 50, 45},
		{"spend of xp", ledger.Op{Kind: ledger.KindSpend, CurrencyID: b.xp.ID, From: alice, Amount: 1}, ledger.ErrNotSpendable, 50, 45},
		{"spend", ledger.Op{Kind: ledger.KindSpend, CurrencyID: b.gold.ID, From: alice, Amount: 20}, nil, 30, 45},
		{"to oneself", ledger.Op{Kind: ledger.KindTransfer, CurrencyID: b.gold.ID, From: alice, To: alice, Amount: 1}, apperr.ErrConflict, 30, 45},
		{"zero amount", ledger.Op{Kind: ledger.KindCredit, CurrencyID: b.gold.ID, To: alice, Amount: 0}, apperr.ErrConflict, 30, 45},
		{"no key", ledger.Op{Kind: ledger.KindCredit, CurrencyID: b.gold.ID, To: alice, Amount: 1}, apperr.ErrConflict, 30, 45},
		{"another tenant's currency", ledger.Op{Kind: ledger.KindCredit, CurrencyID: other.gold.ID, To: alice, Amount: 1}, ledger.ErrUnknownCurrency, 30, 45},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { // sequential: each case starts from the previous balances
			tc.op.GuildID = b.guild.ID
			if tc.name != "no key" {
				tc.op.Key = key("single")
			}
			res, err := b.led.Apply(b.ctx, tc.op)
			switch {
			case tc.wantErr == nil:
				require.NoError(t, err)
				require.NotZero(t, res.TransactionID)
				require.Len(t, res.Postings, 2)
			case tc.wantErr == apperr.ErrConflict: // stands for "a validation error"
				var ve *apperr.ValidationError
				require.ErrorAs(t, err, &ve)
			default:
				require.ErrorIs(t, err, tc.wantErr)
				require.Zero(t, res.TransactionID)
			}
			require.Equal(t, tc.alice, b.balance(t, b.gold, alice))
			require.Equal(t, tc.bob, b.balance(t, b.gold, bob))
		})
	}
	requireInvariants(t, b.db)
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, ledger.ErrInsufficientFunds, apperr.ErrConflict)
	require.ErrorIs(t, ledger.ErrIdempotencyConflict, apperr.ErrConflict)
	require.ErrorIs(t, ledger.ErrUnknownItem, apperr.ErrNotFound)
	require.ErrorIs(t, ledger.ErrUnknownCurrency, apperr.ErrNotFound)
	var ve *apperr.ValidationError
	require.ErrorAs(t, ledger.ErrNotTransferable, &ve)
	require.Equal(t, "currency", ve.Field)
	require.ErrorAs(t, ledger.ErrNotSpendable, &ve)
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const alice = 2001
	op := ledger.Op{Key: "event-1:rule-7", GuildID: b.guild.ID, CurrencyID: b.gold.ID, To: alice, Amount: 25, Reason: "message", Source: "rule:7"}

	first, err := b.led.Credit(b.ctx, op)
	require.NoError(t, err)
	require.False(t, first.Replayed)

	t.Run("same key same content replays the first result", func(t *testing.T) {
		again := op
		again.Actor = "another worker" // not part of the content
		second, err := b.led.Credit(b.ctx, again)
		require.NoError(t, err)
		require.True(t, second.Replayed)
		require.Equal(t, first.TransactionID, second.TransactionID)
		require.ElementsMatch(t, first.Postings, second.Postings)
		require.Equal(t, int64(25), b.balance(t, b.gold, alice))
	})
	t.Run("same key other content is a conflict", func(t *testing.T) {
		changed := op
		changed.Amount = 26
		_, err := b.led.Credit(b.ctx, changed)
		require.ErrorIs(t, err, ledger.ErrIdempotencyConflict)
		require.ErrorIs(t, err, apperr.ErrConflict)
		require.Equal(t, int64(25), b.balance(t, b.gold, alice))
	})
	t.Run("repeated keys inside one batch", func(t *testing.T) {
		k := key("dup")
		a := ledger.Op{Kind: ledger.KindCredit, Key: k, GuildID: b.guild.ID, CurrencyID: b.gold.ID, To: alice, Amount: 1}
		c := a
		c.Amount = 2
		rs, err := b.led.ApplyBatch(b.ctx, []ledger.Op{a, a, c})
		require.NoError(t, err)
		require.NoError(t, rs[0].Err)
		require.False(t, rs[0].Replayed)
		require.NoError(t, rs[1].Err)
		require.True(t, rs[1].Replayed)
		require.Equal(t, rs[0].TransactionID, rs[1].TransactionID)
		require.ErrorIs(t, rs[2].Err, ledger.ErrIdempotencyConflict)
		require.Equal(t, int64(26), b.balance(t, b.gold, alice))
	})
	t.Run("a failed op does not consume its key", func(t *testing.T) {
		k := key("later")
		spend := ledger.Op{Kind: ledger.KindDebit, Key: k, GuildID: b.guild.ID, CurrencyID: b.gold.ID, From: alice, Amount: 30}
		_, err := b.led.Apply(b.ctx, spend)
		require.ErrorIs(t, err, ledger.ErrInsufficientFunds)
		b.credit(t, b.gold, alice, 10)
		res, err := b.led.Apply(b.ctx, spend)
		require.NoError(t, err)
		require.False(t, res.Replayed)
		require.Equal(t, int64(6), b.balance(t, b.gold, alice))
	})
	requireInvariants(t, b.db)
}

// Ops in a batch apply in order; one member's overdraft fails only that op.
func TestBatchAppliesInOrderWithPerOpFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const alice, bob, carol = 3001, 3002, 3003
	g, gold := b.guild.ID, b.gold.ID
	ops := []ledger.Op{
		{Kind: ledger.KindCredit, Key: key("b"), GuildID: g, CurrencyID: gold, To: alice, Amount: 10},
		{Kind: ledger.KindTransfer, Key: key("b"), GuildID: g, CurrencyID: gold, From: alice, To: bob, Amount: 10}, // sees the credit above
		{Kind: ledger.KindDebit, Key: key("b"), GuildID: g, CurrencyID: gold, From: alice, Amount: 1},              // alice is empty now
		{Kind: ledger.KindCredit, Key: key("b"), GuildID: g, CurrencyID: b.xp.ID, To: carol, Amount: 7},
		{Kind: ledger.KindTransfer, Key: key("b"), GuildID: g, CurrencyID: b.debt.ID, From: carol, To: bob, Amount: 150}, // negative allowed
	}
	rs, err := b.led.ApplyBatch(b.ctx, ops)
	require.NoError(t, err)
	require.Len(t, rs, len(ops))
	require.NoError(t, rs[0].Err)
	require.NoError(t, rs[1].Err)
	require.ErrorIs(t, rs[2].Err, ledger.ErrInsufficientFunds)
	require.NoError(t, rs[3].Err)
	require.NoError(t, rs[4].Err)
	after, ok := rs[1].BalanceOf(bob)
	require.True(t, ok)
	require.Equal(t, int64(10), after)
	require.Equal(t, int64(0), b.balance(t, b.gold, alice))
	require.Equal(t, int64(10), b.balance(t, b.gold, bob))
	require.Equal(t, int64(-150), b.balance(t, b.debt, carol))
	require.Equal(t, int64(7), b.balance(t, b.xp, carol))

	issuer, err := b.led.SystemBalance(b.ctx, g, gold, ledger.AccountIssuer)
	require.NoError(t, err)
	require.Equal(t, int64(-10), issuer, "the issuer's balance is minus what it minted")
	requireInvariants(t, b.db)
}

func TestBatchTooLarge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.led.ApplyBatch(b.ctx, make([]ledger.Op, ledger.MaxBatchOps+1))
	var ve *apperr.ValidationError
	require.ErrorAs(t, err, &ve)
}

// The rules engine names currencies by code; codes resolve per guild.
func TestOpsByCurrencyCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := newGuild(t, b.db, b.led.TenantID())
	const alice = 12001
	ops := []ledger.Op{
		{Kind: ledger.KindCredit, Key: key("c"), GuildID: b.guild.ID, CurrencyCode: "xp", To: alice, Amount: 20},
		{Kind: ledger.KindCredit, Key: key("c"), GuildID: b.guild.ID, CurrencyCode: "gold", To: alice, Amount: 5},
		{Kind: ledger.KindCredit, Key: key("c"), GuildID: b.guild.ID, CurrencyCode: "diamonds", To: alice, Amount: 5},
		{Kind: ledger.KindCredit, Key: key("c"), GuildID: other.ID, CurrencyCode: "xp", To: alice, Amount: 5}, // no xp there
	}
	rs, err := b.led.ApplyBatch(b.ctx, ops)
	require.NoError(t, err)
	require.NoError(t, rs[0].Err)
	require.NoError(t, rs[1].Err)
	require.ErrorIs(t, rs[2].Err, ledger.ErrUnknownCurrency)
	require.ErrorIs(t, rs[3].Err, ledger.ErrUnknownCurrency)
	require.Equal(t, b.xp.ID, rs[0].Postings[0].CurrencyID)
	require.Equal(t, int64(20), b.balance(t, b.xp, alice))
	require.Equal(t, int64(5), b.balance(t, b.gold, alice))
	require.Zero(t, ops[0].CurrencyID, "the caller's ops are not modified")

	again, err := b.led.ApplyBatch(b.ctx, ops[:1])
	require.NoError(t, err)
	require.True(t, again[0].Replayed)
	require.Equal(t, rs[0].TransactionID, again[0].TransactionID)
	requireInvariants(t, b.db)
}

// Transaction ids follow application order, whatever the keys' order, so
// a member's history reads in the order their balance changed.
func TestTransactionIDsFollowApplicationOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const alice = 13001
	g, gold := b.guild.ID, b.gold.ID
	rs, err := b.led.ApplyBatch(b.ctx, []ledger.Op{
		{Kind: ledger.KindCredit, Key: "zz-" + key("o"), GuildID: g, CurrencyID: gold, To: alice, Amount: 10},
		{Kind: ledger.KindDebit, Key: "mm-" + key("o"), GuildID: g, CurrencyID: gold, From: alice, Amount: 4},
		{Kind: ledger.KindCredit, Key: "aa-" + key("o"), GuildID: g, CurrencyID: gold, To: alice, Amount: 1},
	})
	require.NoError(t, err)
	require.Less(t, rs[0].TransactionID, rs[1].TransactionID)
	require.Less(t, rs[1].TransactionID, rs[2].TransactionID)
	h, err := b.led.History(b.ctx, g, alice, ledger.HistoryQuery{})
	require.NoError(t, err)
	var after []int64
	for _, e := range h {
		after = append(after, *e.BalanceAfter)
	}
	require.Equal(t, []int64{7, 6, 10}, after, "newest first")
	requireInvariants(t, b.db)
}
