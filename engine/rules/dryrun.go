package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"sort"
	"strings"
)

// PlannedEffect is an effect as dry runs show it.
type PlannedEffect struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	Effect  Effect `json:"effect"`
}

func planned(es []Effect) []PlannedEffect {
	out := make([]PlannedEffect, len(es))
	for i, e := range es {
		out[i] = PlannedEffect{Kind: e.Kind(), Summary: Describe(e), Effect: e}
	}
	return out
}

// DryRunResult is what one event would do.
type DryRunResult struct {
	Event    EventJSON       `json:"event"`
	Fired    []Fired         `json:"fired"`
	Effects  []PlannedEffect `json:"effects"`
	Failures []Failure       `json:"failures"`
	Trace    []Step          `json:"trace"`
}

// DryRun evaluates events (pasted, sampled, or the last N from the lake)
// against a live or draft set with no side effects: cooldowns, caps and
// velocity start empty in memory and evolve only across these events,
// failures are not counted, nothing is dispatched. Facts are read from the
// engine's Facts. Each result carries a trace of why each rule did or did
// not fire.
func (e *Engine) DryRun(ctx context.Context, set *RuleSet, events []Event) ([]DryRunResult, error) {
	state := NewMemoryState()
	out := make([]DryRunResult, 0, len(events))
	for _, ev := range events {
		var steps []Step
		var res Result
		err := e.evaluate(ctx, set, ev, evalMode{engine: e, state: state, dryRun: true, trace: true, tracing: &steps}, &res, false)
		if err != nil {
			return out, err
		}
		out = append(out, DryRunResult{Event: ToJSON(ev), Fired: res.Fired, Effects: planned(res.Effects), Failures: res.Failures, Trace: res.Trace})
	}
	return out, nil
}

// BacktestOptions tune a backtest.
type BacktestOptions struct {
	// Total is how many events the source will yield, if known (for progress).
	Total int
	// Progress is called every ProgressEvery events and once at the end.
	Progress      func(done, total int)
	ProgressEvery int // default 1000
}

// RuleTally is how often a rule fired or failed in a backtest.
type RuleTally struct {
	RuleID   int64  `json:"rule_id,string"`
	Name     string `json:"name"`
	Fired    int    `json:"fired"`
	Failures int    `json:"failures"`
}

// CurrencyTally is what a backtest would have credited and debited.
type CurrencyTally struct {
	Currency string `json:"currency"`
	Credited int64  `json:"credited"`
	Debited  int64  `json:"debited"`
	Members  int    `json:"members"` // distinct members credited
}

// Summary is a backtest's outcome.
type Summary struct {
	Events     int             `json:"events"`
	Rules      []RuleTally     `json:"rules"`
	Currencies []CurrencyTally `json:"currencies"`
	Effects    map[string]int  `json:"effects"` // by kind
	// Failures holds the first few run-time failures, for diagnosis.
	Failures []Failure `json:"failures,omitempty"`
}

// String reads "would have paid 1200 xp to 14 members, 30 gold to 3 members".
func (s Summary) String() string {
	if len(s.Currencies) == 0 {
		return fmt.Sprintf("%d events: would have paid nothing", s.Events)
	}
	parts := make([]string, len(s.Currencies))
	for i, c := range s.Currencies {
		parts[i] = fmt.Sprintf("%d %s to %d members", c.Credited, c.Currency, c.Members)
	}
	return fmt.Sprintf("%d events: would have paid %s", s.Events, strings.Join(parts, ", "))
}

// Backtest runs a (draft) rule set over a stretch of lake history with no
// side effects, as DryRun does, and sums up what it would have done. The
// source yields events in time order; an error from it stops the backtest.
func (e *Engine) Backtest(ctx context.Context, set *RuleSet, events iter.Seq2[Event, error], o BacktestOptions) (Summary, error) {
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 1000
	}
	state := NewMemoryState()
	sum := Summary{Effects: map[string]int{}}
	tallies := map[int64]*RuleTally{}
	tally := func(id int64, name string) *RuleTally {
		t, ok := tallies[id]
		if !ok {
			t = &RuleTally{RuleID: id, Name: name}
			tallies[id] = t
		}
		return t
	}
	type cur struct {
		credited, debited int64
		members           map[int64]bool
	}
	curs := map[string]*cur{}
	get := func(c string) *cur {
		x, ok := curs[c]
		if !ok {
			x = &cur{members: map[int64]bool{}}
			curs[c] = x
		}
		return x
	}
	var res Result // reused: each event's is tallied before the next
	for ev, err := range events {
		if err != nil {
			return sum, fmt.Errorf("backtest source: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if err := e.evaluate(ctx, set, ev, evalMode{engine: e, state: state, dryRun: true}, &res, true); err != nil {
			return sum, err
		}
		sum.Events++
		for _, f := range res.Fired {
			tally(f.RuleID, f.Name).Fired++
		}
		for _, f := range res.Failures {
			tally(f.RuleID, f.Name).Failures++
			if len(sum.Failures) < 10 {
				sum.Failures = append(sum.Failures, f)
			}
		}
		for _, eff := range res.Effects {
			sum.Effects[eff.Kind()]++
			switch v := eff.(type) {
			case *Credit:
				c := get(v.Currency)
				c.credited += v.Amount
				c.members[v.UserID] = true
			case Debit:
				get(v.Currency).debited += v.Amount
			}
		}
		if o.Progress != nil && sum.Events%o.ProgressEvery == 0 {
			o.Progress(sum.Events, o.Total)
		}
	}
	if o.Progress != nil {
		o.Progress(sum.Events, o.Total)
	}
	for _, t := range tallies {
		sum.Rules = append(sum.Rules, *t)
	}
	sort.Slice(sum.Rules, func(i, j int) bool { return sum.Rules[i].RuleID < sum.Rules[j].RuleID })
	for _, name := range sortedKeys(curs) {
		c := curs[name]
		sum.Currencies = append(sum.Currencies, CurrencyTally{Currency: name, Credited: c.credited, Debited: c.debited, Members: len(c.members)})
	}
	return sum, nil
}

// Events adapts a slice to a backtest source.
func Events(evs []Event) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for _, ev := range evs {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// MarshalJSON renders a planned effect with its kind.
func (p PlannedEffect) MarshalJSON() ([]byte, error) {
	eff, err := json.Marshal(p.Effect)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Kind    string          `json:"kind"`
		Summary string          `json:"summary"`
		Effect  json.RawMessage `json:"effect"`
	}{p.Kind, p.Summary, eff})
}
