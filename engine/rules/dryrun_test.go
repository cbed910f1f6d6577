package rules_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

func TestDryRunHasNoSideEffects(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	preset := rules.Classic()
	crs, err := c.CompilePreset(preset)
	require.NoError(t, err)
	live := rules.NewRuleSet(1, 42, crs, preset.Zones)
	state := rules.NewMemoryState()
	dis := &recordingDisabler{}
	e := engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.State = state; o.Disabler = dis; o.FailureThreshold = 1 })

	pasted := []byte(`{"type":"message_create","occurred_at":"2026-03-02T12:00:00Z","user_id":"5","channel_id":"100","magnitude":120,"code_blocks":1}`)
	ev, err := rules.ParseEvent(1, 42, pasted)
	require.NoError(t, err)

	// A draft that replaces nothing and fails at run time.
	draft, err := c.Compile(rules.Rule{Version: 1, Enabled: true, Document: doc(t, `{"name":"draft","trigger":{"events":["message_create"]},
		"effects":[{"type":"credit","currency":"xp","amount":"1.0 / wallet['nope']"}]}`)})
	require.NoError(t, err)

	for i := 0; i < 2; i++ {
		out, err := e.DryRun(context.Background(), live.With(draft), []rules.Event{ev, ev})
		require.NoError(t, err)
		require.Len(t, out, 2)
		first := out[0]
		require.Len(t, first.Fired, 2, "message XP and Gold")
		require.Equal(t, "credit 18 xp to 5 ["+first.Effects[0].Effect.Meta().IdempotencyKey()+"]", first.Effects[0].Summary)
		require.Len(t, first.Failures, 1)
		require.False(t, first.Failures[0].Disabled, "dry runs never disable")
		var outcomes []string
		for _, s := range first.Trace {
			outcomes = append(outcomes, s.Name+":"+s.Outcome)
		}
		require.Equal(t, []string{"XP for messages:fired", "Gold for quality messages:fired", "draft:failed"}, outcomes)
		// Cooldowns evolve within the dry run: the same message again is
		// the same event, so it is allowed again.
		require.Len(t, out[1].Fired, 2)
		b, err := json.Marshal(first)
		require.NoError(t, err)
		require.Contains(t, string(b), `"kind":"credit"`)
	}
	require.Empty(t, dis.calls)
	// The live engine's state was never touched: a live evaluation fires
	// (the dry runs set no cooldown), and only now is the cap used.
	used, err := state.CapUsed(context.Background(), rules.Key{Kind: "cap", Guild: 42, Rule: 1, Scope: "xp:day", A: 5, B: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Unix()}, rules.Token{})
	require.NoError(t, err)
	require.Zero(t, used)
	require.Len(t, eval(t, e, live, ev).Fired, 2)
	used, err = state.CapUsed(context.Background(), rules.Key{Kind: "cap", Guild: 42, Rule: 1, Scope: "xp:day", A: 5, B: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Unix()}, rules.Token{})
	require.NoError(t, err)
	require.Equal(t, int64(18), used)

	t.Run("pasted event errors carry a path", func(t *testing.T) {
		_, err := rules.ParseEvent(1, 42, []byte(`{"type":"message_create","occurred_at":"2026-03-02T12:00:00Z","flags":["reply","loud"]}`))
		var ve *apperr.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "event.flags[1]", ve.Field)
		_, err = rules.ParseEvent(1, 42, []byte(`{"type":"message_create","magnitude":"long"}`))
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "event.magnitude", ve.Field)
	})
}

func TestBacktest(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	draft, err := c.Compile(rules.Rule{ID: 1, Version: 1, Enabled: true, Document: doc(t, `{"name":"draft","trigger":{"events":["message_create"]},
		"conditions":[{"type":"cooldown","seconds":60},{"type":"cap","currency":"xp","limit":100}],
		"effects":[{"type":"credit","currency":"xp","amount":"10"}]}`)})
	require.NoError(t, err)
	set := rules.NewRuleSet(1, 42, []*rules.CompiledRule{draft}, nil)
	e := engine(t, rules.StaticFacts{}, nil)

	// Two days of history: users 1..3 post every 30 s for an hour each day.
	var history []rules.Event
	for day := 0; day < 2; day++ {
		for s := 0; s < 3600; s += 30 {
			for u := int64(1); u <= 3; u++ {
				history = append(history, msg(u, t0.AddDate(0, 0, day).Add(time.Duration(s)*time.Second), 50))
			}
		}
	}
	var mu sync.Mutex
	var progress [][2]int
	sum, err := e.Backtest(context.Background(), set, rules.Events(history), rules.BacktestOptions{
		Total: len(history), ProgressEvery: 200,
		Progress: func(done, total int) { mu.Lock(); progress = append(progress, [2]int{done, total}); mu.Unlock() },
	})
	require.NoError(t, err)
	require.Equal(t, len(history), sum.Events)
	// Cooldown: one credit a minute; cap: 100 xp a day → 10 credits a day each.
	require.Equal(t, []rules.CurrencyTally{{Currency: "xp", Credited: 2 * 3 * 100, Members: 3}}, sum.Currencies)
	require.Equal(t, []rules.RuleTally{{RuleID: 1, Name: "draft", Fired: 2 * 3 * 10}}, sum.Rules)
	require.Equal(t, "720 events: would have paid 600 xp to 3 members", sum.String())
	require.Equal(t, [2]int{200, 720}, progress[0])
	require.Equal(t, [2]int{720, 720}, progress[len(progress)-1])
	require.Len(t, progress, 720/200+1)

	t.Run("source errors and cancellation stop it", func(t *testing.T) {
		boom := errors.New("lake read failed")
		var src iter.Seq2[rules.Event, error] = func(yield func(rules.Event, error) bool) {
			if yield(history[0], nil) {
				yield(rules.Event{}, boom)
			}
		}
		_, err := e.Backtest(context.Background(), set, src, rules.BacktestOptions{})
		require.ErrorIs(t, err, boom)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = e.Backtest(ctx, set, rules.Events(history), rules.BacktestOptions{})
		require.ErrorIs(t, err, context.Canceled)
	})
}
