package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
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

// randomCredit is what the rules engine mostly sends: XP for a message.
func randomCredit(tb *testBundle, rng *rand.Rand, key string) ledger.Op {
	return ledger.Op{Kind: ledger.KindCredit, Key: key, GuildID: tb.guild.ID, CurrencyID: tb.xp.ID,
		To: 1 + rng.Int64N(benchMembers), Amount: 15 + rng.Int64N(11), Source: "rule:message-xp"}
}

type opGen func(tb *testBundle, rng *rand.Rand, key string) ledger.Op

// opMixes: transfers are the worst case (two wallets written per two
// postings); credits are the common one (one wallet, the issuer unlocked).
var opMixes = []struct {
	name string
	gen  opGen
}{{"transfers", randomTransfer}, {"credits", randomCredit}}

// BenchmarkLedgerPostingsBatched: the rules engine's path, 1000 ops per
// ApplyBatch call (one database transaction), from one caller.
func BenchmarkLedgerPostingsBatched(b *testing.B) {
	for _, mix := range opMixes {
		b.Run(mix.name, func(b *testing.B) {
			tb := setup(b)
			fundMembers(b, tb, benchMembers, func(int) int64 { return 1 << 40 })
			rng := rand.New(rand.NewPCG(1, 2))
			postings, seq := 0, 0
			for b.Loop() {
				ops := make([]ledger.Op, benchBatchSize)
				for i := range ops {
					seq++
					ops[i] = mix.gen(tb, rng, fmt.Sprintf("bb-%d", seq))
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
		})
	}
}

// BenchmarkLedgerPostingsBatchedTwoWorkers: two rules-engine workers, each
// applying 1000-transfer batches to its own half of the members (as
// workers partitioned by guild would), to use both cores.
func BenchmarkLedgerPostingsBatchedTwoWorkers(b *testing.B) {
	tb := setup(b)
	fundMembers(b, tb, benchMembers, func(int) int64 { return 1 << 40 })
	var postings atomic.Int64
	var seq atomic.Int64
	worker := func(half int64, rounds int) error {
		rng := rand.New(rand.NewPCG(uint64(half), 9))
		for range rounds {
			ops := make([]ledger.Op, benchBatchSize)
			for i := range ops {
				op := randomTransfer(tb, rng, fmt.Sprintf("bw-%d", seq.Add(1)))
				// fold both members into this worker's half
				op.From = 1 + half*benchMembers/2 + (op.From-1)%(benchMembers/2)
				op.To = 1 + half*benchMembers/2 + (op.To-1)%(benchMembers/2)
				if op.To == op.From {
					op.To = 1 + half*benchMembers/2 + op.From%(benchMembers/2)
				}
				ops[i] = op
			}
			rs, err := tb.led.ApplyBatch(tb.ctx, ops)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.Err != nil {
					return r.Err
				}
				postings.Add(int64(len(r.Postings)))
			}
		}
		return nil
	}
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for half := range int64(2) {
			wg.Go(func() { errs[half] = worker(half, 1) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(postings.Load())/b.Elapsed().Seconds(), "postings/s")
}

// BenchmarkLedgerPostingsNaive: the same ops, one per transaction.
func BenchmarkLedgerPostingsNaive(b *testing.B) {
	for _, mix := range opMixes {
		b.Run(mix.name, func(b *testing.B) {
			tb := setup(b)
			fundMembers(b, tb, benchMembers, func(int) int64 { return 1 << 40 })
			rng := rand.New(rand.NewPCG(1, 2))
			postings, seq := 0, 0
			for b.Loop() {
				seq++
				r, err := tb.led.Apply(tb.ctx, mix.gen(tb, rng, fmt.Sprintf("bn-%d", seq)))
				if err != nil {
					b.Fatal(err)
				}
				postings += len(r.Postings)
			}
			b.ReportMetric(float64(postings)/b.Elapsed().Seconds(), "postings/s")
		})
	}
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
