package rules_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

// EvaluateInto into one reused Result decides what Evaluate decides, event
// after event, with nothing of the previous event left over; and what
// Evaluate returned stays as it was while later evaluations run (its
// credits live in chunks that are never written again).
func TestEvaluateIntoMatchesEvaluate(t *testing.T) {
	t.Parallel()
	set := fiftyRules(t)
	fresh, reusing := engine(t, benchFacts(50), nil), engine(t, benchFacts(50), nil)
	ctx := context.Background()
	base := t0.Add(-4 * time.Hour)
	type kept struct {
		res  rules.Result
		want []string
	}
	var all []kept
	var into rules.Result
	credits := 0
	for i := 0; i < 600; i++ {
		ev := msg(int64(i%50+1), base.Add(time.Duration(i)*time.Second), int64(15+i%300))
		ev.SourceID = int64(i + 1)
		ev.ChannelID = []int64{100, 101, 200, 300}[i%4] // 300: no zone, fewer rules fire
		res, err := fresh.Evaluate(ctx, set, ev)
		require.NoError(t, err)
		require.NoError(t, reusing.EvaluateInto(ctx, set, ev, &into))
		want := describe(res)
		require.Equal(t, want, describe(into), "event %d", i)
		require.Equal(t, res.Fired, into.Fired, "event %d", i)
		all = append(all, kept{res, want})
		credits += len(res.Effects)
	}
	require.Greater(t, credits, 600, "the rules must fire for the comparison to mean something")
	for i, k := range all {
		require.Equal(t, k.want, describe(k.res), "result %d changed after later evaluations", i)
	}
}
