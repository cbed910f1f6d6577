package ledger

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Kind is what a transaction did.
type Kind string

// Transaction kinds.
const (
	KindCredit      Kind = "credit"       // issuer → member (mint)
	KindDebit       Kind = "debit"        // member → issuer (burn)
	KindTransfer    Kind = "transfer"     // member → member
	KindSpend       Kind = "spend"        // member → shop sink
	KindReversal    Kind = "reversal"     // negates another transaction's postings
	KindSeasonReset Kind = "season_reset" // seasonal balances → season reserve
)

// System accounts. Member accounts are Discord user ids (> 0); system
// accounts are negative and have no wallet row: their balance is derived
// from their postings (SystemBalance), so no batch ever locks them.
const (
	AccountIssuer        int64 = -1
	AccountShopSink      int64 = -2
	AccountSeasonReserve int64 = -3
)

// MaxAmount bounds one op so balances cannot overflow int64 in practice.
const MaxAmount int64 = 1 << 50

// MaxBatchOps bounds one ApplyBatch call (one database transaction).
const MaxBatchOps = 5000

// Op is one requested movement of value. Each op that succeeds becomes one
// transaction whose postings sum to zero.
type Op struct {
	Kind Kind
	// Key makes the op idempotent, tenant-wide: applying the same key again
	// returns the first result; the same key with other content is
	// ErrIdempotencyConflict. Derive it from what caused the op (the event
	// id and rule id, the interaction id), never from time.
	Key        string
	GuildID    int64
	CurrencyID int64 // ignored for reversals: the original's currencies apply
	// CurrencyCode names the currency by code in GuildID ("xp") when
	// CurrencyID is 0, as the rules engine does. The key's content is what
	// the caller sent: the same op by id and by code are different content.
	CurrencyCode string
	From         int64 // debit, transfer, spend: the member paying
	To           int64 // credit, transfer: the member receiving
	Amount       int64 // minor units, > 0; ignored for reversals
	Reverses     int64 // reversal: the transaction to compensate
	Reason       string
	Source       string // the event or rule that caused it, or "admin", "shop:<item>"
	Actor        string // who asked; not part of the idempotency content
}

// Posting is one signed movement on one account.
type Posting struct {
	CurrencyID int64 `json:"currency_id,string"`
	Account    int64 `json:"account,string"`
	Amount     int64 `json:"amount"`
	// BalanceAfter is the member wallet's balance right after this posting;
	// nil for system accounts, whose balance is derived.
	BalanceAfter *int64 `json:"balance_after,omitempty"`
}

// Result is the outcome of one op. Err is per op: one member's overdraft
// does not fail the other ops of a batch.
type Result struct {
	TransactionID int64     `json:"transaction_id,string"`
	Replayed      bool      `json:"replayed"` // the key was applied before; this is that first result
	Postings      []Posting `json:"postings"`
	Err           error     `json:"-"`
}

// BalanceOf is a member's balance after the transaction, if it posted to them.
func (r Result) BalanceOf(userID int64) (int64, bool) {
	for _, p := range r.Postings {
		if p.Account == userID && p.BalanceAfter != nil {
			return *p.BalanceAfter, true
		}
	}
	return 0, false
}

// Transaction is one journal entry with its postings.
type Transaction struct {
	ID        int64     `json:"id,string"`
	GuildID   int64     `json:"guild_id,string"`
	Key       string    `json:"idempotency_key"`
	Kind      Kind      `json:"kind"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	Source    string    `json:"source"`
	Reverses  int64     `json:"reverses,string,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Postings  []Posting `json:"postings"`
}

func (op *Op) validate() error {
	if op.Key == "" || len(op.Key) > 200 {
		return apperr.Invalid("key", "an idempotency key of 1 to 200 bytes is required")
	}
	if op.GuildID == 0 {
		return apperr.Invalid("guild_id", "required")
	}
	if op.Kind == KindReversal {
		if op.Reverses <= 0 {
			return apperr.Invalid("reverses", "the transaction to reverse is required")
		}
		return nil
	}
	if op.Amount <= 0 || op.Amount > MaxAmount {
		return apperr.Invalid("amount", "must be between 1 and %d minor units", MaxAmount)
	}
	if op.CurrencyID == 0 && op.CurrencyCode == "" {
		return apperr.Invalid("currency_id", "a currency id or code is required")
	}
	switch op.Kind {
	case KindCredit:
		return needMember("to", op.To)
	case KindDebit, KindSpend:
		return needMember("from", op.From)
	case KindTransfer:
		if err := needMember("from", op.From); err != nil {
			return err
		}
		if err := needMember("to", op.To); err != nil {
			return err
		}
		if op.From == op.To {
			return apperr.Invalid("to", "cannot transfer to oneself")
		}
		return nil
	default:
		return apperr.Invalid("kind", "unknown kind %q", op.Kind)
	}
}

func needMember(field string, id int64) error {
	if id <= 0 {
		return apperr.Invalid(field, "must be a member's user id")
	}
	return nil
}

// hash is the op's idempotency content: everything but the actor, so a
// retry from another worker still matches.
func (op *Op) hash() []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "v1\x00%s\x00%d\x00%d\x00%s\x00%d\x00%d\x00%d\x00%d\x00%s\x00%s",
		op.Kind, op.GuildID, op.CurrencyID, op.CurrencyCode, op.From, op.To, op.Amount, op.Reverses, op.Reason, op.Source))
	return h[:16]
}

// Apply applies one op in its own transaction; the op's error is returned.
func (l *Ledger) Apply(ctx context.Context, op Op) (Result, error) {
	rs, err := l.ApplyBatch(ctx, []Op{op})
	if err != nil {
		return Result{}, err
	}
	return rs[0], rs[0].Err
}

// Credit mints Amount from the issuer into To's wallet.
func (l *Ledger) Credit(ctx context.Context, op Op) (Result, error) {
	op.Kind = KindCredit
	return l.Apply(ctx, op)
}

// Debit burns Amount from From's wallet back to the issuer.
func (l *Ledger) Debit(ctx context.Context, op Op) (Result, error) {
	op.Kind = KindDebit
	return l.Apply(ctx, op)
}

// Transfer moves Amount from From to To; the currency must be transferable.
func (l *Ledger) Transfer(ctx context.Context, op Op) (Result, error) {
	op.Kind = KindTransfer
	return l.Apply(ctx, op)
}
