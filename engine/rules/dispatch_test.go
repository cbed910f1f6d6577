package rules_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

// fakeLedger applies each idempotency key once, as the real ledger must.
type fakeLedger struct {
	mu       sync.Mutex
	calls    int
	seen     map[string]bool
	balances map[int64]int64
	fail     error
}

func (l *fakeLedger) Post(_ context.Context, _ int64, credits []rules.Credit, debits []rules.Debit) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.fail != nil {
		return l.fail
	}
	for _, c := range credits {
		if !l.seen[c.IdempotencyKey()] {
			l.seen[c.IdempotencyKey()] = true
			l.balances[c.UserID] += c.Amount
		}
	}
	return nil
}

type fakeDiscord struct {
	mu      sync.Mutex
	calls   int
	actions []rules.DiscordAction
}

func (d *fakeDiscord) Enqueue(_ context.Context, _ int64, as []rules.DiscordAction) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	d.actions = append(d.actions, as...)
	return nil
}

type staticSets map[int64]*rules.RuleSet

func (s staticSets) Get(_ context.Context, _, guildID int64) (*rules.RuleSet, error) {
	if set, ok := s[guildID]; ok {
		return set, nil
	}
	return rules.NewRuleSet(1, guildID, nil, nil), nil
}

func TestRunnerBatchesAndIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprintf("concurrency %d", conc), func(t *testing.T) {
			t.Parallel()
			testRunner(t, conc)
		})
	}
}

func testRunner(t *testing.T, concurrency int) {
	c := compiler(t)
	set := ruleSet(t, c, nil,
		doc(t, `{"name":"xp","trigger":{"events":["message_create"]},"conditions":[{"type":"cooldown","seconds":60}],"effects":[{"type":"credit","currency":"xp","amount":"10"}]}`),
		doc(t, `{"name":"welcome","trigger":{"events":["member_join"]},"effects":[{"type":"grant_role","role":"9","duration_seconds":86400},{"type":"send_message","channel":"1","content":"welcome {user}"}]}`))
	ledger := &fakeLedger{seen: map[string]bool{}, balances: map[int64]int64{}}
	discord := &fakeDiscord{}
	r := &rules.Runner{Sets: staticSets{42: set}, Engine: engine(t, rules.StaticFacts{}, nil), Ledger: ledger, Discord: discord, Concurrency: concurrency}

	var batch []rules.Event
	for i := 0; i < 100; i++ {
		batch = append(batch, msg(int64(i%10+1), t0.Add(time.Duration(i)*time.Second), 50))
	}
	batch = append(batch, rules.Event{Name: "member_join", TenantID: 1, GuildID: 42, SourceID: 5, OccurredAt: t0, UserID: 99})
	other := msg(1, t0, 50)
	other.GuildID = 43 // a guild with no rules
	batch = append(batch, other)

	rep, err := r.Process(context.Background(), 1, batch)
	require.NoError(t, err)
	require.Equal(t, 102, rep.Events)
	require.Equal(t, 1, ledger.calls, "one ledger call per batch, never one per event")
	require.Equal(t, 1, discord.calls)
	require.Len(t, discord.actions, 2)
	for u := int64(1); u <= 10; u++ {
		require.Equal(t, int64(20), ledger.balances[u], "user %d: two messages a minute apart over 100 s", u)
	}

	// The task runs again (at-least-once): nothing is applied twice.
	_, err = r.Process(context.Background(), 1, batch)
	require.NoError(t, err)
	require.Equal(t, 2, ledger.calls)
	for u := int64(1); u <= 10; u++ {
		require.Equal(t, int64(20), ledger.balances[u])
	}

	t.Run("a sink error fails the batch for a retry", func(t *testing.T) {
		ledger.fail = errors.New("ledger unavailable")
		_, err := r.Process(context.Background(), 1, batch[:1])
		require.ErrorContains(t, err, "ledger unavailable")
		ledger.fail = nil
	})
	t.Run("events of another tenant are refused", func(t *testing.T) {
		_, err := r.Process(context.Background(), 2, batch[:1])
		require.Error(t, err)
	})
}
