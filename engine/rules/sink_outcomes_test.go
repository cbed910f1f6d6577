package rules_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

// A sink's permanent refusal counts as the rule's run-time failure: the
// threshold disables it once, whatever clean evaluations came between;
// only that sink accepting the rule's effects resets the count.
func TestSinkRefusalsCountAsRuleFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gone := errors.New("currency not found")
	newSet := func(t *testing.T) *rules.RuleSet {
		return ruleSet(t, compiler(t), nil,
			doc(t, `{"name":"pays gone","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"gone","amount":"1"}]}`),
			doc(t, `{"name":"pays xp","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"1"}]}`))
	}
	refused := func(rule int64) rules.EffectOutcome {
		return rules.EffectOutcome{GuildID: 42, RuleID: rule, Version: 1, Err: gone}
	}
	applied := func(rule int64) rules.EffectOutcome {
		return rules.EffectOutcome{GuildID: 42, RuleID: rule, Version: 1}
	}

	tests := []struct {
		name     string
		steps    func(report func(rules.Sink, ...rules.EffectOutcome), evaluate func())
		disabled []string
	}{
		{"refusals reach the threshold across clean evaluations", func(report func(rules.Sink, ...rules.EffectOutcome), evaluate func()) {
			for i := 0; i < 3; i++ {
				evaluate()
				report(rules.SinkLedger, refused(1), applied(2))
			}
		}, []string{"ledger refused the effect: currency not found"}},
		{"the sink accepting the rule's effects resets the count", func(report func(rules.Sink, ...rules.EffectOutcome), evaluate func()) {
			report(rules.SinkLedger, refused(1), refused(1), applied(1), refused(1), refused(1))
		}, nil},
		{"another sink accepting does not reset it", func(report func(rules.Sink, ...rules.EffectOutcome), evaluate func()) {
			report(rules.SinkLedger, refused(1), refused(1))
			report(rules.SinkDiscord, applied(1))
			report(rules.SinkLedger, refused(1))
		}, []string{"ledger refused"}},
		{"refusals of another version or guild count for nothing", func(report func(rules.Sink, ...rules.EffectOutcome), evaluate func()) {
			for i := 0; i < 3; i++ {
				report(rules.SinkLedger, rules.EffectOutcome{GuildID: 42, RuleID: 1, Version: 2, Err: gone},
					rules.EffectOutcome{GuildID: 43, RuleID: 1, Version: 1, Err: gone})
			}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := newSet(t)
			dis := &recordingDisabler{}
			e := engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.Disabler = dis; o.FailureThreshold = 3 })
			out := &rules.EffectOutcomes{Sets: staticSets{42: set}, Engine: e}
			at := t0
			evaluate := func() {
				at = at.Add(time.Second)
				require.Len(t, eval(t, e, set, msg(1, at, 50)).Effects, 2)
			}
			tc.steps(func(s rules.Sink, oc ...rules.EffectOutcome) { out.ReportEffects(ctx, 1, s, oc) }, evaluate)
			require.Len(t, dis.calls, len(tc.disabled))
			for i, want := range tc.disabled {
				require.Contains(t, dis.calls[i], "3 consecutive failures")
				require.Contains(t, dis.calls[i], want)
			}
		})
	}
}

// A count the engine's failures made is still reset by a clean
// evaluation, and one a refusal made is not.
func TestCleanEvaluationResetsOnlyEngineFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	set := ruleSet(t, compiler(t), nil,
		doc(t, `{"name":"gems","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"100.0 / wallet['gems']"}]}`))
	dis := &recordingDisabler{}
	facts := rules.StaticFacts{1: {}, 2: {Wallet: map[string]float64{"gems": 1}}}
	e := engine(t, facts, func(o *rules.Options) { o.Disabler = dis; o.FailureThreshold = 3 })
	out := &rules.EffectOutcomes{Sets: staticSets{42: set}, Engine: e}
	at := t0
	step := func(user int64) rules.Result {
		at = at.Add(time.Second)
		return eval(t, e, set, msg(user, at, 50))
	}
	step(1)
	step(1)
	step(2) // clean: resets the engine's two
	out.ReportEffects(ctx, 1, rules.SinkLedger, []rules.EffectOutcome{{GuildID: 42, RuleID: 1, Version: 1, Err: errors.New("gone")}})
	step(2) // clean, but the count is the ledger's: kept
	step(1)
	require.Empty(t, dis.calls)
	require.True(t, step(1).Failures[0].Disabled, "refusal, then two engine failures: three in a row")
	require.Len(t, dis.calls, 1)
}
