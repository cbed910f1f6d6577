package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Defaults for Engine options.
const (
	DefaultMaxDepth         = 4 // emit/credit chains deeper than this are dropped
	DefaultFailureThreshold = 5 // consecutive run-time failures before auto-disable
)

// Disabler switches a rule off after repeated run-time failures, with an
// audit entry; Store.Disabler is the Postgres implementation.
type Disabler interface {
	AutoDisable(ctx context.Context, tenantID, guildID, ruleID int64, version int, reason string) error
}

// Options are an Engine's dependencies.
type Options struct {
	State  State  // required
	Facts  Facts  // required
	Chance Chance // default: HashChance with seed 0
	// Disabler receives auto-disable requests; nil: failures are only counted.
	Disabler         Disabler
	FailureThreshold int // default DefaultFailureThreshold
	MaxDepth         int // default DefaultMaxDepth
	Logger           *slog.Logger
	Metrics          *Metrics // nil: no metrics
}

// Engine evaluates events against rule sets. It holds no per-guild state
// of its own and is safe for concurrent use.
type Engine struct {
	o       Options
	ctxPool sync.Pool // *evalCtx
}

// NewEngine checks and completes the options.
func NewEngine(o Options) (*Engine, error) {
	if o.State == nil || o.Facts == nil {
		return nil, errors.New("rules: engine needs State and Facts")
	}
	if o.Chance == nil {
		o.Chance = HashChance{}
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = DefaultFailureThreshold
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{o: o}, nil
}

// Fired names a rule that fired for an event.
type Fired struct {
	RuleID   int64  `json:"rule_id,string"`
	Version  int    `json:"version"`
	Name     string `json:"name"`
	Event    string `json:"event"`
	SourceID int64  `json:"source_id,string"`
}

// Failure is a rule that failed at run time for an event; other rules of
// the set were evaluated regardless.
type Failure struct {
	RuleID  int64  `json:"rule_id,string"`
	Version int    `json:"version"`
	Name    string `json:"name"`
	Error   string `json:"error"`
	// Disabled is set when this failure reached the threshold.
	Disabled bool `json:"disabled,omitempty"`
}

// Step is one rule's outcome in a trace (dry runs): why it did or did not fire.
type Step struct {
	RuleID  int64  `json:"rule_id,string"`
	Name    string `json:"name"`
	Event   string `json:"event"`
	Outcome string `json:"outcome"` // fired, failed, skipped
	// Condition is the document index and type of the condition that
	// stopped the rule, when one did.
	Condition     int    `json:"condition"`
	ConditionType string `json:"condition_type,omitempty"`
	Detail        string `json:"detail,omitempty"`
}

// Result is what one event (and the events it chained into) produced.
type Result struct {
	Effects  []Effect
	Fired    []Fired
	Failures []Failure
	Trace    []Step
}

// evalMode separates live evaluation from dry runs.
type evalMode struct {
	trace   bool
	dryRun  bool // no failure counting, no auto-disable
	engine  *Engine
	state   State
	tracing *[]Step
	facts   Facts // nil: the engine's
}

// Evaluate runs an event, and every internal event its rules emit, through
// the set. The error is non-nil only when Facts or State failed: the
// caller retries the whole event (idempotency keys make that safe). A rule
// that fails at run time is reported in Result.Failures and counted towards
// its auto-disable.
func (e *Engine) Evaluate(ctx context.Context, set *RuleSet, ev Event) (Result, error) {
	return e.evaluate(ctx, set, ev, evalMode{engine: e, state: e.o.State})
}

func (e *Engine) evaluate(ctx context.Context, set *RuleSet, ev Event, m evalMode) (Result, error) {
	var res Result
	// Chained events are queued (breadth first); most events chain none.
	var queue []Event
	cur := &ev
	for {
		emitted, err := e.evaluateOne(ctx, set, cur, m, &res)
		if err != nil {
			return res, err
		}
		for _, child := range emitted {
			if len(child.Chain) > e.o.MaxDepth {
				res.Failures = append(res.Failures, Failure{RuleID: child.Chain[len(child.Chain)-1],
					Error: fmt.Sprintf("chain depth %d exceeds %d: %s not evaluated", len(child.Chain), e.o.MaxDepth, child.Name)})
				continue
			}
			queue = append(queue, child)
		}
		if len(queue) == 0 {
			break
		}
		cur = &queue[0]
		queue = queue[1:]
	}
	if m.tracing != nil {
		res.Trace = *m.tracing
	}
	if e.o.Metrics != nil && !m.dryRun {
		e.o.Metrics.observe(&res)
	}
	return res, nil
}

// evaluateOne evaluates one event and returns the internal events to chain.
func (e *Engine) evaluateOne(ctx context.Context, set *RuleSet, ev *Event, m evalMode, res *Result) ([]Event, error) {
	rules := set.byEvent[ev.Name]
	if len(rules) == 0 {
		return nil, nil
	}
	ec := e.getCtx(ctx, m, set, ev)
	defer e.putCtx(ec)
	ev = ec.ev
	var emitted []Event
	var err error
	if res.Effects == nil {
		res.Effects = make([]Effect, 0, len(rules))
	}
	for _, r := range rules {
		if inChain(ev.Chain, r.ID) {
			ec.step(r, "skipped", -1, "", "rule already in this event's chain (cycle)")
			continue
		}
		mark := len(res.Effects)
		res.Effects, err = ec.runRule(r, res.Effects)
		if err != nil {
			res.Effects = res.Effects[:mark]
			var ie *infraError
			if errors.As(err, &ie) {
				return nil, ie.err
			}
			res.Failures = append(res.Failures, e.fail(ctx, set, r, err, m))
			continue
		}
		if !m.dryRun && r.failures.Load() != 0 {
			r.failures.Store(0)
		}
		if len(res.Effects) == mark {
			continue
		}
		if res.Fired == nil {
			res.Fired = make([]Fired, 0, len(rules))
		}
		res.Fired = append(res.Fired, Fired{RuleID: r.ID, Version: r.Version, Name: r.Name, Event: ev.Name, SourceID: ev.SourceID})
		for _, eff := range res.Effects[mark:] {
			if em, ok := eff.(Emit); ok {
				emitted = append(emitted, em.Event)
			}
		}
	}
	return emitted, nil
}

func inChain(chain []int64, id int64) bool {
	for _, c := range chain {
		if c == id {
			return true
		}
	}
	return false
}

// fail counts a run-time failure and asks for auto-disable at the threshold.
func (e *Engine) fail(ctx context.Context, set *RuleSet, r *CompiledRule, err error, m evalMode) Failure {
	f := Failure{RuleID: r.ID, Version: r.Version, Name: r.Name, Error: err.Error()}
	if m.dryRun {
		return f
	}
	n := r.failures.Add(1)
	e.o.Logger.WarnContext(ctx, "rule failed", "tenant_id", set.TenantID, "guild_id", set.GuildID,
		"rule_id", r.ID, "rule_version", r.Version, "consecutive", n, "error", err)
	if e.o.Metrics != nil {
		e.o.Metrics.failures.Inc()
	}
	if int(n) >= e.o.FailureThreshold && e.o.Disabler != nil && r.disabled.CompareAndSwap(false, true) {
		reason := fmt.Sprintf("disabled after %d consecutive failures; last: %s", n, err)
		if derr := e.o.Disabler.AutoDisable(ctx, set.TenantID, set.GuildID, r.ID, r.Version, reason); derr != nil {
			r.disabled.Store(false) // try again on the next failure
			e.o.Logger.ErrorContext(ctx, "auto-disable rule", "guild_id", set.GuildID, "rule_id", r.ID, "error", derr)
		} else {
			f.Disabled = true
			if e.o.Metrics != nil {
				e.o.Metrics.disabled.Inc()
			}
		}
	}
	return f
}
