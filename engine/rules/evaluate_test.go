package rules_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

func doc(t testing.TB, js string) rules.Document {
	t.Helper()
	var d rules.Document
	require.NoError(t, json.Unmarshal([]byte(js), &d))
	return d
}

func TestEffects(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	facts := rules.StaticFacts{1: {}, 2: {DMOptOut: true}}
	set := ruleSet(t, c, []rules.Zone{{Name: "help", Channels: []rules.Snowflake{100}, Multipliers: map[string]float64{"xp": 2}}},
		doc(t, `{"name":"everything","trigger":{"events":["message_create"]},"effects":[
			{"type":"credit","currency":"xp","base":10,"amount":"base * zone.multiplier * quality"},
			{"type":"debit","currency":"gold","amount":"2"},
			{"type":"grant_role","role":"555","duration_seconds":3600},
			{"type":"remove_role","role":"556"},
			{"type":"send_message","channel":"700","content":"{user} spoke in {channel} ({zone}, rule {rule})","embed":{"title":"Hi {user_id}","description":"{{literal}}"}},
			{"type":"dm","content":"thanks {user}"},
			{"type":"milestone_check","milestone":"talker"}]}`))
	e := engine(t, facts, nil)

	res := eval(t, e, set, msg(1, t0, 50))
	require.Equal(t, []string{
		"credit 20 xp to 1 [r1.v1.message_create." + itoa(t0.UnixNano()+1) + ".e0]",
		"debit 2 gold from 1 [r1.v1.message_create." + itoa(t0.UnixNano()+1) + ".e1]",
		"grant role 555 to 1 until 2026-03-02T13:00:00Z [r1.v1.message_create." + itoa(t0.UnixNano()+1) + ".e2]",
		"remove role 556 from 1 [r1.v1.message_create." + itoa(t0.UnixNano()+1) + ".e3]",
		`send to channel 700: "<@1> spoke in <#100> (help, rule everything)" embed "Hi 1"/"{literal}" [r1.v1.message_create.` + itoa(t0.UnixNano()+1) + ".e4]",
		`dm 1: "thanks <@1>" [r1.v1.message_create.` + itoa(t0.UnixNano()+1) + ".e5]",
		`milestone check "talker" for 1 [r1.v1.message_create.` + itoa(t0.UnixNano()+1) + ".e6]",
	}, describe(res))

	t.Run("dm respects the opt-out", func(t *testing.T) {
		res := eval(t, e, set, msg(2, t0, 50))
		for _, eff := range res.Effects {
			require.NotEqual(t, rules.EffectDM, eff.Kind())
		}
		require.Len(t, res.Effects, 6)
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	d := doc(t, `{"name":"xp","trigger":{"events":["message_create"]},"conditions":[{"type":"cooldown","seconds":60}],
		"effects":[{"type":"credit","currency":"xp","amount":"5"},{"type":"credit","currency":"gold","amount":"1"}]}`)
	set := ruleSet(t, c, nil, d)
	e := engine(t, rules.StaticFacts{}, nil)
	ev := msg(1, t0, 50)

	first := eval(t, e, set, ev)
	again := eval(t, e, set, ev) // the task ran twice: the cooldown it set does not refuse it
	require.Len(t, first.Effects, 2)
	require.Equal(t, first.Effects, again.Effects, "a retried event plans the same effects with the same keys")
	require.NotEqual(t, first.Effects[0].Meta().IdempotencyKey(), first.Effects[1].Meta().IdempotencyKey())

	cr, err := c.Compile(rules.Rule{ID: 1, Version: 2, Enabled: true, Document: d})
	require.NoError(t, err)
	v2 := eval(t, e, rules.NewRuleSet(1, 42, []*rules.CompiledRule{cr}, nil), ev)
	require.Len(t, v2.Effects, 2)
	require.NotEqual(t, first.Effects[0].Meta().IdempotencyKey(), v2.Effects[0].Meta().IdempotencyKey(), "a new rule version is a new key")

	require.Equal(t, "r1.v1.message_create."+itoa(ev.SourceID)+".e0", first.Effects[0].Meta().IdempotencyKey())

	// A thread shares its starter message's snowflake: the event name keeps their keys apart.
	both := ruleSet(t, c, nil, doc(t, `{"name":"any","trigger":{"events":["message_create","thread_create"]},"effects":[{"type":"credit","currency":"xp","amount":"5"}]}`))
	thread := ev
	thread.Name = "thread_create"
	km := eval(t, e, both, ev).Effects[0].Meta().IdempotencyKey()
	kt := eval(t, e, both, thread).Effects[0].Meta().IdempotencyKey()
	require.NotEqual(t, km, kt)
}

func TestChaining(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	t.Run("emitted events are evaluated in the same pass", func(t *testing.T) {
		t.Parallel()
		set := ruleSet(t, c, nil,
			doc(t, `{"name":"level","trigger":{"events":["message_create"]},"conditions":[{"type":"cel","expr":"wallet['xp'] >= 100.0"}],
				"effects":[{"type":"emit","event":"level.up","data":{"level":"int(wallet['xp'] / 100.0)"}}]}`),
			doc(t, `{"name":"announce","trigger":{"events":["level.up"]},"effects":[
				{"type":"send_message","channel":"9","content":"{user} reached level {data.level}"},
				{"type":"credit","currency":"gold","amount":"double(event.data.level) * 10.0"}]}`))
		e := engine(t, rules.StaticFacts{1: {Wallet: map[string]float64{"xp": 340}}}, nil)
		res := eval(t, e, set, msg(1, t0, 50))
		require.Len(t, res.Effects, 3)
		require.Equal(t, rules.EffectEmit, res.Effects[0].Kind())
		send := res.Effects[1].(rules.SendMessage)
		require.Equal(t, "<@1> reached level 3", send.Content)
		require.Equal(t, []int64{1}, send.Chain)
		credit := res.Effects[2].(*rules.Credit)
		require.Equal(t, int64(30), credit.Amount)
		require.Len(t, res.Fired, 2)
	})
	t.Run("a rule never fires twice in one chain", func(t *testing.T) {
		t.Parallel()
		set := ruleSet(t, c, nil,
			doc(t, `{"name":"ping","trigger":{"events":["custom.ping","message_create"]},"effects":[{"type":"emit","event":"custom.pong"}]}`),
			doc(t, `{"name":"pong","trigger":{"events":["custom.pong"]},"effects":[{"type":"emit","event":"custom.ping"}]}`))
		e := engine(t, rules.StaticFacts{}, nil)
		res := eval(t, e, set, msg(1, t0, 50))
		require.Len(t, res.Fired, 2, "ping then pong; pong's ping finds ping already in the chain")
		require.Empty(t, res.Failures)
	})
	t.Run("chains deeper than MaxDepth stop", func(t *testing.T) {
		t.Parallel()
		set := ruleSet(t, c, nil,
			doc(t, `{"name":"a","trigger":{"events":["message_create"]},"effects":[{"type":"emit","event":"custom.b"}]}`),
			doc(t, `{"name":"b","trigger":{"events":["custom.b"]},"effects":[{"type":"emit","event":"custom.c"}]}`),
			doc(t, `{"name":"c","trigger":{"events":["custom.c"]},"effects":[{"type":"emit","event":"custom.d"}]}`),
			doc(t, `{"name":"d","trigger":{"events":["custom.d"]},"effects":[{"type":"credit","currency":"xp","amount":"1"}]}`))
		e := engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.MaxDepth = 2 })
		res := eval(t, e, set, msg(1, t0, 50))
		require.Len(t, res.Fired, 3, "a, b (depth 1) and c (depth 2) fire; c's custom.d would be depth 3")
		require.Len(t, res.Failures, 1)
		require.Contains(t, res.Failures[0].Error, "chain depth 3 exceeds 2: custom.d not evaluated")
	})
	t.Run("credits fed back as ledger.credited carry the chain", func(t *testing.T) {
		t.Parallel()
		set := ruleSet(t, c, nil,
			doc(t, `{"name":"bonus","trigger":{"events":["ledger.credited"]},"effects":[{"type":"credit","currency":"xp","amount":"1"}]}`))
		e := engine(t, rules.StaticFacts{}, nil)
		credited := rules.CreditedEvent(rules.Credit{Origin: rules.Origin{RuleID: 1, GuildID: 42, FixedKey: "k"}, UserID: 1, Currency: "xp", Amount: 1}, 1, t0)
		require.Empty(t, eval(t, e, set, credited).Fired, "the bonus rule's own credit does not trigger it again")
	})
}

