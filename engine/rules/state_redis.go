package rules

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisState is State in Redis, shared by every worker. Each operation is
// one Lua script (one round trip, atomic); the engine sends an event's
// operations together, in one script (runRules). Keys expire on their own:
// marks after their window plus Retention, a cap a day after its period
// ends.
type RedisState struct {
	rdb   redis.UniversalClient
	now   func() time.Time
	slack time.Duration
}

// NewRedisState wraps a client; now is the wall clock used only to set key
// expiry (nil: time.Now).
func NewRedisState(rdb redis.UniversalClient, now func() time.Time) *RedisState {
	if now == nil {
		now = time.Now
	}
	return &RedisState{rdb: rdb, now: now, slack: time.Minute}
}

// A sorted set of the tokens that fired, scored by event time (ms). A token
// already there fires again; otherwise it fires when fewer than limit marks
// lie within the window either side. Marks older than window + retention
// (behind this event) are dropped.
var fireScript = redis.NewScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
local at = tonumber(ARGV[2])
local win = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (at - win - tonumber(ARGV[6]) + 1))
local n = redis.call('ZCOUNT', KEYS[1], at - win + 1, at + win - 1)
if n >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], at, ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1
`)

// A hash: "_used", one field per token with its grant ("t:") and one per
// event and rule with their grants summed ("e:", see CapUsed).
var capScript = redis.NewScript(`
local g = redis.call('HGET', KEYS[1], 't:' .. ARGV[1])
if g then return tonumber(g) end
local used = tonumber(redis.call('HGET', KEYS[1], '_used') or '0')
local grant = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - used)
if grant < 0 then grant = 0 end
redis.call('HINCRBY', KEYS[1], '_used', grant)
redis.call('HSET', KEYS[1], 't:' .. ARGV[1], grant)
redis.call('HINCRBY', KEYS[1], 'e:' .. ARGV[5], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return grant
`)

func (s *RedisState) ttl(until time.Time, min time.Duration) int64 {
	d := until.Sub(s.now())
	if d < min {
		d = min
	}
	return (d + s.slack).Milliseconds()
}

// Cooldown implements State.
func (s *RedisState) Cooldown(ctx context.Context, key Key, token Token, at time.Time, window time.Duration) (bool, error) {
	return s.fire(ctx, key, token, at, window, 1)
}

// Velocity implements State.
func (s *RedisState) Velocity(ctx context.Context, key Key, token Token, at time.Time, window time.Duration, limit int) (bool, error) {
	return s.fire(ctx, key, token, at, window, limit)
}

func (s *RedisState) fire(ctx context.Context, key Key, token Token, at time.Time, window time.Duration, limit int) (bool, error) {
	n, err := fireScript.Run(ctx, s.rdb, []string{key.String()}, token.String(), at.UnixMilli(), window.Milliseconds(),
		limit, s.ttl(at.Add(window+Retention), window+Retention), Retention.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("%s: %w", key, err)
	}
	return n == 1, nil
}

// CapUsed implements State.
func (s *RedisState) CapUsed(ctx context.Context, key Key, token Token) (int64, error) {
	vs, err := s.rdb.HMGet(ctx, key.String(), "_used", "e:"+token.eventRule().String()).Result()
	if err != nil {
		return 0, fmt.Errorf("cap %s: %w", key, err)
	}
	var n [2]int64
	for i, v := range vs {
		if str, ok := v.(string); ok {
			if n[i], err = strconv.ParseInt(str, 10, 64); err != nil {
				return 0, fmt.Errorf("cap %s: %w", key, err)
			}
		}
	}
	return n[0] - n[1], nil
}

// CapConsume implements State.
func (s *RedisState) CapConsume(ctx context.Context, key Key, token Token, amount, limit int64, periodEnd time.Time) (int64, error) {
	g, err := capScript.Run(ctx, s.rdb, []string{key.String()}, token.String(), amount, limit, s.ttl(periodEnd.Add(24*time.Hour), time.Hour),
		token.eventRule().String()).Int64()
	if err != nil {
		return 0, fmt.Errorf("cap %s: %w", key, err)
	}
	return g, nil
}
