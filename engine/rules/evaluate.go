package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
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
	o Options
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
	queue := []Event{ev}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		emitted, err := e.evaluateOne(ctx, set, &cur, m, &res)
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
	ec := newEvalCtx(ctx, e, m, set, ev)
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

// evalCtx is one event's evaluation: facts are loaded once per member and
// the CEL activation is shared by every rule.
type evalCtx struct {
	ctx     context.Context
	eng     *Engine
	mode    evalMode
	set     *RuleSet
	ev      *Event
	token   string
	zone    *Zone
	quality float64
	members map[int64]*MemberFacts
	actor   *MemberFacts
	act     activation
	actVars bool
	rule    *CompiledRule
	// credited is set by credit effects for caps: recipient of the current effect.
}

func newEvalCtx(ctx context.Context, e *Engine, m evalMode, set *RuleSet, ev *Event) *evalCtx {
	ec := &evalCtx{ctx: ctx, eng: e, mode: m, set: set, ev: ev}
	ec.token = ev.Name + "." + strconv.FormatInt(ev.SourceID, 10)
	ec.zone = set.zones.of(ev)
	ec.quality = QualityScore(ev)
	return ec
}

// member returns facts for a user, loading each user once per event.
func (ec *evalCtx) member(userID int64) (*MemberFacts, error) {
	if m, ok := ec.members[userID]; ok {
		return m, nil
	}
	f, err := ec.eng.o.Facts.Member(ec.ctx, ec.set.GuildID, userID)
	if err != nil {
		return nil, infra(fmt.Errorf("member facts %d: %w", userID, err))
	}
	if ec.members == nil {
		ec.members = make(map[int64]*MemberFacts, 2)
	}
	ec.members[userID] = &f
	return &f, nil
}

func (ec *evalCtx) actorFacts() (*MemberFacts, error) {
	if ec.actor == nil {
		m, err := ec.member(ec.ev.UserID)
		if err != nil {
			return nil, err
		}
		ec.actor = m
	}
	return ec.actor, nil
}

// vars prepares the CEL activation for this event (once) and sets the
// per-effect variables.
func (ec *evalCtx) vars(base float64, currency string) (*activation, error) {
	if !ec.actVars {
		actor, err := ec.actorFacts()
		if err != nil {
			return nil, err
		}
		ec.act = activation{ev: ec.ev, facts: actor, zone: ec.zone, zones: ec.set.zones, quality: ec.quality}
		ec.actVars = true
	}
	ec.act.base = base
	if ec.act.currency != currency || ec.act.zoneMult == 0 {
		ec.act.currency = currency
		ec.act.zoneMult = ec.zone.Multiplier(currency)
	}
	return &ec.act, nil
}

// runRule evaluates one rule, appending its effects to out: none (and nil
// error) when a condition stops it.
func (ec *evalCtx) runRule(r *CompiledRule, out []Effect) ([]Effect, error) {
	ec.rule = r
	for i, c := range r.stateless {
		ok, err := c.Eval(ec)
		if err != nil {
			ec.step(r, "failed", r.condIndex[i], r.condTypes[r.condIndex[i]], err.Error())
			return out, err
		}
		if !ok {
			ec.step(r, "skipped", r.condIndex[i], r.condTypes[r.condIndex[i]], "")
			return out, nil
		}
	}
	for i, c := range r.stateful {
		j := len(r.stateless) + i
		ok, err := c.Eval(ec)
		if err != nil {
			ec.step(r, "failed", r.condIndex[j], r.condTypes[r.condIndex[j]], err.Error())
			return out, err
		}
		if !ok {
			ec.step(r, "skipped", r.condIndex[j], r.condTypes[r.condIndex[j]], "")
			return out, nil
		}
	}
	mark := len(out)
	for i, p := range r.effects {
		o := Origin{RuleID: r.ID, RuleVersion: r.Version, Index: i, GuildID: ec.set.GuildID,
			IdempotencyKey: idempotencyKey(r.ID, r.Version, ec.ev.Name, ec.ev.SourceID, i), Chain: ec.ev.Chain}
		eff, err := p.plan(ec, o)
		if err != nil {
			ec.step(r, "failed", -1, "", fmt.Sprintf("effects[%d]: %s", i, err))
			return out, fmt.Errorf("effects[%d]: %w", i, err)
		}
		if eff != nil {
			out = append(out, eff)
		}
	}
	if len(out) == mark {
		ec.step(r, "skipped", -1, "", "no effect left to apply (zero amounts or capped)")
		return out, nil
	}
	ec.step(r, "fired", -1, "", "")
	return out, nil
}

func (ec *evalCtx) step(r *CompiledRule, outcome string, cond int, condType, detail string) {
	if !ec.mode.trace {
		return
	}
	*ec.mode.tracing = append(*ec.mode.tracing, Step{RuleID: r.ID, Name: r.Name, Event: ec.ev.Name,
		Outcome: outcome, Condition: cond, ConditionType: condType, Detail: detail})
}

// state is the State this evaluation reads and writes.
func (ec *evalCtx) state() State { return ec.mode.state }

// recipient resolves an effect's "to": the acting user or the event's target.
func (ec *evalCtx) recipient(to string) int64 {
	if to == toTarget {
		return ec.ev.TargetID
	}
	return ec.ev.UserID
}

// periodStart is the start (UTC) of the day or ISO week holding t.
func periodStart(t time.Time, period string) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if period == periodWeek {
		wd := (int(day.Weekday()) + 6) % 7 // Monday = 0
		return day.AddDate(0, 0, -wd)
	}
	return day
}

func periodEnd(start time.Time, period string) time.Time {
	if period == periodWeek {
		return start.AddDate(0, 0, 7)
	}
	return start.AddDate(0, 0, 1)
}
