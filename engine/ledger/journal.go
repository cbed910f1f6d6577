package ledger

import (
	"context"
	"fmt"
	"time"
)

// JournalEntry is one posting to a member's wallet with its transaction,
// as the dashboard's activity feed shows it.
type JournalEntry struct {
	TransactionID int64     `json:"transaction_id,string"`
	Kind          Kind      `json:"kind"`
	UserID        int64     `json:"user_id,string"`
	CurrencyID    int64     `json:"currency_id,string"`
	Amount        int64     `json:"amount"`
	Reason        string    `json:"reason"`
	Source        string    `json:"source"`
	Actor         string    `json:"actor"`
	CreatedAt     time.Time `json:"created_at"`
}

// JournalQuery pages through a guild's journal, newest first.
type JournalQuery struct {
	BeforeTxID int64 // keyset paging: only transactions older than this
	Limit      int   // default 50, at most 200
}

// Journal lists the postings to members' wallets in a guild, newest
// transaction first; system accounts (issuer, sink, shop) are left out:
// the member side says what happened.
func (l *Ledger) Journal(ctx context.Context, guildID int64, q JournalQuery) ([]JournalEntry, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	if q.BeforeTxID <= 0 {
		q.BeforeTxID = 1<<63 - 1
	}
	// Transactions first (the primary key walked backwards), then their
	// member postings: the limit applies to transactions, so a transfer's
	// two sides stay on one page.
	rs, err := l.db.Pool.Query(ctx, `
		WITH tx AS (
			SELECT id, kind, reason, source, actor, created_at FROM ledger_transactions
			WHERE tenant_id = $1 AND guild_id = $2 AND id < $3
			ORDER BY id DESC LIMIT $4)
		SELECT tx.id, tx.kind, p.account, p.currency_id, p.amount, tx.reason, tx.source, tx.actor, tx.created_at
		FROM tx JOIN ledger_postings p ON p.tenant_id = $1 AND p.transaction_id = tx.id AND p.account > 0
		ORDER BY tx.id DESC, p.amount, p.account`, l.tenantID, guildID, q.BeforeTxID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer rs.Close()
	out := []JournalEntry{}
	for rs.Next() {
		var e JournalEntry
		if err := rs.Scan(&e.TransactionID, &e.Kind, &e.UserID, &e.CurrencyID, &e.Amount, &e.Reason, &e.Source, &e.Actor, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan journal: %w", err)
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// Supply is how much of a currency members hold.
type Supply struct {
	CurrencyID int64 `json:"currency_id,string"`
	Issued     int64 `json:"issued"`  // Σ member balances
	Holders    int64 `json:"holders"` // members with a positive balance
}

// Supplies sums every currency of a guild over its wallets (an index-only
// scan of the rank index per currency).
func (l *Ledger) Supplies(ctx context.Context, guildID int64) (map[int64]Supply, error) {
	rs, err := l.db.Pool.Query(ctx, `SELECT currency_id, COALESCE(sum(balance), 0)::bigint, count(*) FILTER (WHERE balance > 0)
		FROM ledger_wallets WHERE tenant_id = $1 AND guild_id = $2 GROUP BY currency_id`, l.tenantID, guildID)
	if err != nil {
		return nil, fmt.Errorf("read supplies: %w", err)
	}
	defer rs.Close()
	out := map[int64]Supply{}
	for rs.Next() {
		var s Supply
		if err := rs.Scan(&s.CurrencyID, &s.Issued, &s.Holders); err != nil {
			return nil, fmt.Errorf("scan supply: %w", err)
		}
		out[s.CurrencyID] = s
	}
	return out, rs.Err()
}
