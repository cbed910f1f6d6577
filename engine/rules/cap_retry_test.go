package rules_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/testenv"
)

// TestRetriedEventKeepsItsCappedCredit: an event whose credit filled a
// daily cap, evaluated again (its task retried after the ledger failed),
// pays the same credit under the same key instead of being refused by its
// own grant; a new event is refused. In memory, over Redis one call at a
// time, and over Redis in one round trip per event.
func TestRetriedEventKeepsItsCappedCredit(t *testing.T) {
	t.Parallel()
	states := map[string]func(t *testing.T) *rules.Engine{
		"memory": func(t *testing.T) *rules.Engine { return engine(t, rules.StaticFacts{}, nil) },
		"redis one call each": func(t *testing.T) *rules.Engine {
			e := engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.State = rules.NewRedisState(testenv.Redis(t), nil) })
			rules.OneCallEach(e)
			return e
		},
		"redis batched": func(t *testing.T) *rules.Engine {
			return engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.State = rules.NewRedisState(testenv.Redis(t), nil) })
		},
	}
	for name, newEngine := range states {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t)
			set := ruleSet(t, compiler(t), nil, doc(t, `{"name":"capped","trigger":{"events":["message_create"]},
				"conditions":[{"type":"cap","currency":"xp","limit":40}],"effects":[{"type":"credit","currency":"xp","base":15,"amount":"base"}]}`))
			at := t0.Add(-3 * time.Hour)
			evs := []rules.Event{msg(7, at, 20), msg(7, at.Add(time.Minute), 20), msg(7, at.Add(2*time.Minute), 20), msg(7, at.Add(3*time.Minute), 20)}
			credit := func(ev rules.Event) []string { return describe(eval(t, e, set, ev)) }

			first, second, third := credit(evs[0]), credit(evs[1]), credit(evs[2])
			require.Len(t, first, 1)
			require.Len(t, second, 1)
			require.Len(t, third, 1, "clipped to what the cap has left")
			require.Contains(t, third[0], "10 xp")
			require.Equal(t, third, credit(evs[2]), "the retried event pays the same, under the same key")
			require.Equal(t, first, credit(evs[0]), "so does an older one")
			require.Empty(t, credit(evs[3]), "a new event finds the cap full")
		})
	}
}
