package rules_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

// stateFacts are facts that read the engine's State from another
// goroutine while loading: the lock an event holds on MemoryState (taken
// once for all its calls) must be given back before Facts runs, which may
// wait on I/O.
type stateFacts struct {
	rules.StaticFacts
	state *rules.MemoryState
}

func (f stateFacts) Member(ctx context.Context, guildID, userID int64) (rules.MemberFacts, error) {
	done := make(chan error, 1)
	go func() {
		_, err := f.state.CapUsed(ctx, rules.Key{Kind: "cap", Guild: guildID, A: userID}, rules.Token{Event: "probe"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return rules.MemberFacts{}, err
		}
	case <-time.After(5 * time.Second):
		panic("MemoryState still locked while Facts runs")
	}
	return f.StaticFacts.Member(ctx, guildID, userID)
}

func TestMemoryStateHeldPerEvent(t *testing.T) {
	t.Parallel()
	st := rules.NewMemoryState()
	// The cooldown's State call comes first; the amount reads the wallet,
	// loading facts after it.
	set := ruleSet(t, compiler(t), nil,
		doc(t, `{"name":"cd","trigger":{"events":["message_create"]},"conditions":[{"type":"cooldown","seconds":60}],
			"effects":[{"type":"credit","currency":"xp","base":1,"amount":"base + wallet['xp']"}]}`),
		doc(t, `{"name":"cap","trigger":{"events":["message_create"]},"conditions":[{"type":"cap","currency":"xp","limit":3}],
			"effects":[{"type":"credit","currency":"xp","base":2,"amount":"base"}]}`))
	facts := rules.StaticFacts{}
	for u := int64(1); u <= 8; u++ {
		facts[u] = rules.MemberFacts{Wallet: map[string]float64{"xp": float64(u)}}
	}
	e, err := rules.NewEngine(rules.Options{State: st, Facts: stateFacts{StaticFacts: facts, state: st}})
	require.NoError(t, err)

	// Members evaluated concurrently, each its events in order, decide as
	// one member after another over a fresh state.
	events := func(u int64) []rules.Event {
		var evs []rules.Event
		for i := range 4 {
			evs = append(evs, msg(u, t0.Add(time.Duration(i)*40*time.Second), 20))
		}
		return evs
	}
	var wg sync.WaitGroup
	got := make([][]string, 9)
	for u := int64(1); u <= 8; u++ {
		wg.Go(func() {
			for _, ev := range events(u) {
				res, err := e.Evaluate(t.Context(), set, ev)
				if err != nil {
					t.Error(err)
					return
				}
				got[u] = append(got[u], describe(res)...)
			}
		})
	}
	wg.Wait()
	ref := engine(t, facts, nil)
	for u := int64(1); u <= 8; u++ {
		var want []string
		for _, ev := range events(u) {
			want = append(want, describe(eval(t, ref, set, ev))...)
		}
		require.Len(t, want, 4, "cooldown at 0s and 80s, cap 2+1 at 0s and 40s")
		require.Equal(t, want, got[u], "member %d", u)
	}
}
