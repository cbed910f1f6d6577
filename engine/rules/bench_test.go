package rules_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/testenv"
)

// fiftyRules is a guild with 50 enabled rules of mixed kinds: 20 on
// messages (the event benchmarked), the rest on reactions, voice, threads
// and internal events. Message rules mix zone, role, length, quality,
// time-window, chance, CEL conditions, cooldowns and caps, and every
// credit's amount is a CEL expression.
func fiftyRules(b testing.TB) *rules.RuleSet {
	c := compiler(b)
	var docs []rules.Document
	msgConds := []string{
		`{"type":"not_bot"}`,
		`{"type":"channel_in_zone","zones":["general","help"]}`,
		`{"type":"min_length","chars":10}`,
		`{"type":"min_quality","score":1.0}`,
		`{"type":"has_role","roles":["10","11"]}`,
		`{"type":"lacks_role","roles":["66"]}`,
		`{"type":"time_window","from":"06:00","to":"23:00"}`,
		`{"type":"random_chance","probability":0.5}`,
		`{"type":"cel","expr":"event.length > 20.0 && wallet['xp'] < 100000.0"}`,
		`{"type":"account_age","min_days":7}`,
	}
	amounts := []string{
		"base * zone.multiplier * quality",
		"base * zone.multiplier",
		"base + event.code_blocks * 2.0",
		"math.least(base * quality, 50.0)",
	}
	for i := 0; i < 20; i++ {
		conds := fmt.Sprintf(`%s,%s`, msgConds[i%len(msgConds)], msgConds[(i+3)%len(msgConds)])
		if i%2 == 0 {
			conds += fmt.Sprintf(`,{"type":"cooldown","seconds":%d}`, 30+i)
		}
		if i%4 == 0 {
			conds += `,{"type":"cap","currency":"xp","limit":500}`
		}
		docs = append(docs, doc(b, fmt.Sprintf(`{"name":"msg %d","priority":%d,"trigger":{"events":["message_create"]},"conditions":[%s],
			"effects":[{"type":"credit","currency":"xp","base":%d,"amount":%q}]}`, i, i, conds, 5+i, amounts[i%len(amounts)])))
	}
	others := []struct {
		event, cond, to string
	}{
		{"reaction_add", `{"type":"reaction_velocity","limit":3,"window_seconds":3600}`, "target"},
		{"voice_leave", `{"type":"voice_not_afk","min_seconds":60}`, "actor"},
		{"thread_create", `{"type":"cooldown","seconds":900}`, "actor"},
		{"ledger.credited", `{"type":"cel","expr":"event.data.currency == 'xp'"}`, "actor"},
	}
	for i := 0; i < 30; i++ {
		o := others[i%len(others)]
		docs = append(docs, doc(b, fmt.Sprintf(`{"name":"other %d","trigger":{"events":[%q]},"conditions":[{"type":"not_bot"},%s],
			"effects":[{"type":"credit","currency":"gold","base":2,"amount":"base * zone.multiplier","to":%q}]}`, i, o.event, o.cond, o.to)))
	}
	zones := []rules.Zone{
		{Name: "general", Channels: []rules.Snowflake{100, 101}, Multipliers: map[string]float64{"xp": 1, "gold": 1}},
		{Name: "help", Channels: []rules.Snowflake{200}, Multipliers: map[string]float64{"xp": 1.5, "gold": 2}},
	}
	return ruleSet(b, c, zones, docs...)
}

// BenchmarkEvaluate50Rules: one message event against 50 enabled rules, in
// process (memory state, static facts), into a reused Result as the Runner
// evaluates its batches. Reports the median and p99 latency of single
// evaluations besides the mean.
func BenchmarkEvaluate50Rules(b *testing.B) { benchmarkEvaluate(b, true) }

// BenchmarkEvaluate50RulesNewResult is BenchmarkEvaluate50Rules with a new
// Result per event (Evaluate): what reusing one saves.
func BenchmarkEvaluate50RulesNewResult(b *testing.B) { benchmarkEvaluate(b, false) }