func TestPriorityOrder(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	set := ruleSet(t, c, nil,
		doc(t, `{"name":"low","priority":-5,"trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"a","amount":"1"}]}`),
		doc(t, `{"name":"high","priority":50,"trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"b","amount":"1"}]}`),
		doc(t, `{"name":"mid","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"c","amount":"1"}]}`))
	res := eval(t, engine(t, rules.StaticFacts{}, nil), set, msg(1, t0, 50))
	var names []string
	for _, f := range res.Fired {
		names = append(names, f.Name)
	}
	require.Equal(t, []string{"high", "mid", "low"}, names)
}

// recordingDisabler records auto-disable requests.
type recordingDisabler struct {
	mu    sync.Mutex
	calls []string
}

func (d *recordingDisabler) AutoDisable(_ context.Context, tenantID, guildID, ruleID int64, version int, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, reason)
	return nil
}

func TestRuntimeFailures(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	set := ruleSet(t, c, nil,
		doc(t, `{"name":"broken","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"100.0 / wallet['gems']"}]}`),
		doc(t, `{"name":"fine","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"3"}]}`))
	dis := &recordingDisabler{}
	facts := rules.StaticFacts{1: {}, 2: {Wallet: map[string]float64{"gems": 1}}}
	e := engine(t, facts, func(o *rules.Options) { o.Disabler = dis; o.FailureThreshold = 3 })

	at := t0
	step := func(user int64) rules.Result {
		at = at.Add(time.Second)
		return eval(t, e, set, msg(user, at, 50))
	}
	for i := 0; i < 2; i++ {
		res := step(1)
		require.Len(t, res.Failures, 1)
		require.Equal(t, "broken", res.Failures[0].Name)
		require.Contains(t, res.Failures[0].Error, "gems")
		require.Len(t, res.Effects, 1, "the other rule still fires")
	}
	require.Len(t, step(2).Effects, 2, "a success resets the consecutive count")
	for i := 0; i < 2; i++ {
		require.False(t, step(1).Failures[0].Disabled)
	}
	res := step(1)
	require.True(t, res.Failures[0].Disabled, "the third consecutive failure disables")
	step(1)
	require.Len(t, dis.calls, 1, "auto-disable is requested once")
	require.Contains(t, dis.calls[0], "3 consecutive failures")
}

