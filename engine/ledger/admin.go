package ledger

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/tenants"
)

// Adjustment is an admin's award or deduction (/award, /deduct).
type Adjustment struct {
	Key        string // e.g. the interaction id
	GuildID    int64
	CurrencyID int64
	UserID     int64
	Amount     int64
	Reason     string
}

// Award credits a member on an admin's say, audited with the balance
// before and after in the same transaction.
func (l *Ledger) Award(ctx context.Context, actor tenants.Actor, a Adjustment) (Result, error) {
	op := Op{Kind: KindCredit, Key: a.Key, GuildID: a.GuildID, CurrencyID: a.CurrencyID, To: a.UserID,
		Amount: a.Amount, Reason: a.Reason, Source: "admin", Actor: actor.ID}
	return l.applyAudited(ctx, actor, op, "ledger.award")
}

// Deduct debits a member on an admin's say, audited; it is refused with
// ErrInsufficientFunds like any debit unless the currency allows negatives.
func (l *Ledger) Deduct(ctx context.Context, actor tenants.Actor, a Adjustment) (Result, error) {
	op := Op{Kind: KindDebit, Key: a.Key, GuildID: a.GuildID, CurrencyID: a.CurrencyID, From: a.UserID,
		Amount: a.Amount, Reason: a.Reason, Source: "admin", Actor: actor.ID}
	return l.applyAudited(ctx, actor, op, "ledger.deduct")
}

// Reverse records a compensating transaction that negates every posting of
// transaction txID; nothing is updated or deleted. A transaction is reversed
// at most once; reversals and season resets cannot be reversed; a reversal
// that would overdraw a member (they spent the credit) is refused with
// ErrInsufficientFunds unless the currency allows negatives.
func (l *Ledger) Reverse(ctx context.Context, actor tenants.Actor, key string, guildID, txID int64, reason string) (Result, error) {
	op := Op{Kind: KindReversal, Key: key, GuildID: guildID, Reverses: txID, Reason: reason, Source: "admin", Actor: actor.ID}
	return l.applyAudited(ctx, actor, op, "ledger.reverse")
}

// applyAudited applies one op and writes its audit entry in the same
// transaction. A replay writes no second entry: nothing changed.
func (l *Ledger) applyAudited(ctx context.Context, actor tenants.Actor, op Op, action string) (Result, error) {
	var res Result
	err := l.inBunTx(ctx, func(ctx context.Context, tx bun.Tx, db dbtx) error {
		rs, err := l.apply(ctx, db, []Op{op})
		if err != nil {
			return err
		}
		res = rs[0]
		if res.Err != nil || res.Replayed {
			return nil
		}
		before, after := balancesAround(res.Postings)
		return l.audit(tx).Record(ctx, tenants.AuditEntry{
			GuildID: &op.GuildID, Actor: actor.ID, RequestID: actor.RequestID, Action: action,
			Target: "transaction:" + strconv.FormatInt(res.TransactionID, 10),
			Before: mustJSON(map[string]any{"balances": before}),
			After:  mustJSON(map[string]any{"balances": after, "transaction": res, "reason": op.Reason, "reverses": op.Reverses}),
		})
	})
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", action, err)
	}
	return res, res.Err
}

// auditBalance is one member wallet's balance in an audit entry.
type auditBalance struct {
	UserID     int64 `json:"user_id,string"`
	CurrencyID int64 `json:"currency_id,string"`
	Balance    int64 `json:"balance"`
}

// balancesAround derives member balances before and after from postings.
func balancesAround(ps []Posting) (before, after []auditBalance) {
	for _, p := range ps {
		if p.BalanceAfter == nil {
			continue
		}
		before = append(before, auditBalance{p.Account, p.CurrencyID, *p.BalanceAfter - p.Amount})
		after = append(after, auditBalance{p.Account, p.CurrencyID, *p.BalanceAfter})
	}
	return before, after
}