func benchmarkEvaluate(b *testing.B, reuse bool) {
	set := fiftyRules(b)
	e := engine(b, benchFacts(1000), nil)
	ctx := context.Background()
	base := t0.Add(-4 * time.Hour) // 08:00, inside the time windows
	events := make([]rules.Event, 4096)
	for i := range events {
		ev := msg(int64(i%1000+1), base, int64(15+i%300))
		ev.ChannelID = []int64{100, 101, 200, 300}[i%4]
		events[i] = ev
	}
	var res rules.Result
	// A guild in steady state: the same traffic ran for the hour before,
	// so its members' cooldown, velocity and cap state exists and the
	// cooldown marks are at their retention length (kept an hour, then
	// dropped), as in a worker that has been running. The first event of
	// each member, creating its state, is not what the benchmark measures.
	const warm = int(rules.Retention / (10 * time.Millisecond))
	for i := 0; i < warm; i++ {
		ev := events[i%len(events)]
		ev.SourceID = -int64(i + 1)
		ev.OccurredAt = base.Add(time.Duration(i-warm) * 10 * time.Millisecond)
		if err := e.EvaluateInto(ctx, set, ev, &res); err != nil {
			b.Fatal(err)
		}
	}
	// The warm-up's garbage is an hour's, made in a second: collect it
	// now, as testing does before every benchmark, rather than in the
	// measured evaluations.
	runtime.GC()
	lat := make([]time.Duration, 0, b.N)
	fired, effects := 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := events[i%len(events)]
		ev.SourceID = int64(i + 1)
		ev.OccurredAt = base.Add(time.Duration(i) * 10 * time.Millisecond)
		start := time.Now()
		var err error
		if reuse {
			err = e.EvaluateInto(ctx, set, ev, &res)
		} else {
			res, err = e.Evaluate(ctx, set, ev)
		}
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		fired += len(res.Fired)
		effects += len(res.Effects)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "median-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(fired)/float64(b.N), "fired/op")
	b.ReportMetric(float64(effects)/float64(b.N), "effects/op")
}

// benchFacts are members 1..n, with the roles and wallets the fifty rules read.
func benchFacts(n int64) rules.StaticFacts {
	facts := rules.StaticFacts{}
	for u := int64(1); u <= n; u++ {
		facts[u] = rules.MemberFacts{Roles: []int64{10, 12}, Wallet: map[string]float64{"xp": float64(u * 10), "gold": 5}}
	}
	return facts
}

// redisEngine is an engine over Redis state (one call each, or batched)
// and a counter of its round trips.
func redisEngine(b *testing.B, facts rules.StaticFacts, oneCallEach bool) (*rules.Engine, *countCalls) {
	rdb := testenv.Redis(b)
	calls := &countCalls{}
	rdb.AddHook(calls)
	e := engine(b, facts, func(o *rules.Options) { o.State = rules.NewRedisState(rdb, nil) })
	if oneCallEach {
		rules.OneCallEach(e)
	}
	return e, calls
}

// BenchmarkRedisState50Rules is BenchmarkEvaluate50Rules over Redis
// state, with an event's State calls batched (one round trip) or made one
// call each; reports the round trips per event.
func BenchmarkRedisState50Rules(b *testing.B) {
	for _, mode := range []string{"batched", "one call each"} {
		b.Run(mode, func(b *testing.B) {
			set := fiftyRules(b)
			e, calls := redisEngine(b, benchFacts(1000), mode != "batched")
			ctx := context.Background()
			base := t0.Add(-4 * time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ev := msg(int64(i%1000+1), base.Add(time.Duration(i)*10*time.Millisecond), int64(15+i%300))
				ev.ChannelID = []int64{100, 101, 200, 300}[i%4]
				if _, err := e.Evaluate(ctx, set, ev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(calls.n.Load())/float64(b.N), "round-trips/op")
		})
	}
}

// BenchmarkRunnerRedisState: a Runner (8 shards, as the rules worker runs
// it) processing batches of 200 message events from 50 members against
// the 50 rules over Redis state, with each shard's State calls pipelined
// or one call each; reports round trips per event.
func BenchmarkRunnerRedisState(b *testing.B) {
	for _, mode := range []string{"pipelined", "one call each"} {
		b.Run(mode, func(b *testing.B) {
			e, calls := redisEngine(b, benchFacts(50), mode != "pipelined")
			r := &rules.Runner{Sets: staticSets{42: fiftyRules(b)}, Engine: e, Ledger: &postings{}, Concurrency: 8}
			ctx := context.Background()
			base := t0.Add(-4 * time.Hour)
			batch := make([]rules.Event, 200)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range batch {
					n := i*len(batch) + j
					ev := msg(int64(n%50+1), base.Add(time.Duration(n)*100*time.Millisecond), int64(15+n%300))
					ev.SourceID = int64(n + 1)
					ev.ChannelID = []int64{100, 101, 200, 300}[n%4]
					batch[j] = ev
				}
				if _, err := r.Process(ctx, 1, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(calls.n.Load())/float64(b.N*len(batch)), "round-trips/event")
		})
	}
}

// BenchmarkLatencyFloor times a fixed, allocation-free computation of
// about the median evaluation's length, reported like
// BenchmarkEvaluate50Rules: the p99 this machine adds to any work that
// long (preemption, interrupts, a shared VM's steal), to read that
// benchmark's p99 against.
func BenchmarkLatencyFloor(b *testing.B) {
	lat := make([]time.Duration, 0, b.N)
	var sink uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		h := uint64(i)
		for j := 0; j < 4000; j++ {
			h = h*1099511628211 ^ uint64(j)
		}
		sink += h
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	if sink == 42 {
		b.Log("unlikely")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "median-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
