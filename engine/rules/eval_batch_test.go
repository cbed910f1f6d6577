package rules_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/testenv"
)

// countCalls counts the commands (and pipelines) a client sends.
type countCalls struct{ n atomic.Int64 }

func (c *countCalls) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *countCalls) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *countCalls) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(1); return next(ctx, cmds) }
}

// statefulRules exercise every State call and how rules stop: cooldowns
// per user and channel, caps on actor and target (one shared by every rule
// of the currency), velocity, stateless refusals before stateful ones, an
// amount that fails only for some events, and a chained event with its own
// cooldown whose credits share a cap with the next events'. perMember keeps every piece of state to one member (a Runner's
// shards run side by side: what they share is decided in either order).
func statefulRules(t *testing.T, perMember bool) *rules.RuleSet {
	c := compiler(t)
	channel, target := "channel", "target"
	if perMember {
		channel, target = "user", "actor"
	}
	return ruleSet(t, c, nil,
		doc(t, `{"name":"chat","trigger":{"events":["message_create"]},"conditions":[{"type":"min_length","chars":5},{"type":"cooldown","seconds":30},
			{"type":"cap","currency":"xp","limit":40}],"effects":[{"type":"credit","currency":"xp","base":15,"amount":"base"}]}`),
		doc(t, `{"name":"channel","trigger":{"events":["message_create"]},"conditions":[{"type":"min_length","chars":14},{"type":"cooldown","seconds":20,"per":"`+channel+`"}],
			"effects":[{"type":"credit","currency":"gold","base":1,"amount":"base"},{"type":"emit","event":"custom.bonus"}]}`),
		doc(t, `{"name":"shared cap","trigger":{"events":["message_create"]},"conditions":[{"type":"cap","currency":"gems","limit":70,"scope":"currency"},
			{"type":"cooldown","seconds":10}],"effects":[{"type":"credit","currency":"gems","base":7,"amount":"base"}]}`),
		doc(t, `{"name":"shared cap too","trigger":{"events":["message_create"]},"conditions":[{"type":"cap","currency":"gems","limit":70,"scope":"currency"}],
			"effects":[{"type":"credit","currency":"gems","base":4,"amount":"base + event.length / 10.0"}]}`),
		doc(t, `{"name":"fails after its cooldown","trigger":{"events":["message_create"]},"conditions":[{"type":"cooldown","seconds":15}],
			"effects":[{"type":"credit","currency":"xp","base":1,"amount":"base / (event.length - 12.0)"}]}`),
		doc(t, `{"name":"bonus","trigger":{"events":["custom.bonus"]},"conditions":[{"type":"cooldown","seconds":45},
			{"type":"cap","currency":"gems","limit":70,"scope":"currency"}],"effects":[{"type":"credit","currency":"gems","base":3,"amount":"base"}]}`),
		doc(t, `{"name":"reactions","trigger":{"events":["reaction_add"]},"conditions":[{"type":"reaction_velocity","limit":2,"window_seconds":60},
			{"type":"cap","currency":"karma","limit":5}],"effects":[{"type":"credit","currency":"karma","base":2,"amount":"base","to":"`+target+`"},
			{"type":"credit","currency":"karma","base":1,"amount":"base"}]}`),
	)
}

func statefulEvents() []rules.Event {
	var evs []rules.Event
	for i := 0; i < 240; i++ {
		at := t0.Add(time.Duration(i)*3*time.Second + time.Duration(i%7)*time.Second)
		if i%11 == 5 {
			at = at.Add(-20 * time.Second) // late
		}
		user := int64(i%4 + 1)
		if i%3 == 2 {
			evs = append(evs, rules.Event{Name: "reaction_add", TenantID: 1, GuildID: 42, SourceID: int64(10_000 + i), OccurredAt: at,
				UserID: user, ChannelID: 100, TargetID: int64((i/3)%3 + 1), MessageID: int64(500 + (i/3)%5)})
			continue
		}
		ev := msg(user, at, int64(i%17))
		ev.SourceID = int64(10_000 + i)
		ev.ChannelID = int64(100 + i%2)
		evs = append(evs, ev)
	}
	return evs
}

// redisDump is every key's value in a form that compares.
func redisDump(t *testing.T, rdb *redis.Client) map[string]any {
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "rules:*").Result()
	require.NoError(t, err)
	out := map[string]any{}
	for _, k := range keys {
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "zset":
			out[k] = rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "hash":
			out[k] = rdb.HGetAll(ctx, k).Val()
		default:
			out[k] = typ
		}
	}
	return out
}

func outcome(res rules.Result) []string {
	out := describe(res)
	for _, f := range res.Fired {
		out = append(out, fmt.Sprintf("fired %s", f.Name))
	}
	for _, f := range res.Failures {
		out = append(out, fmt.Sprintf("failed %s: %s", f.Name, f.Error))
	}
	return out
}

