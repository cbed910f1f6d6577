package ledgerpost

import (
	"context"
	"errors"
	"log/slog"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

// PostResults is Post that also returns the ledger's result of each
// credit, in the order of credits: the worker reads the balance a credit
// left (Result.BalanceOf) to see the levels it crossed. A replayed key
// carries its first application's result, so a retried task reads the
// same balances; a refused credit carries its Err.
//
// It applies the same ops with the same refusal policy as Post; Post could
// become PostResults without the results.
func (p *Poster) PostResults(ctx context.Context, tenantID int64, credits []rules.Credit, debits []rules.Debit) ([]ledger.Result, error) {
	ops := make([]ledger.Op, 0, len(credits)+len(debits))
	for _, c := range credits {
		ops = append(ops, ledger.Op{Kind: ledger.KindCredit, Key: c.IdempotencyKey(), GuildID: c.GuildID,
			CurrencyCode: c.Currency, To: c.UserID, Amount: c.Amount, Source: source(c.Origin)})
	}
	for _, d := range debits {
		ops = append(ops, ledger.Op{Kind: ledger.KindDebit, Key: d.IdempotencyKey(), GuildID: d.GuildID,
			CurrencyCode: d.Currency, From: d.UserID, Amount: d.Amount, Source: source(d.Origin)})
	}
	out := make([]ledger.Result, 0, len(ops))
	l := p.ledger.ForTenant(tenantID)
	for start := 0; start < len(ops); start += ledger.MaxBatchOps {
		batch := ops[start:min(start+ledger.MaxBatchOps, len(ops))]
		results, err := l.ApplyBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		for i, r := range results {
			if r.Err == nil {
				continue
			}
			if err := p.refused(ctx, tenantID, batch[i], r.Err); err != nil {
				return nil, err
			}
		}
		out = append(out, results...)
	}
	return out[:len(credits)], nil
}

// refused logs an op the ledger refused for good; an unexpected error is
// returned so the task retries the batch (its keys make that safe).
func (p *Poster) refused(ctx context.Context, tenantID int64, op ledger.Op, err error) error {
	var ve *apperr.ValidationError
	if !errors.As(err, &ve) && !errors.Is(err, apperr.ErrConflict) && !errors.Is(err, apperr.ErrNotFound) {
		return err
	}
	level := slog.LevelWarn
	if errors.Is(err, ledger.ErrIdempotencyConflict) {
		level = slog.LevelInfo
	}
	p.logger.Log(ctx, level, "rule effect refused by the ledger", "tenant_id", tenantID, "guild_id", op.GuildID,
		"key", op.Key, "currency", op.CurrencyCode, "amount", op.Amount, "error", err)
	return nil
}
