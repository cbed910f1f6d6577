package ledger

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Rank buckets (table ledger_rank_buckets) make a live rank cheap on a big
// guild: rank = 1 + wallets in higher buckets (a sum over at most ~1900
// small rows) + wallets above the member inside their own bucket (an index
// range scan over a bucket that holds balances within 1/16 of each other).
//
// Buckets preserve order: 0 is its own bucket; a positive balance v maps to
// v itself below 16, then to 16 sub-buckets per power of two; a negative
// balance mirrors its absolute value below zero.

// bucketOf maps a balance to its bucket.
func bucketOf(balance int64) int32 {
	switch {
	case balance == 0:
		return 0
	case balance > 0:
		return magnitudeBucket(uint64(balance))
	case balance == math.MinInt64:
		return -magnitudeBucket(1 << 63)
	default:
		return -magnitudeBucket(uint64(-balance))
	}
}

func magnitudeBucket(v uint64) int32 {
	if v < 16 {
		return int32(v)
	}
	e := bits.Len64(v) - 1 // v in [2^e, 2^(e+1)), e >= 4
	sub := (v >> (e - 4)) & 15
	return int32(16 + (e-4)*16 + int(sub))
}

// magnitudeLow is the smallest magnitude in bucket k > 0.
func magnitudeLow(k int32) uint64 {
	if k < 16 {
		return uint64(k)
	}
	e := (k-16)/16 + 4
	sub := uint64((k - 16) % 16)
	return (16 + sub) << (e - 4)
}

// bucketMax is the largest balance in a bucket.
func bucketMax(k int32) int64 {
	switch {
	case k == 0:
		return 0
	case k > 0:
		next := magnitudeLow(k + 1)
		if next == 0 || next > math.MaxInt64 || k >= magnitudeBucket(math.MaxInt64) {
			return math.MaxInt64
		}
		return int64(next - 1)
	default:
		return -int64(magnitudeLow(-k))
	}
}

type bucketKey struct {
	guild, currency int64
	bucket          int32
}

// bucketDeltas is how the batch moved wallets between buckets: a created
// wallet counts once in its final bucket, a changed one leaves its old
// bucket for its new one.
func bucketDeltas(wallets map[walletKey]*wallet) map[bucketKey]int64 {
	d := map[bucketKey]int64{}
	for k, w := range wallets {
		to := bucketKey{k.guild, k.currency, bucketOf(w.balance)}
		if w.created {
			d[to]++
			continue
		}
		from := bucketKey{k.guild, k.currency, bucketOf(w.orig)}
		if from != to {
			d[from]--
			d[to]++
		}
	}
	return d
}

// updateBuckets applies the deltas in one statement, in key order like
// every other lock the engine takes.
func (l *Ledger) updateBuckets(ctx context.Context, db dbtx, d map[bucketKey]int64) error {
	keys := make([]bucketKey, 0, len(d))
	for k, n := range d {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b bucketKey) int {
		if a.guild != b.guild {
			return cmpInt(a.guild, b.guild)
		}
		if a.currency != b.currency {
			return cmpInt(a.currency, b.currency)
		}
		return cmpInt(int64(a.bucket), int64(b.bucket))
	})
	gs, cs, ks, ns := make([]int64, len(keys)), make([]int64, len(keys)), make([]int32, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		gs[i], cs[i], ks[i], ns[i] = k.guild, k.currency, k.bucket, d[k]
	}
	if _, err := db.exec(ctx, `INSERT INTO ledger_rank_buckets AS b (tenant_id, guild_id, currency_id, bucket, wallets)
		SELECT $1, d.g, d.c, d.k, d.n FROM unnest($2::bigint[], $3::bigint[], $4::int[], $5::bigint[]) AS d(g, c, k, n)
		ORDER BY d.g, d.c, d.k
		ON CONFLICT (tenant_id, guild_id, currency_id, bucket) DO UPDATE SET wallets = b.wallets + EXCLUDED.wallets`,
		l.tenantID, gs, cs, ks, ns); err != nil {
		return fmt.Errorf("update rank buckets: %w", err)
	}
	return nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// liveRank is 1 + the number of wallets with a strictly higher balance.
func (l *Ledger) liveRank(ctx context.Context, guildID, currencyID, userID int64) (rank, balance int64, err error) {
	err = l.db.Pool.QueryRow(ctx, `SELECT COALESCE((SELECT balance FROM ledger_wallets
		WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 AND user_id = $4), 0)`,
		l.tenantID, guildID, currencyID, userID).Scan(&balance)
	if err != nil {
		return 0, 0, fmt.Errorf("read rank: %w", err)
	}
	k := bucketOf(balance)
	err = l.db.Pool.QueryRow(ctx, `SELECT 1
		+ COALESCE((SELECT sum(wallets) FROM ledger_rank_buckets
			WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 AND bucket > $4), 0)::bigint
		+ (SELECT count(*) FROM ledger_wallets
			WHERE tenant_id = $1 AND guild_id = $2 AND currency_id = $3 AND balance > $5 AND balance <= $6)`,
		l.tenantID, guildID, currencyID, k, balance, bucketMax(k)).Scan(&rank)
	if err != nil {
		return 0, 0, fmt.Errorf("read rank: %w", err)
	}
	return rank, balance, nil
}
