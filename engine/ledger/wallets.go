package ledger

import (
	"context"
	"fmt"
	"time"
)

// Wallet is one member's holding of one currency. A member who never
// received anything has an implicit wallet with zero balance.
type Wallet struct {
	GuildID        int64     `json:"guild_id,string"`
	CurrencyID     int64     `json:"currency_id,string"`
	UserID         int64     `json:"user_id,string"`
	Balance        int64     `json:"balance"`
	LifetimeEarned int64     `json:"lifetime_earned"` // minted to the member, net of reversed mints; survives season resets
	Version        int64     `json:"version"`         // number of postings applied
	UpdatedAt      time.Time `json:"updated_at"`
}

// Balance returns a member's wallet in one currency (zero if never used).
// ErrUnknownCurrency if the currency is not this tenant's guild's.
func (l *Ledger) Balance(ctx context.Context, guildID, currencyID, userID int64) (Wallet, error) {
	if _, err := l.Currency(ctx, guildID, currencyID); err != nil {
		return Wallet{}, err
	}
	w := Wallet{GuildID: guildID, CurrencyID: currencyID, UserID: userID}
	err := l.db.Pool.QueryRow(ctx, `SELECT balance, lifetime_earned, version, updated_at FROM ledger_wallets
		WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 AND user_id = $4`,
		l.tenantID, guildID, currencyID, userID).Scan(&w.Balance, &w.LifetimeEarned, &w.Version, &w.UpdatedAt)
	if err != nil && !isNoRows(err) {
		return Wallet{}, fmt.Errorf("read wallet: %w", err)
	}
	return w, nil
}

// Wallets returns a member's wallets in every currency of the guild, in
// the guild's currency order, zero for currencies never used.
func (l *Ledger) Wallets(ctx context.Context, guildID, userID int64) ([]Wallet, error) {
	rs, err := l.db.Pool.Query(ctx, `SELECT c.id, COALESCE(w.balance, 0), COALESCE(w.lifetime_earned, 0),
			COALESCE(w.version, 0), COALESCE(w.updated_at, c.created_at)
		FROM ledger_currencies c
		LEFT JOIN ledger_wallets w ON w.tenant_id = c.tenant_id AND w.guild_id = c.guild_id AND w.currency_id = c.id AND w.user_id = $3
		WHERE c.tenant_id = $1 AND c.guild_id = $2
		ORDER BY c.is_primary DESC, c.id`, l.tenantID, guildID, userID)
	if err != nil {
		return nil, fmt.Errorf("read wallets: %w", err)
	}
	defer rs.Close()
	var out []Wallet
	for rs.Next() {
		w := Wallet{GuildID: guildID, UserID: userID}
		if err := rs.Scan(&w.CurrencyID, &w.Balance, &w.LifetimeEarned, &w.Version, &w.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan wallet: %w", err)
		}
		out = append(out, w)
	}
	return out, rs.Err()
}

// SystemBalance derives a system account's balance (AccountIssuer,
// AccountShopSink, AccountSeasonReserve) from its postings. The issuer's
// balance is minus everything in circulation. It reads every posting of the
// account: for dashboards and audits, not for hot paths.
func (l *Ledger) SystemBalance(ctx context.Context, guildID, currencyID, account int64) (int64, error) {
	var sum int64
	err := l.db.Pool.QueryRow(ctx, `SELECT COALESCE(sum(amount), 0)::bigint FROM ledger_postings
		WHERE tenant_id = $1 AND guild_id = $2 AND account = $3 AND currency_id = $4`,
		l.tenantID, guildID, account, currencyID).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("system balance: %w", err)
	}
	return sum, nil
}

// HistoryQuery pages through one account's postings, newest first.
type HistoryQuery struct {
	CurrencyID int64 // 0: every currency
	BeforeTxID int64 // keyset paging: only transactions older than this
	Limit      int   // default 25, at most 200
}

// Entry is one posting on the account with its transaction's details.
type Entry struct {
	TransactionID int64     `json:"transaction_id,string"`
	Kind          Kind      `json:"kind"`
	CurrencyID    int64     `json:"currency_id,string"`
	Amount        int64     `json:"amount"`
	BalanceAfter  *int64    `json:"balance_after,omitempty"`
	Reason        string    `json:"reason"`
	Source        string    `json:"source"`
	Actor         string    `json:"actor"`
	Reverses      int64     `json:"reverses,string,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// History lists an account's postings (a member's user id or a system
// account), newest first.
func (l *Ledger) History(ctx context.Context, guildID, account int64, q HistoryQuery) ([]Entry, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 25
	}
	rs, err := l.db.Pool.Query(ctx, `SELECT p.transaction_id, t.kind, p.currency_id, p.amount, p.balance_after,
			t.reason, t.source, t.actor, COALESCE(t.reverses_id, 0), t.created_at
		FROM ledger_postings p
		JOIN ledger_transactions t ON t.tenant_id = p.tenant_id AND t.id = p.transaction_id
		WHERE p.tenant_id = $1 AND p.guild_id = $2 AND p.account = $3
		  AND ($4::bigint = 0 OR p.currency_id = $4) AND ($5::bigint = 0 OR p.transaction_id < $5)
		ORDER BY p.transaction_id DESC, p.currency_id
		LIMIT $6`, l.tenantID, guildID, account, q.CurrencyID, q.BeforeTxID, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer rs.Close()
	var out []Entry
	for rs.Next() {
		var e Entry
		if err := rs.Scan(&e.TransactionID, &e.Kind, &e.CurrencyID, &e.Amount, &e.BalanceAfter,
			&e.Reason, &e.Source, &e.Actor, &e.Reverses, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan history: %w", err)
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// Transaction returns one journal entry with its postings.
func (l *Ledger) Transaction(ctx context.Context, id int64) (Transaction, error) {
	t := Transaction{ID: id}
	err := l.db.Pool.QueryRow(ctx, `SELECT guild_id, idempotency_key, kind, reason, actor, source, COALESCE(reverses_id, 0), created_at
		FROM ledger_transactions WHERE tenant_id = $1 AND id = $2`, l.tenantID, id).
		Scan(&t.GuildID, &t.Key, &t.Kind, &t.Reason, &t.Actor, &t.Source, &t.Reverses, &t.CreatedAt)
	if err != nil {
		return Transaction{}, lookupErr(err, ErrUnknownTransaction)
	}
	ps, err := l.loadPostings(ctx, pgxPool{l}, []int64{id})
	if err != nil {
		return Transaction{}, err
	}
	t.Postings = ps[id]
	return t, nil
}
