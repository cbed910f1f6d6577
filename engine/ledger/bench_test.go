package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
)

// Run side by side:
//
//	go test -run '^$' -bench 'LedgerPostings' -benchtime 5s ./engine/ledger/
//	go test -run '^$' -bench 'LedgerLeaderboard' -benchtime 2000x ./engine/ledger/

const (
	benchMembers   = 10000
	benchBatchSize = 1000
)

// fundMembers gives every member enough gold for any benchmark run.
func fundMembers(b *testing.B, tb *testBundle, n int, amount func(i int) int64) {
	b.Helper()
	for start := 0; start < n; start += ledger.MaxBatchOps {
		var ops []ledger.Op
		for i := start; i < min(start+ledger.MaxBatchOps, n); i++ {
			ops = append(ops, ledger.Op{Kind: ledger.KindCredit, Key: fmt.Sprintf("fund-%d", i), GuildID: tb.guild.ID,
				CurrencyID: tb.gold.ID, To: int64(i + 1), Amount: amount(i)})
		}
		rs, err := tb.led.ApplyBatch(tb.ctx, ops)
		require.NoError(b, err)
		for _, r := range rs {
			require.NoError(b, r.Err)
		}
	}
	// Autovacuum would have analyzed the tables on a live system; without
	// statistics the planner guesses badly on a table that just grew.
	_, err := tb.db.Pool.Exec(tb.ctx, `ANALYZE`)
	require.NoError(b, err)
}

func randomTransfer(tb *testBundle, rng *rand.Rand, key string) ledger.Op {
	from := 1 + rng.Int64N(benchMembers)
	to := 1 + rng.Int64N(benchMembers-1)
	if to >= from {
		to++
	}
	return ledger.Op{Kind: ledger.KindTransfer, Key: key, GuildID: tb.guild.ID, CurrencyID: tb.gold.ID,
		From: from, To: to, Amount: 1 + rng.Int64N(5), Source: "bench"}
}

// BenchmarkLedgerPostingsBatched: the rules engine's path, 1000 transfers
// (2000 postings) per ApplyBatch call, one database transaction each.
func BenchmarkLedgerPostingsBatched(b *testing.B) {
	tb := setup(b)
	fundMembers(b, tb, benchMembers, func(int) int64 { return 1 << 40 })
	rng := rand.New(rand.NewPCG(1, 2))
	postings, seq := 0, 0
	for b.Loop() {
		ops := make([]ledger.Op, benchBatchSize)
		for i := range ops {
			seq++
			ops[i] = randomTransfer(tb, rng, fmt.Sprintf("bb-%d", seq))
		}
		rs, err := tb.led.ApplyBatch(tb.ctx, ops)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			postings += len(r.Postings)
		}
	}
	b.ReportMetric(float64(postings)/b.Elapsed().Seconds(), "postings/s")
}

// BenchmarkLedgerPostingsNaive: the same transfers, one per transaction.
func BenchmarkLedgerPostingsNaive(b *testing.B) {
	tb := setup(b)
	fundMembers(b, tb, benchMembers, func(int) int64 { return 1 << 40 })
	rng := rand.New(rand.NewPCG(1, 2))
	postings, seq := 0, 0
	for b.Loop() {
		seq++
		r, err := tb.led.Apply(tb.ctx, randomTransfer(tb, rng, fmt.Sprintf("bn-%d", seq)))
		if err != nil {
			b.Fatal(err)
		}
		postings += len(r.Postings)
	}
	b.ReportMetric(float64(postings)/b.Elapsed().Seconds(), "postings/s")
}

// BenchmarkLedgerLeaderboard100k: a guild of 100,000 members, seeded once;
// each iteration reads the top 10 and one random member's rank, as
// /leaderboard does. Reports p50 and p99 latency.
func BenchmarkLedgerLeaderboard100k(b *testing.B) {
	const members = 100000
	tb := setup(b)
	// A long-tailed distribution, like real activity: many small, few large.
	seed := rand.New(rand.NewPCG(3, 4))
	fundMembers(b, tb, members, func(int) int64 { return 1 + int64(seed.ExpFloat64()*1000) })
	// Autovacuum would do this on a live system; the rank count is an
	// index-only scan once the visibility map is set.
	_, err := tb.db.Pool.Exec(tb.ctx, `VACUUM ANALYZE ledger_wallets`)
	require.NoError(b, err)
	rng := rand.New(rand.NewPCG(5, 6))
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		top, err := tb.led.Leaderboard(tb.ctx, tb.guild.ID, tb.gold.ID, ledger.LeaderboardQuery{Limit: 10})
		if err != nil || len(top) != 10 {
			b.Fatal(err, len(top))
		}
		if _, err := tb.led.Rank(tb.ctx, tb.guild.ID, tb.gold.ID, 1+rng.Int64N(members), 0); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
