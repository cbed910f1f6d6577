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

// ErrIdentifyBudget means the fleet used up Discord's identify budget
// for the current window; identifying again would make Discord reset the
// token.
var ErrIdentifyBudget = errors.New("shardmgr: identify budget exhausted until Discord's window resets")

// IdentifyLimiter enforces Discord's identify limits across every worker:
// one identify per bucket (shard mod max_concurrency) per interval, and
// the session start budget: `total` identifies per window, which Discord
// reports as `remaining` and `reset_after` in GET /gateway/bot. It plugs
// into disgo's gateway.WithIdentifyRateLimiter. Resumes do not pass
// through it (disgo only waits before identifying).
type IdentifyLimiter struct {
	rdb            *redis.Client
	prefix         string
	maxConcurrency int
	interval       time.Duration
	total          int64
}

// budgetWindow is Discord's session start window when it has not told us
// when the current one resets: a window starts with its first identify.
const budgetWindow = 24 * time.Hour

// NewIdentifyLimiter builds a limiter; prefix namespaces the keys (one per
// bot) and total is the window's budget (session_start_limit.total; 0 for
// none). The bucket is held a little longer than Discord's window: it is
// taken before dialing, but Discord counts from when IDENTIFY arrives,
// which is a round trip and a HELLO later.
func NewIdentifyLimiter(rdb *redis.Client, prefix string, maxConcurrency int, interval time.Duration, total int) *IdentifyLimiter {
	if maxConcurrency < 1 {
		maxConcurrency = 1
	}
	return &IdentifyLimiter{rdb: rdb, prefix: prefix, maxConcurrency: maxConcurrency, interval: interval + interval/5, total: int64(total)}
}

func (l *IdentifyLimiter) budgetKey() string { return l.prefix + ":identify:remaining" }

// Seed sets the fleet's remaining budget from Discord's session start
// limit (GET /gateway/bot), which counts every identify of the token, this
// fleet's and any other process's, until the window resets after
// resetAfter. The latest answer replaces what the fleet counted.
func (l *IdentifyLimiter) Seed(ctx context.Context, remaining int, resetAfter time.Duration) error {
	if resetAfter <= 0 {
		resetAfter = budgetWindow
	}
	if err := l.rdb.Set(ctx, l.budgetKey(), max(remaining, 0), resetAfter).Err(); err != nil {
		return fmt.Errorf("identify limiter: seed: %w", err)
	}
	return nil
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

// spendScript takes one identify from the window's remaining budget
// (KEYS[1]); a window not seeded, or over, starts now with ARGV[1] (the
// total) and lasts ARGV[2] ms. It returns what remains, or -1 when none
// did.
var spendScript = redis.NewScript(`
local left = redis.call('GET', KEYS[1])
if not left then
  redis.call('SET', KEYS[1], tonumber(ARGV[1]) - 1, 'PX', ARGV[2])
  return tonumber(ARGV[1]) - 1
end
if tonumber(left) <= 0 then return -1 end
return redis.call('DECR', KEYS[1])
`)

// spend counts one identify against the window's budget.
func (l *IdentifyLimiter) spend(ctx context.Context) error {
	if l.total <= 0 {
		return nil
	}
	left, err := spendScript.Run(ctx, l.rdb, []string{l.budgetKey()}, l.total, budgetWindow.Milliseconds()).Int64()
	if err != nil {
		return fmt.Errorf("identify limiter: %w", err)
	}
	if left < 0 {
		return ErrIdentifyBudget
	}
	return nil
}

// Remaining reports the window's remaining budget as the fleet counts it
// (total when no window is open).
func (l *IdentifyLimiter) Remaining(ctx context.Context) (int64, error) {
	n, err := l.rdb.Get(ctx, l.budgetKey()).Int64()
	if errors.Is(err, redis.Nil) {
		return l.total, nil
	}
	return n, err
}

// Unlock is a no-op: the bucket key expires on its own after the interval.
func (l *IdentifyLimiter) Unlock(int) {}

// Close is a no-op.
func (l *IdentifyLimiter) Close(context.Context) {}

var _ gateway.IdentifyRateLimiter = (*IdentifyLimiter)(nil)
