package shardmgr

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/redis/go-redis/v9"
)

// ErrIdentifyBudget means the fleet used up the day's identify budget;
// identifying again would make Discord reset the token.
var ErrIdentifyBudget = errors.New("shardmgr: daily identify budget exhausted")

// IdentifyLimiter enforces Discord's identify limits across every worker:
// one identify per bucket (shard mod max_concurrency) per interval, and a
// daily budget. It plugs into disgo's gateway.WithIdentifyRateLimiter.
// Resumes do not pass through it (disgo only waits before identifying).
type IdentifyLimiter struct {
	rdb            *redis.Client
	prefix         string
	maxConcurrency int
	interval       time.Duration
	dailyBudget    int64
	now            func() time.Time
}

// NewIdentifyLimiter builds a limiter; prefix namespaces the keys (one per
// bot). The bucket is held a little longer than Discord's window: it is
// taken before dialing, but Discord counts from when IDENTIFY arrives,
// which is a round trip and a HELLO later.
func NewIdentifyLimiter(rdb *redis.Client, prefix string, maxConcurrency int, interval time.Duration, dailyBudget int) *IdentifyLimiter {
	if maxConcurrency < 1 {
		maxConcurrency = 1
	}
	return &IdentifyLimiter{rdb: rdb, prefix: prefix, maxConcurrency: maxConcurrency, interval: interval + interval/5,
		dailyBudget: int64(dailyBudget), now: time.Now}
}

// Wait blocks until shardID's bucket is free, then takes it for one interval.
func (l *IdentifyLimiter) Wait(ctx context.Context, shardID int) error {
	key := l.prefix + ":identify:bucket:" + strconv.Itoa(shardID%l.maxConcurrency)
	for {
		ok, err := l.rdb.SetNX(ctx, key, "1", l.interval).Result()
		if err != nil {
			return fmt.Errorf("identify limiter: %w", err)
		}
		if ok {
			return l.spend(ctx)
		}
		wait, err := l.rdb.PTTL(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("identify limiter: %w", err)
		}
		if wait <= 0 {
			wait = 10 * time.Millisecond
		}
		// The bucket frees itself when its key expires: waiting for that
		// time is the limit, not a guess.
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// spend counts one identify against the UTC day's budget.
func (l *IdentifyLimiter) spend(ctx context.Context) error {
	key := l.prefix + ":identify:day:" + l.now().UTC().Format("20060102")
	n, err := l.rdb.Incr(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("identify limiter: %w", err)
	}
	if n == 1 {
		l.rdb.Expire(ctx, key, 48*time.Hour)
	}
	if l.dailyBudget > 0 && n > l.dailyBudget {
		l.rdb.Decr(ctx, key)
		return ErrIdentifyBudget
	}
	return nil
}

// Used reports today's identify count.
func (l *IdentifyLimiter) Used(ctx context.Context) (int64, error) {
	n, err := l.rdb.Get(ctx, l.prefix+":identify:day:"+l.now().UTC().Format("20060102")).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

// Unlock is a no-op: the bucket key expires on its own after the interval.
func (l *IdentifyLimiter) Unlock(int) {}

// Close is a no-op.
func (l *IdentifyLimiter) Close(context.Context) {}

var _ gateway.IdentifyRateLimiter = (*IdentifyLimiter)(nil)
