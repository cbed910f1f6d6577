// Package ledgerpost adapts the ledger's batched API to rules.LedgerPoster:
// the planned credits and debits of a batch of events become one
// ledger.ApplyBatch call per 5000 ops, keyed by the effects' idempotency
// keys.
package ledgerpost

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
)

// Poster posts rule effects to the ledger.
type Poster struct {
	ledger   *ledger.Service
	logger   *slog.Logger
	reporter rules.EffectReporter
}

var _ rules.LedgerPoster = (*Poster)(nil)

// New wraps the ledger service; logger may be nil.
func New(l *ledger.Service, logger *slog.Logger) *Poster {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poster{ledger: l, logger: logger}
}

// ReportTo makes p tell r how each rule run's ledger effects fared (see
// refusal), so a rule the ledger keeps refusing is counted as failing and
// disabled like one that fails in the engine. It returns p.
func (p *Poster) ReportTo(r rules.EffectReporter) *Poster {
	p.reporter = r
	return p
}

// Post applies the credits and debits. A batch-level error (database down)
// is returned for the task to retry; the keys make the retry safe. Per-op
// refusals are not retried (see refusal).
func (p *Poster) Post(ctx context.Context, tenantID int64, credits []rules.Credit, debits []rules.Debit) error {
	_, err := p.PostResults(ctx, tenantID, credits, debits)
	return err
}

func source(o rules.Origin) string {
	return "rule:" + strconv.FormatInt(o.RuleID, 10) + ":v" + strconv.Itoa(o.RuleVersion)
}
