package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/rules"
)

// Evaluator handles rules:evaluate tasks: one guild's committed lake
// events, evaluated by the rules engine, effects applied through the
// ledger and the Discord action queue. Every effect is idempotent, so a
// retried task applies nothing twice.
type Evaluator struct {
	runner    *rules.Runner
	log       *slog.Logger
	malformed prometheus.Counter
	hooks     *Hooks          // nil: none
	internal  *internalEvents // nil: only ledger.credited is fed back
}

// NewEvaluator wraps a configured runner.
func NewEvaluator(runner *rules.Runner, log *slog.Logger, reg prometheus.Registerer) *Evaluator {
	e := &Evaluator{runner: runner, log: log,
		malformed: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_rules_tasks_malformed_total", Help: "rules:evaluate tasks whose payload could not be decoded (not retried)."})}
	reg.MustRegister(e.malformed)
	return e
}

// Register mounts the handler on mux.
func (e *Evaluator) Register(mux *asynq.ServeMux) { mux.HandleFunc(TypeEvaluate, e.handle) }

func (e *Evaluator) handle(ctx context.Context, t *asynq.Task) error {
	err := e.handleEvents(ctx, t)
	if err != nil && e.hooks != nil && e.hooks.Failed != nil {
		e.hooks.Failed(err)
	}
	return err
}

func (e *Evaluator) handleEvents(ctx context.Context, t *asynq.Task) error {
	events, err := lake.DecodeEvents(t.Payload())
	if err != nil || len(events) == 0 {
		e.malformed.Inc()
		e.log.Error("rules task payload is malformed; dropped", slog.Any("err", err), slog.Int("bytes", len(t.Payload())))
		return fmt.Errorf("decode events: %w: %w", err, asynq.SkipRetry)
	}
	// The outbox writes one guild (so one tenant) per task; split anyway so
	// a hand-made task cannot mix tenants.
	byTenant := map[int64][]rules.Event{}
	for _, ev := range events {
		byTenant[ev.TenantID] = append(byTenant[ev.TenantID], rules.FromLake(ev))
	}
	for tenantID, evs := range byTenant {
		if err := e.rounds(ctx, tenantID, evs, nil); err != nil {
			return fmt.Errorf("tenant %d: %w", tenantID, err)
		}
	}
	if e.hooks != nil && e.hooks.Evaluated != nil {
		e.hooks.Evaluated(len(events))
	}
	return nil
}
