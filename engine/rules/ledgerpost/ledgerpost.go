// Package ledgerpost adapts the ledger's batched API to rules.LedgerPoster:
// the planned credits and debits of a batch of events become one
// ledger.ApplyBatch call per 5000 ops, keyed by the effects' idempotency
// keys.
package ledgerpost

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

// Poster posts rule effects to the ledger.
type Poster struct {
	ledger *ledger.Service
	logger *slog.Logger
}

var _ rules.LedgerPoster = (*Poster)(nil)

// New wraps the ledger service; logger may be nil.
func New(l *ledger.Service, logger *slog.Logger) *Poster {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poster{ledger: l, logger: logger}
}

// Post applies the credits and debits. A batch-level error (database down)
// is returned for the task to retry; the keys make the retry safe. Per-op
// refusals are not retried, they are logged: a replayed key (applied by an
// earlier run), the same key with another amount (a retried event whose
// amount read a balance the first run had already changed: the first
// amount stands), insufficient funds for a debit, or a currency the guild
// does not have.
func (p *Poster) Post(ctx context.Context, tenantID int64, credits []rules.Credit, debits []rules.Debit) error {
	ops := make([]ledger.Op, 0, len(credits)+len(debits))
	for _, c := range credits {
		ops = append(ops, ledger.Op{Kind: ledger.KindCredit, Key: c.IdempotencyKey(), GuildID: c.GuildID,
			CurrencyCode: c.Currency, To: c.UserID, Amount: c.Amount, Source: source(c.Origin)})
	}
	for _, d := range debits {
		ops = append(ops, ledger.Op{Kind: ledger.KindDebit, Key: d.IdempotencyKey(), GuildID: d.GuildID,
			CurrencyCode: d.Currency, From: d.UserID, Amount: d.Amount, Source: source(d.Origin)})
	}
	l := p.ledger.ForTenant(tenantID)
	for len(ops) > 0 {
		n := min(len(ops), ledger.MaxBatchOps)
		results, err := l.ApplyBatch(ctx, ops[:n])
		if err != nil {
			return err
		}
		for i, r := range results {
			if r.Err == nil {
				continue
			}
			op := ops[i]
			level := slog.LevelWarn
			if errors.Is(r.Err, ledger.ErrIdempotencyConflict) {
				level = slog.LevelInfo
			}
			var ve *apperr.ValidationError
			if !errors.As(r.Err, &ve) && !errors.Is(r.Err, apperr.ErrConflict) && !errors.Is(r.Err, apperr.ErrNotFound) {
				return r.Err // unexpected: retry the batch
			}
			p.logger.Log(ctx, level, "rule effect refused by the ledger", "tenant_id", tenantID, "guild_id", op.GuildID,
				"key", op.Key, "currency", op.CurrencyCode, "amount", op.Amount, "error", r.Err)
		}
		ops = ops[n:]
	}
	return nil
}

func source(o rules.Origin) string {
	return "rule:" + strconv.FormatInt(o.RuleID, 10) + ":v" + strconv.Itoa(o.RuleVersion)
}
