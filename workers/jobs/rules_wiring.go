package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/engine/rules/backtests"
	"github.com/synapsehq/synapse/engine/rules/ledgerpost"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/tenants"
)

// RulesPipeline is everything a worker needs to evaluate rules: the
// compiled rule sets (hot-reloaded on NOTIFY), the engine, and the sinks.
type RulesPipeline struct {
	Evaluator *Evaluator
	Actions   *ActionHandler
	Sweep     *MilestoneSweep
	Schedule  *ScheduleTriggers
	Backtests *backtests.Runs
	// Hooks are empty until a caller (the load test) sets them.
	Hooks *Hooks
	cache *rules.Cache
	log   *slog.Logger
	pool  *postgres.DB
}

// NewRulesPipeline wires the rules engine to the ledger, the Discord action
// queue (REST through r) and member facts from the database.
func NewRulesPipeline(db *postgres.DB, rdb *redis.Client, r rest.Rest, log *slog.Logger, reg prometheus.Registerer) (*RulesPipeline, error) {
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	if err != nil {
		return nil, fmt.Errorf("rules compiler: %w", err)
	}
	store := rules.NewStore(db.Bun, comp)
	cache := rules.NewCache(store, comp, log)
	metrics, err := rules.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	svc := ledger.New(db, log)
	eng, err := rules.NewEngine(rules.Options{
		State:    rules.NewRedisState(rdb, nil),
		Facts:    NewMemberFacts(tenants.NewStore(db.Bun), svc),
		Disabler: store,
		Metrics:  metrics,
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	actions := NewActionQueue(asynq.NewClientFromRedisClient(rdb), rdb)
	ms := milestones.New(db, svc, log)
	announcer := NewAnnouncer(ms, tenants.NewStore(db.Bun), actions, rdb, log, reg)
	internal := newInternalEvents(ms, svc)
	hooks := &Hooks{}
	// A credit the ledger refuses for good (a deleted currency) or an
	// action Discord refuses for good (an unknown channel) counts as its
	// rule's run-time failure, towards auto-disable.
	outcomes := &rules.EffectOutcomes{Sets: cache, Engine: eng}
	runner := &rules.Runner{
		Sets:    cache,
		Engine:  eng,
		Ledger:  recordingPoster{inner: ledgerpost.New(svc, log).ReportTo(outcomes), hooks: hooks},
		Discord: actions,
		// Awards are announced at once and fed back as milestone.awarded;
		// their currency rewards are paid (keyed by award) after that round,
		// minus the currencies a rule paid on the event, so the Classic
		// "Stars for milestones" rule and the milestone do not both pay.
		// One call per batch: the checks of all its members are read and
		// awarded together.
		Milestones:  &milestones.Adapter{Service: ms, OnAwards: announcer.OnAwards, OnAwarded: internal.onAwarded},
		Concurrency: 8, // Redis round trips per stateful condition: overlap them across members
	}
	ev := NewEvaluator(runner, log, reg)
	ev.hooks = hooks
	ev.internal = internal
	sweep := &MilestoneSweep{milestones: ms, tenants: tenants.NewStore(db.Bun), onAwards: announcer.OnAwards, rules: ev.Awarded, log: log}
	schedule := &ScheduleTriggers{rules: store, eval: ev, log: log, now: time.Now}
	// Backtests evaluate in dry-run mode with their own in-memory state:
	// the live engine's Redis state and ledger are never touched.
	bt := backtests.New(rdb, db.Pool, comp, store, eng, log)
	handler := NewActionHandler(r, rdb, tenants.NewStore(db.Bun), log, reg)
	handler.outcomes = outcomes // an action Discord refuses for good counts too
	return &RulesPipeline{Evaluator: ev, Actions: handler, Sweep: sweep, Schedule: schedule, Backtests: bt, Hooks: hooks, cache: cache, log: log, pool: db}, nil
}

// Register mounts the rules and action handlers.
func (p *RulesPipeline) Register(mux *asynq.ServeMux) {
	p.Evaluator.Register(mux)
	p.Actions.Register(mux)
	p.Sweep.Register(mux)
	p.Schedule.Register(mux)
	p.Backtests.Register(mux)
}

// Listen keeps the rule-set cache current until ctx ends.
func (p *RulesPipeline) Listen(ctx context.Context) error {
	return p.cache.Listen(ctx, p.pool.Pool, rules.ListenOptions{})
}
