package rules_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

// countingFacts counts loads per member.
type countingFacts struct {
	rules.StaticFacts
	mu    sync.Mutex
	loads map[int64]int
}

func (c *countingFacts) Member(ctx context.Context, guildID, userID int64) (rules.MemberFacts, error) {
	c.mu.Lock()
	c.loads[userID]++
	c.mu.Unlock()
	return c.StaticFacts.Member(ctx, guildID, userID)
}

// A batch loads each member's facts once, however many of its events (and
// concurrent shards) ask, and pays what evaluating one event at a time does.
func TestRunnerLoadsEachMemberOncePerBatch(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	set := ruleSet(t, c, nil,
		doc(t, `{"name":"xp","trigger":{"events":["message_create"]},"conditions":[{"type":"not_bot"},{"type":"has_role","roles":["7"]}],
			"effects":[{"type":"credit","currency":"xp","base":3,"amount":"base + wallet['xp'] / 100.0"}]}`))
	static := rules.StaticFacts{}
	for u := int64(1); u <= 5; u++ {
		static[u] = rules.MemberFacts{Roles: []int64{7}, Wallet: map[string]float64{"xp": float64(u * 100)}}
	}
	var events []rules.Event
	for i := 0; i < 40; i++ {
		events = append(events, msg(int64(i%5+1), t0.Add(time.Duration(i)*time.Second), 30))
	}
	run := func(concurrency int) (map[int64]int, map[int64]int64) {
		facts := &countingFacts{StaticFacts: static, loads: map[int64]int{}}
		led := &fakeLedger{seen: map[string]bool{}, balances: map[int64]int64{}}
		r := &rules.Runner{Sets: staticSets{42: set}, Engine: engine(t, nil, func(o *rules.Options) { o.Facts = facts }),
			Ledger: led, Concurrency: concurrency}
		_, err := r.Process(context.Background(), 1, events)
		require.NoError(t, err)
		return facts.loads, led.balances
	}
	for _, n := range []int{1, 4} {
		loads, balances := run(n)
		require.Equal(t, map[int64]int{1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, loads, "concurrency %d", n)
		require.Equal(t, map[int64]int64{1: 8 * 4, 2: 8 * 5, 3: 8 * 6, 4: 8 * 7, 5: 8 * 8}, balances, "concurrency %d", n)
	}
}

// bulkFacts answers Members in one call per guild and counts both paths.
type bulkFacts struct {
	countingFacts
	bulkCalls int
	needs     []rules.FactNeeds
}

func (b *bulkFacts) Members(ctx context.Context, guildID int64, userIDs []int64, need rules.FactNeeds) (map[int64]rules.MemberFacts, error) {
	b.mu.Lock()
	b.bulkCalls++
	b.needs = append(b.needs, need)
	b.mu.Unlock()
	out := map[int64]rules.MemberFacts{}
	for _, u := range userIDs {
		if f, ok := b.StaticFacts[u]; ok {
			out[u] = f
		}
	}
	return out, nil
}

// A BatchFacts loads a batch's members in one call per guild; members it
// does not know are empty, as Member makes them.
func TestRunnerLoadsMembersInBulk(t *testing.T) {
	t.Parallel()
	set := ruleSet(t, compiler(t), nil,
		doc(t, `{"name":"xp","trigger":{"events":["message_create"]},"conditions":[{"type":"not_bot"}],
			"effects":[{"type":"credit","currency":"xp","base":3,"amount":"base + wallet['xp'] / 100.0"}]}`))
	facts := &bulkFacts{countingFacts: countingFacts{loads: map[int64]int{}, StaticFacts: rules.StaticFacts{
		1: {Wallet: map[string]float64{"xp": 100}}, 2: {Bot: true}}}}
	led := &fakeLedger{seen: map[string]bool{}, balances: map[int64]int64{}}
	r := &rules.Runner{Sets: staticSets{42: set}, Engine: engine(t, nil, func(o *rules.Options) { o.Facts = facts }), Ledger: led, Concurrency: 4}
	var events []rules.Event
	for i := 0; i < 9; i++ {
		events = append(events, msg(int64(i%3+1), t0.Add(time.Duration(i)*time.Second), 30))
	}
	_, err := r.Process(context.Background(), 1, events)
	require.NoError(t, err)
	require.Equal(t, 1, facts.bulkCalls)
	require.Empty(t, facts.loads, "no member loaded one by one")
	require.Equal(t, map[int64]int64{1: 3 * 4, 3: 3 * 3}, led.balances, "member 2 is a bot; member 3 is unknown, with an empty wallet")
}

// Facts are loaded only for rules that read them: a CEL expression over
// the event alone (the Classic milestone check) loads nothing.
func TestFactsLoadedOnlyWhenRead(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	for _, tc := range []struct {
		name, cond, amount string
		loads              int
	}{
		{"event only", `{"type":"cel","expr":"event.data.currency == 'xp'"}`, "base", 0},
		{"wallet in the amount", `{"type":"cel","expr":"event.data.currency == 'xp'"}`, "base + wallet['xp'] * 0.0", 1},
		{"member in the condition", `{"type":"cel","expr":"!member.bot"}`, "base", 1},
		{"not_bot", `{"type":"not_bot"}`, "base", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := ruleSet(t, c, nil, doc(t, fmt.Sprintf(`{"name":"r","trigger":{"events":["ledger.credited"]},"conditions":[%s],
				"effects":[{"type":"credit","currency":"stars","base":1,"amount":%q}]}`, tc.cond, tc.amount)))
			facts := &countingFacts{StaticFacts: rules.StaticFacts{}, loads: map[int64]int{}}
			led := &fakeLedger{seen: map[string]bool{}, balances: map[int64]int64{}}
			r := &rules.Runner{Sets: staticSets{42: set}, Engine: engine(t, nil, func(o *rules.Options) { o.Facts = facts }), Ledger: led, Concurrency: 2}
			ev := rules.Event{Name: rules.EventLedgerCredited, TenantID: 1, GuildID: 42, SourceID: 9, OccurredAt: t0, UserID: 5,
				Data: map[string]any{"currency": "xp", "amount": int64(10)}}
			_, err := r.Process(context.Background(), 1, []rules.Event{ev})
			require.NoError(t, err)
			require.Equal(t, tc.loads, facts.loads[5])
			require.Equal(t, map[int64]int64{5: 1}, led.balances)
		})
	}
}

