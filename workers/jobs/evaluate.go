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
	hooks     *Hooks // nil: none
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
		if err := e.process(ctx, tenantID, evs); err != nil {
			return fmt.Errorf("tenant %d: %w", tenantID, err)
		}
	}
	if e.hooks != nil && e.hooks.Evaluated != nil {
		e.hooks.Evaluated(len(events))
	}
	return nil
}

// maxCreditRounds bounds how far ledger.credited feedback goes; each
// event's Chain also stops a rule from firing on its own credits.
const maxCreditRounds = 3

// process evaluates events, then feeds the credits they caused back as
// ledger.credited events (milestone checks, level-ups, bonuses), round
// after round. Their ids and times derive from the credits, so a retried
// task replays the same rounds.
func (e *Evaluator) process(ctx context.Context, tenantID int64, evs []rules.Event) error {
	at := evs[0].OccurredAt
	for _, ev := range evs {
		if ev.OccurredAt.After(at) {
			at = ev.OccurredAt
		}
	}
	for round := 0; len(evs) > 0 && round <= maxCreditRounds; round++ {
		col := &creditCollector{}
		rep, err := e.runner.Process(withCollector(ctx, col), tenantID, evs)
		if err != nil {
			return err
		}
		if len(rep.Failures) > 0 {
			e.log.Warn("rules failed on some events", slog.Int64("tenant_id", tenantID), slog.Int("failures", len(rep.Failures)))
		}
		evs = evs[:0:0]
		for _, c := range col.take() {
			evs = append(evs, rules.CreditedEvent(c, tenantID, at))
		}
	}
	return nil
}
