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
	// oneCallEach turns batched State calls off (tests compare both ways).
	oneCallEach bool
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
	credits  slab[Credit] // what Effects' *Credit point to, with EvaluateInto
}

// reset empties the result for EvaluateInto, keeping its storage.
func (r *Result) reset() {
	clear(r.Effects)
	clear(r.Fired)
	clear(r.Failures)
	r.Effects, r.Fired, r.Failures, r.Trace = r.Effects[:0], r.Fired[:0], r.Failures[:0], nil
	r.credits.reset()
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
	var res Result
	err := e.evaluate(ctx, set, ev, evalMode{engine: e, state: e.o.State}, &res, false)
	return res, err
}

// EvaluateInto is Evaluate writing into res and reusing its storage: the
// slices and credits of what res held before are overwritten, so it is for
// a caller done with the previous result (the Runner between batches, a
// loop over events). Evaluating that way allocates next to nothing.
func (e *Engine) EvaluateInto(ctx context.Context, set *RuleSet, ev Event, res *Result) error {
	return e.evaluate(ctx, set, ev, evalMode{engine: e, state: e.o.State}, res, true)
}

// evaluate evaluates ev into res (see getCtx for reuse). On error res
// holds only the failures reported before it.
func (e *Engine) evaluate(ctx context.Context, set *RuleSet, ev Event, m evalMode, res *Result, reuse bool) error {
	// One pooled context serves the event and the events it chains into:
	// effects and fired rules collect in its scratch slices and are copied
	// out once, into res or chunks shared by many results (see arena).
	ec := e.getCtx(ctx, m, set, res, reuse)
	defer e.putCtx(ec)
	if err := e.evaluateOne(ec, &ev, res); err != nil {
		return err
	}
	return e.chained(ec)
}

// chained evaluates the events queued in ec (breadth first; most events
// chain none) and completes ec's result.
func (e *Engine) chained(ec *evalCtx) error {
	res := ec.res
	for next := 0; next < len(ec.queue); next++ {
		if err := e.evaluateOne(ec, &ec.queue[next], res); err != nil {
			return err
		}
	}
	if ec.reuse {
		res.Effects = append(res.Effects, ec.effects...)
		res.Fired = append(res.Fired, ec.fired...)
	} else {
		res.Effects = ec.effArena.copyOf(ec.effects)
		res.Fired = ec.firedArena.copyOf(ec.fired)
	}
	if ec.mode.tracing != nil {
		res.Trace = *ec.mode.tracing
	}
	if e.o.Metrics != nil && !ec.mode.dryRun {
		e.o.Metrics.observe(res)
	}
	return nil
}

// evaluateOne evaluates one event, collecting its effects and fired rules
// in ec and queueing the internal events to chain.
func (e *Engine) evaluateOne(ec *evalCtx, ev *Event, res *Result) error {
	rules := ec.set.byEvent[ev.Name]
	if len(rules) == 0 {
		return nil
	}
	ec.begin(ev)
	if bs, ok := ec.mode.state.(batchState); ok && !ec.mode.trace && !e.oneCallEach {
		return e.evaluateBatched(ec, bs, rules, res)
	}
	// A heldState's lock, taken at the event's first State call, is
	// held until its last rule (see evalCtx.state).
	defer ec.releaseState()
	ev = ec.ev
	set, m := ec.set, ec.mode
	var err error
	queued := len(ec.queue)
	for _, r := range rules {
		if inChain(ev.Chain, r.ID) {
			ec.step(r, "skipped", -1, "", "rule already in this event's chain (cycle)")
			continue
		}
		mark := len(ec.effects)
		ec.effects, err = ec.runRule(r, ec.effects)
		if err != nil {
			clear(ec.effects[mark:])
			ec.effects = ec.effects[:mark]
			var ie *infraError
			if errors.As(err, &ie) {
				return ie.err
			}
			ec.releaseState() // fail logs and may call the Disabler
			res.Failures = append(res.Failures, e.fail(ec.ctx, set, r, err, m))
			continue
		}
		if !m.dryRun {
			r.ran()
		}
		if len(ec.effects) == mark {
			continue
		}
		ec.fired = append(ec.fired, Fired{RuleID: r.ID, Version: r.Version, Name: r.Name, Event: ev.Name, SourceID: ev.SourceID})
		for _, eff := range ec.effects[mark:] {
			if em, ok := eff.(Emit); ok {
				ec.queue = append(ec.queue, em.Event)
			}
		}
	}
	e.queueChildren(ec, queued, res)
	return nil
}

// queueChildren keeps the events emitted since ec.queue[queued] that are
// not too deep; those are reported after the event's own failures.
func (e *Engine) queueChildren(ec *evalCtx, queued int, res *Result) {
	kept := ec.queue[:queued]
	for _, child := range ec.queue[queued:] {
		if len(child.Chain) > e.o.MaxDepth {
			res.Failures = append(res.Failures, Failure{RuleID: child.Chain[len(child.Chain)-1],
				Error: fmt.Sprintf("chain depth %d exceeds %d: %s not evaluated", len(child.Chain), e.o.MaxDepth, child.Name)})
			continue
		}
		kept = append(kept, child)
	}
	clear(ec.queue[len(kept):])
	ec.queue = kept
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