// Counters cost the facts loader a query of their own: a batch asks for
// them only when one of its events has a rule whose CEL reads them.
func TestCountersLoadedOnlyWhenRead(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	for _, tc := range []struct {
		name, expr string
		want       bool
	}{
		{"wallet only", "wallet['xp'] >= 0.0", false},
		{"counters", "counters['messages_today'] < 100.0", true},
		{"member and counters", "!member.bot && counters.messages_week >= 0.0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := ruleSet(t, c, nil,
				doc(t, `{"name":"plain","trigger":{"events":["message_create"]},"conditions":[{"type":"not_bot"}],
					"effects":[{"type":"credit","currency":"xp","base":1,"amount":"base"}]}`),
				doc(t, fmt.Sprintf(`{"name":"cel","trigger":{"events":["message_create"]},"conditions":[{"type":"cel","expr":%q}],
					"effects":[{"type":"credit","currency":"gold","base":1,"amount":"base"}]}`, tc.expr)))
			facts := &bulkFacts{countingFacts: countingFacts{loads: map[int64]int{}, StaticFacts: rules.StaticFacts{}}}
			led := &fakeLedger{seen: map[string]bool{}, balances: map[int64]int64{}}
			r := &rules.Runner{Sets: staticSets{42: set}, Engine: engine(t, nil, func(o *rules.Options) { o.Facts = facts }), Ledger: led, Concurrency: 2}
			_, err := r.Process(context.Background(), 1, []rules.Event{msg(1, t0, 30), msg(2, t0.Add(time.Second), 30)})
			require.NoError(t, err)
			require.Equal(t, []rules.FactNeeds{{Counters: tc.want}}, facts.needs)
		})
	}
}
