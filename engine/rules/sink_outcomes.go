package rules

import (
	"context"
	"fmt"
)

// Sink names what applies a kind of effect after evaluation: the ledger
// (credits, debits) or the Discord action queue.
type Sink int32

// Sinks that report outcomes (see EffectReporter).
const (
	SinkLedger Sink = iota + 1
	SinkDiscord
)

func (s Sink) String() string {
	switch s {
	case SinkLedger:
		return "ledger"
	case SinkDiscord:
		return "discord"
	}
	return fmt.Sprintf("sink %d", int32(s))
}

// EffectOutcome is how the effects of one run of a rule (one rule version
// on one event) fared in a sink.
type EffectOutcome struct {
	GuildID int64
	RuleID  int64
	Version int
	// Err is nil when the sink applied the effects (or had applied them
	// before: a replay); otherwise the sink refused them for good. Errors
	// a retry may cure are not outcomes: the task retries them.
	Err error
}

// EffectReporter is told by a sink, in order, how the rule runs it
// applied fared. *EffectOutcomes is the engine's implementation.
type EffectReporter interface {
	ReportEffects(ctx context.Context, tenantID int64, sink Sink, outcomes []EffectOutcome)
}

// EffectOutcomes turns sink outcomes into the engine's failure counting:
// a permanent refusal (a currency deleted after the rule was saved, a
// channel that no longer exists) is a run-time failure of the rule, with
// the same counter, log line, metrics and auto-disable at
// FailureThreshold consecutive failures as a CEL error. Acceptance is a
// success and ends the run of failures.
//
// Which success ends which run: a clean evaluation says nothing about a
// refused effect (the rule evaluates fine and the ledger refuses its
// credit every time), so a count a sink's refusal last added to is reset
// only when that sink accepts the rule's effects; a count owed to the
// engine alone is reset by a clean evaluation, as before. A rule is found
// by version in its guild's current set: a refusal of a version since
// replaced or disabled counts for nothing.
type EffectOutcomes struct {
	Sets   RuleSets
	Engine *Engine
}

var _ EffectReporter = (*EffectOutcomes)(nil)

// ReportEffects implements EffectReporter. A rule set that cannot be
// loaded is logged and its outcomes dropped: a missed count is harmless.
func (o *EffectOutcomes) ReportEffects(ctx context.Context, tenantID int64, sink Sink, outcomes []EffectOutcome) {
	var (
		set  *RuleSet
		last *CompiledRule
	)
	for _, oc := range outcomes {
		if set == nil || set.GuildID != oc.GuildID {
			s, err := o.Sets.Get(ctx, tenantID, oc.GuildID)
			if err != nil {
				o.Engine.o.Logger.WarnContext(ctx, "rule effect outcomes dropped", "tenant_id", tenantID,
					"guild_id", oc.GuildID, "sink", sink.String(), "error", err)
				continue
			}
			set, last = s, nil
		}
		r := last
		if r == nil || r.ID != oc.RuleID || r.Version != oc.Version {
			if r = set.rule(oc.RuleID, oc.Version); r == nil {
				continue
			}
			last = r
		}
		if oc.Err == nil {
			r.sinkAccepted(sink)
			continue
		}
		r.sinkFailing.Store(int32(sink))
		o.Engine.fail(ctx, set, r, fmt.Errorf("%s refused the effect: %w", sink, oc.Err), evalMode{engine: o.Engine})
	}
}

// rule is the enabled rule of the set with that id and version, or nil.
func (s *RuleSet) rule(id int64, version int) *CompiledRule {
	for _, r := range s.rules {
		if r.ID == id && r.Version == version && r.Enabled {
			return r
		}
	}
	return nil
}

// ran records a clean evaluation of r: it ends a run of engine failures,
// not one a sink's refusal last added to (see EffectOutcomes).
func (r *CompiledRule) ran() {
	if r.failures.Load() != 0 && r.sinkFailing.Load() == 0 {
		r.failures.Store(0)
	}
}

// sinkAccepted records that sink applied r's effects: it ends a run of
// failures unless another sink's refusal last added to it.
func (r *CompiledRule) sinkAccepted(sink Sink) {
	if r.failures.Load() == 0 {
		return
	}
	if s := Sink(r.sinkFailing.Load()); s == 0 || s == sink {
		r.failures.Store(0)
		r.sinkFailing.Store(0)
	}
}