func TestCostLimit(t *testing.T) {
	t.Parallel()
	c, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{CostLimit: 2000})
	require.NoError(t, err)
	tests := []struct {
		name string
		expr string
		ok   bool
	}{
		{"cheap", "event.length > 20.0 && 10 in member.roles", true},
		{"nested comprehension over inputs", "member.roles.all(r, member.roles.exists(s, s == r))", false},
		{"small literal comprehension", "[1,2,3].all(x, x > 0)", true},
		{"literal list times input", "[1,2,3,4,5,6,7,8,9,10].all(x, member.roles.exists(r, r == x))", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := c.Validate(doc(t, `{"name":"x","trigger":{"events":["message_create"]},
				"conditions":[{"type":"cel","expr":`+strconv.Quote(tc.expr)+`}],"effects":[{"type":"credit","currency":"xp","amount":"1"}]}`))
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var ve *apperr.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "conditions[0].expr", ve.Field)
			require.Contains(t, ve.Message, "more than the limit of 2000")
		})
	}
}

type failingFacts struct{}

func (failingFacts) Member(context.Context, int64, int64) (rules.MemberFacts, error) {
	return rules.MemberFacts{}, errors.New("db down")
}

func TestInfrastructureErrorsAbortTheEvent(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	set := ruleSet(t, c, nil, doc(t, `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"not_bot"}],"effects":[{"type":"credit","currency":"xp","amount":"1"}]}`))
	e, err := rules.NewEngine(rules.Options{State: rules.NewMemoryState(), Facts: failingFacts{}})
	require.NoError(t, err)
	_, err = e.Evaluate(context.Background(), set, msg(1, t0, 50))
	require.ErrorContains(t, err, "db down")
}