// An event's State calls in one round trip decide exactly what one call
// each decides, on the first run and when the whole sequence is retried,
// and leave the same state in Redis.
func TestBatchedStateMatchesOneCallEach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := func() time.Time { return t0 }
	facts := rules.StaticFacts{}
	oneRDB, batchRDB := testenv.Redis(t), testenv.Redis(t)
	var oneCalls, batchCalls countCalls
	oneRDB.AddHook(&oneCalls)
	batchRDB.AddHook(&batchCalls)
	one := engine(t, facts, func(o *rules.Options) { o.State = rules.NewRedisState(oneRDB, now) })
	rules.OneCallEach(one)
	batched := engine(t, facts, func(o *rules.Options) { o.State = rules.NewRedisState(batchRDB, now) })
	oneSet, batchSet := statefulRules(t, false), statefulRules(t, false)

	evs := statefulEvents()
	kinds := map[string]int{}
	for pass := 0; pass < 2; pass++ { // the second pass is a retried task
		for i, ev := range evs {
			want, err := one.Evaluate(ctx, oneSet, ev)
			require.NoError(t, err)
			got, err := batched.Evaluate(ctx, batchSet, ev)
			require.NoError(t, err)
			require.Equal(t, outcome(want), outcome(got), "pass %d, event %d", pass, i)
			for _, line := range outcome(want) {
				kinds[line[:4]]++
				if line == "fired channel" {
					kinds["emit"]++ // custom.bonus, evaluated in the same call
				}
			}
		}
	}
	// The sequence exercised what it is meant to: credits, clipped and
	// refused rules, failures.
	require.Positive(t, kinds["cred"])
	require.Positive(t, kinds["fail"])
	require.Positive(t, kinds["emit"])
	// One script call per event, chained ones included (and one more to
	// load the script), where one call each made several.
	oneN, batchN := oneCalls.n.Load(), batchCalls.n.Load()
	require.LessOrEqual(t, batchN, int64(2*len(evs)+kinds["emit"]+1))
	require.Greater(t, oneN, 2*batchN)
	t.Logf("round trips: one call each %d, batched %d, for %d events twice", oneN, batchN, len(evs))
	require.Equal(t, redisDump(t, oneRDB), redisDump(t, batchRDB))
}

// postings records what a ledger was asked to post, in order.
type postings struct {
	mu    sync.Mutex
	lines []string
}

func (p *postings) Post(_ context.Context, _ int64, credits []rules.Credit, debits []rules.Debit) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range credits {
		p.lines = append(p.lines, fmt.Sprintf("%s %d %s to %d", c.IdempotencyKey(), c.Amount, c.Currency, c.UserID))
	}
	return nil
}

// A Runner pipelining each shard's events decides what one call each
// decides, batch after batch and when a batch is retried, whatever the
// concurrency, in far fewer round trips.
func TestRunnerPipelineMatchesOneCallEach(t *testing.T) {
	t.Parallel()
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprintf("concurrency %d", conc), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := func() time.Time { return t0 }
			type side struct {
				rdb    *redis.Client
				calls  countCalls
				ledger postings
				runner *rules.Runner
				report []rules.BatchReport
			}
			var one, piped side
			for _, s := range []*side{&one, &piped} {
				s.rdb = testenv.Redis(t)
				s.rdb.AddHook(&s.calls)
				e := engine(t, rules.StaticFacts{}, func(o *rules.Options) { o.State = rules.NewRedisState(s.rdb, now) })
				if s == &one {
					rules.OneCallEach(e)
				}
				s.runner = &rules.Runner{Sets: staticSets{42: statefulRules(t, conc > 1)}, Engine: e, Ledger: &s.ledger, Concurrency: conc}
			}
			evs := statefulEvents()
			batches := [][]rules.Event{evs[:100], evs[100:], evs[100:], evs} // the last two retried
			for _, batch := range batches {
				for _, s := range []*side{&one, &piped} {
					rep, err := s.runner.Process(ctx, 1, batch)
					require.NoError(t, err)
					s.report = append(s.report, rep)
				}
			}
			oneN, pipedN := one.calls.n.Load(), piped.calls.n.Load()
			require.Equal(t, one.report, piped.report)
			require.Equal(t, one.ledger.lines, piped.ledger.lines)
			require.Equal(t, redisDump(t, one.rdb), redisDump(t, piped.rdb))
			require.NotEmpty(t, one.report[0].Failures)
			require.Positive(t, one.report[0].Effects)
			require.Less(t, 5*pipedN, oneN)
			t.Logf("round trips for %d events: one call each %d, pipelined %d", 2*len(evs), oneN, pipedN)
		})
	}
}
