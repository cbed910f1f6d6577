package ledger_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/infra/postgres"
)

func TestBucketsPreserveOrder(t *testing.T) {
	t.Parallel()
	edges := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 40, -1000, -17, -16, -15, -1, 0, 1, 15, 16, 17, 31, 32, 33, 1000, 1 << 40, math.MaxInt64 - 1, math.MaxInt64}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		edges = append(edges, rng.Int64()-rng.Int64()/2, rng.Int64N(100000)-50000)
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i] < edges[j] })
	for i := 1; i < len(edges); i++ {
		require.LessOrEqual(t, ledger.BucketOf(edges[i-1]), ledger.BucketOf(edges[i]), "%d then %d", edges[i-1], edges[i])
	}
	for _, v := range edges {
		k := ledger.BucketOf(v)
		mx := ledger.BucketMax(k)
		require.GreaterOrEqual(t, mx, v, "bucket %d of %d", k, v)
		require.Equal(t, k, ledger.BucketOf(mx), "max of bucket %d", k)
		if mx < math.MaxInt64 {
			require.Equal(t, k+1, ledger.BucketOf(mx+1), "the next balance opens the next bucket (%d)", k)
		}
	}
}

// Ranks from buckets agree with a brute-force count, across negative,
// zero, tied and large balances, before and after a season reset.
func TestRankMatchesBruteForce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild.ID
	stars := b.currency(t, ledger.Currency{Code: "stars", Name: "Stars", Seasonal: true, AllowNegative: true, Transferable: true})
	rng := rand.New(rand.NewPCG(9, 10))
	var ops []ledger.Op
	for u := int64(1); u <= 400; u++ {
		amt := []int64{1, 15, 16, 17, 100, 1000, 1 + rng.Int64N(5000), 1 + rng.Int64N(1<<30)}[rng.IntN(8)]
		ops = append(ops, ledger.Op{Kind: ledger.KindCredit, Key: key("r"), GuildID: g, CurrencyID: stars.ID, To: u, Amount: amt})
	}
	for range 600 { // move value around, some members below zero
		from, to := 1+rng.Int64N(420), 1+rng.Int64N(420)
		if from != to {
			ops = append(ops, ledger.Op{Kind: ledger.KindTransfer, Key: key("r"), GuildID: g, CurrencyID: stars.ID, From: from, To: to, Amount: 1 + rng.Int64N(3000)})
		}
	}
	rs, err := b.led.ApplyBatch(b.ctx, ops)
	require.NoError(t, err)
	for _, r := range rs {
		require.NoError(t, r.Err)
	}
	check := func(t *testing.T) {
		balances := map[int64]int64{}
		rows, err := b.db.Pool.Query(b.ctx, `SELECT user_id, balance FROM ledger_wallets WHERE currency_id = $1`, stars.ID)
		require.NoError(t, err)
		for rows.Next() {
			var u, bal int64
			require.NoError(t, rows.Scan(&u, &bal))
			balances[u] = bal
		}
		require.NoError(t, rows.Err())
		for u := int64(1); u <= 430; u += 3 {
			want := int64(1)
			for _, other := range balances {
				if other > balances[u] {
					want++
				}
			}
			s, err := b.led.Rank(b.ctx, g, stars.ID, u, 0)
			require.NoError(t, err)
			require.Equal(t, want, s.Rank, "user %d balance %d", u, balances[u])
		}
	}
	t.Run("live", check)
	_, err = b.led.StartSeason(b.ctx, b.actor, g, "S")
	require.NoError(t, err)
	_, _, err = b.led.EndSeason(b.ctx, b.actor, g)
	require.NoError(t, err)
	b.credit(t, stars, 5, 10)
	t.Run("after a season reset", check)
	requireInvariants(t, b.db)
}

// requireBucketsMatch recomputes every rank bucket count from the wallets.
func requireBucketsMatch(t testing.TB, db *postgres.DB) {
	t.Helper()
	type key struct {
		tenant, guild, currency int64
		bucket                  int32
	}
	want := map[key]int64{}
	rows, err := db.Pool.Query(t.Context(), `SELECT tenant_id, guild_id, currency_id, balance FROM ledger_wallets`)
	require.NoError(t, err)
	for rows.Next() {
		var k key
		var bal int64
		require.NoError(t, rows.Scan(&k.tenant, &k.guild, &k.currency, &bal))
		k.bucket = ledger.BucketOf(bal)
		want[k]++
	}
	require.NoError(t, rows.Err())
	got := map[key]int64{}
	rows, err = db.Pool.Query(t.Context(), `SELECT tenant_id, guild_id, currency_id, bucket, wallets FROM ledger_rank_buckets WHERE wallets <> 0`)
	require.NoError(t, err)
	for rows.Next() {
		var k key
		var n int64
		require.NoError(t, rows.Scan(&k.tenant, &k.guild, &k.currency, &k.bucket, &n))
		got[k] = n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, want, got, "rank buckets must count the wallets exactly")
}
