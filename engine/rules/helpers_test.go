package rules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

// t0 is a Monday noon, UTC: period boundaries in tests are easy to reason about.
var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func compiler(t testing.TB) *rules.Compiler {
	t.Helper()
	c, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	return c
}

// engine builds an engine over in-memory state and static facts.
func engine(t testing.TB, facts rules.StaticFacts, mod func(*rules.Options)) *rules.Engine {
	t.Helper()
	o := rules.Options{State: rules.NewMemoryState(), Facts: facts}
	if mod != nil {
		mod(&o)
	}
	e, err := rules.NewEngine(o)
	require.NoError(t, err)
	return e
}

// ruleSet compiles documents as rules 1..n, version 1, enabled.
func ruleSet(t testing.TB, c *rules.Compiler, zones []rules.Zone, docs ...rules.Document) *rules.RuleSet {
	t.Helper()
	var crs []*rules.CompiledRule
	for i, d := range docs {
		cr, err := c.Compile(rules.Rule{ID: int64(i + 1), Version: 1, Enabled: true, Document: d})
		require.NoError(t, err)
		crs = append(crs, cr)
	}
	return rules.NewRuleSet(1, 42, crs, zones)
}

func msg(user int64, at time.Time, length int64) rules.Event {
	return rules.Event{Name: "message_create", TenantID: 1, GuildID: 42, SourceID: at.UnixNano() + user, OccurredAt: at,
		UserID: user, ChannelID: 100, Magnitude: length}
}

func describe(res rules.Result) []string {
	out := []string{}
	for _, e := range res.Effects {
		out = append(out, rules.Describe(e))
	}
	return out
}

func eval(t testing.TB, e *rules.Engine, set *rules.RuleSet, ev rules.Event) rules.Result {
	t.Helper()
	res, err := e.Evaluate(context.Background(), set, ev)
	require.NoError(t, err)
	return res
}
