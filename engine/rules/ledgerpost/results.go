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
// Once every op is through, each rule run (a rule version on one event)
// whose ops the ledger answered is reported to the poster's reporter, in
// order: refused if the ledger refused one of its ops for good (see
// refusal), applied if it applied (or had applied) one and refused none.
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
	if p.reporter != nil {
		if runs := outcomes(credits, debits, out); len(runs) > 0 {
			p.reporter.ReportEffects(ctx, tenantID, rules.SinkLedger, runs)
		}
	}
	return out[:len(credits)], nil
}

// refusal classifies an op the ledger did not apply:
//   - a currency the guild does not have (deleted after the rule was
//     saved) or an op the ledger finds invalid (an amount out of range)
//     is the rule's fault and refused for good: counted as its failure;
//   - a conflict is not the rule's fault, and no success either: the same
//     key with another amount (a retried event whose amount read a
//     balance the first run had already changed: the first amount stands),
//     or insufficient funds for a debit (the member's balance, not the
//     rule);
//   - anything else is unexpected (transient, say): the task retries the
//     batch, its keys make that safe, and nothing is counted.
type refusal int

const (
	unexpected refusal = iota
	ruleFault
	notRuleFault
)

func classify(err error) refusal {
	var ve *apperr.ValidationError
	switch {
	case errors.Is(err, apperr.ErrConflict):
		return notRuleFault
	case errors.As(err, &ve), errors.Is(err, apperr.ErrNotFound):
		return ruleFault
	}
	return unexpected
}

// refused logs an op the ledger refused for good; an unexpected error is
// returned so the task retries the batch.
func (p *Poster) refused(ctx context.Context, tenantID int64, op ledger.Op, err error) error {
	kind := classify(err)
	if kind == unexpected {
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

// runKey is one rule run: a rule version on one event.
type runKey struct {
	guild, rule int64
	version     int
	event       string
	source      int64
}

// outcomes folds the results of the ops (credits then debits, as posted)
// into one outcome per rule run, in order of the runs' first op. Effects
// no rule planned (a fixed key) are left out.
func outcomes(credits []rules.Credit, debits []rules.Debit, results []ledger.Result) []rules.EffectOutcome {
	var (
		out   []rules.EffectOutcome
		index map[runKey]int
	)
	add := func(o rules.Origin, r ledger.Result) {
		if o.RuleID == 0 || o.FixedKey != "" {
			return
		}
		var err error
		if r.Err != nil {
			if classify(r.Err) != ruleFault {
				return
			}
			err = r.Err
		}
		k := runKey{o.GuildID, o.RuleID, o.RuleVersion, o.Event, o.SourceID}
		if i, ok := index[k]; ok {
			if out[i].Err == nil {
				out[i].Err = err
			}
			return
		}
		if index == nil {
			index = map[runKey]int{}
		}
		index[k] = len(out)
		out = append(out, rules.EffectOutcome{GuildID: o.GuildID, RuleID: o.RuleID, Version: o.RuleVersion, Err: err})
	}
	for i := range credits {
		add(credits[i].Origin, results[i])
	}
	for i := range debits {
		add(debits[i].Origin, results[len(credits)+i])
	}
	return out
}
