package ledger

import (
	"context"
	"fmt"
)

// planReversals loads the transactions to reverse and plans their negated
// postings. Reversals, season resets and transactions already reversed
// (before or earlier in this batch) are refused.
func (b *batch) planReversals(ctx context.Context, db dbtx) error {
	var ids []int64
	for _, i := range b.pending {
		if b.ops[i].Kind == KindReversal {
			ids = append(ids, b.ops[i].Reverses)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	type orig struct {
		guild    int64
		kind     Kind
		reversed bool
		postings []plannedPosting
	}
	origs := map[int64]*orig{}
	rs, err := db.query(ctx, `SELECT t.id, t.guild_id, t.kind,
			EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.tenant_id = t.tenant_id AND r.reverses_id = t.id)
		FROM ledger_transactions t WHERE t.tenant_id = $1 AND t.id = ANY($2)`, b.l.tenantID, ids)
	if err != nil {
		return fmt.Errorf("load reversed transactions: %w", err)
	}
	for rs.Next() {
		var id int64
		o := &orig{}
		if err := rs.Scan(&id, &o.guild, &o.kind, &o.reversed); err != nil {
			rs.Close()
			return fmt.Errorf("scan reversed transaction: %w", err)
		}
		origs[id] = o
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read reversed transactions: %w", err)
	}
	rs, err = db.query(ctx, `SELECT transaction_id, currency_id, account, amount FROM ledger_postings
		WHERE tenant_id = $1 AND transaction_id = ANY($2) ORDER BY transaction_id, currency_id, account`, b.l.tenantID, ids)
	if err != nil {
		return fmt.Errorf("load reversed postings: %w", err)
	}
	for rs.Next() {
		var id int64
		var p plannedPosting
		if err := rs.Scan(&id, &p.currency, &p.account, &p.amount); err != nil {
			rs.Close()
			return fmt.Errorf("scan reversed posting: %w", err)
		}
		if o := origs[id]; o != nil {
			if o.kind == KindCredit && p.account > 0 {
				p.earned = -p.amount
			}
			p.amount = -p.amount
			o.postings = append(o.postings, p)
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read reversed postings: %w", err)
	}
	reversing := map[int64]bool{}
	for _, i := range b.pending {
		op := &b.ops[i]
		if op.Kind != KindReversal {
			continue
		}
		o := origs[op.Reverses]
		switch {
		case o == nil || o.guild != op.GuildID:
			b.res[i].Err = ErrUnknownTransaction
		case o.kind == KindReversal || o.kind == KindSeasonReset:
			b.res[i].Err = ErrNotReversible
		case o.reversed || reversing[op.Reverses]:
			b.res[i].Err = ErrAlreadyReversed
		default:
			reversing[op.Reverses] = true
			b.plans[i] = o.postings
		}
	}
	b.dropDone()
	return nil
}
