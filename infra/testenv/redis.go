package testenv

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is the server tests use unless SYNAPSE_TEST_REDIS_URL says otherwise.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL is the server whose databases 1..15 tests lease.
func RedisURL() string {
	if u := os.Getenv("SYNAPSE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultRedisURL
}

const (
	firstTestDB = 1
	lastTestDB  = 15
	leaseTTL    = 10 * time.Minute
	freedList   = "synapse:test:dbfreed"
)

// Redis leases one of Redis's numbered databases for the test alone
// (asynq has no key prefix, so a database is the unit of isolation), empty
// at start and flushed at the end. Leases live in database 0 with a TTL, so
// a crashed test process cannot hold one forever; across packages running
// in parallel they are shared fairly.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	ctx := context.Background()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("testenv: redis url: %v", err)
	}
	ctl := redis.NewClient(opt)
	defer ctl.Close()
	owner := randomHex(8)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := firstTestDB; n <= lastTestDB; n++ {
			ok, err := ctl.SetNX(ctx, leaseKey(n), owner, leaseTTL).Result()
			if err != nil {
				t.Fatalf("testenv: redis at %s is not usable: %v (run `make services` or set SYNAPSE_TEST_REDIS_URL)", RedisURL(), err)
			}
			if ok {
				return leased(t, opt, n, owner)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: no free redis test database after 2m")
		}
		// Wake when another test releases a lease (or retry after a second).
		ctl.BLPop(ctx, time.Second, freedList)
	}
}

func leased(t testing.TB, base *redis.Options, n int, owner string) *redis.Client {
	opt := *base
	opt.DB = n
	c := redis.NewClient(&opt)
	ctx := context.Background()
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("testenv: flush redis db %d: %v", n, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = c.FlushDB(ctx).Err()
		_ = c.Close()
		ctl := redis.NewClient(base)
		defer ctl.Close()
		// Release only our own lease, atomically.
		release := redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]); redis.call("LPUSH", KEYS[2], "1"); redis.call("LTRIM", KEYS[2], 0, 15) end return 0`)
		_ = release.Run(ctx, ctl, []string{leaseKey(n), freedList}, owner).Err()
	})
	return c
}

func leaseKey(n int) string { return "synapse:test:dblease:" + strconv.Itoa(n) }

// RedisURLFor returns a URL for the leased client's database (for code
// under test that takes a URL rather than a client).
func RedisURLFor(c *redis.Client) string {
	o := c.Options()
	return fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)
}
