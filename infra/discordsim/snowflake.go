package discordsim

import (
	"strconv"
	"sync"
	"time"

	"github.com/disgoorg/snowflake/v2"
)

// discordEpochMS is 2015-01-01T00:00:00Z, the epoch of Discord snowflakes.
const discordEpochMS = 1420070400000

// ID is a Discord snowflake. It is a JSON string on the wire, as on Discord.
type ID uint64

func (id ID) String() string { return strconv.FormatUint(uint64(id), 10) }

// MarshalText makes encoding/json write the snowflake as a decimal string
// (TextMarshaler output is quoted without the re-validation a MarshalJSON
// result gets, which matters on the dispatch hot path).
func (id ID) MarshalText() ([]byte, error) {
	return strconv.AppendUint(make([]byte, 0, 20), uint64(id), 10), nil
}

// UnmarshalJSON accepts both quoted and bare numbers (clients send either).
func (id *ID) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*id = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return err
	}
	*id = ID(v)
	return nil
}

// Time returns the creation time encoded in the snowflake.
func (id ID) Time() time.Time {
	return time.UnixMilli(int64(id>>22) + discordEpochMS).UTC()
}

// ShardFor is Discord's shard routing: (guild_id >> 22) % num_shards.
func ShardFor(guildID ID, shards int) int {
	if shards <= 0 {
		return 0
	}
	return int((uint64(guildID) >> 22) % uint64(shards))
}

// ParseID parses a decimal snowflake.
func ParseID(s string) (ID, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	return ID(v), err
}

// simClock is the simulated wall clock. It only moves when told to (by the
// activity generator or a scenario) so that runs are reproducible.
type simClock struct {
	mu  sync.Mutex
	now time.Time

	lastMS int64
	inc    uint64
	// pastInc disambiguates IDs minted for past instants (synthetic history).
	pastInc map[int64]uint64
}

func newSimClock(start time.Time) *simClock {
	return &simClock{now: start.UTC(), pastInc: map[int64]uint64{}}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AdvanceTo moves the clock forward; it never goes backwards.
func (c *simClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t.UTC()
	}
	c.mu.Unlock()
}

// Snowflake mints an ID at the current simulated time; IDs minted in the same
// millisecond differ in the increment field, so they still sort by creation.
func (c *simClock) Snowflake() ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snowflakeAtLocked(c.now)
}

// SnowflakeAt mints an ID for a past instant (synthetic history); it is
// unique but, unlike Snowflake, not ordered with respect to later calls.
func (c *simClock) SnowflakeAt(t time.Time) ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	ms := t.UnixMilli() - discordEpochMS
	if ms >= c.lastMS {
		return c.snowflakeAtLocked(t)
	}
	inc := c.pastInc[ms]
	c.pastInc[ms] = inc + 1
	return ID(uint64(ms)<<22 | 2<<17 | inc%4096)
}

func (c *simClock) snowflakeAtLocked(t time.Time) ID {
	ms := t.UnixMilli() - discordEpochMS
	if ms <= c.lastMS {
		// Keep IDs strictly increasing even when callers mint in the past.
		ms = c.lastMS
		c.inc++
		if c.inc >= 4096 {
			ms++
			c.inc = 0
		}
	} else {
		c.inc = 0
	}
	c.lastMS = ms
	// worker 1, process 0 like a single Discord node.
	return ID(uint64(ms)<<22 | 1<<17 | c.inc)
}

// Snowflake converts to disgo's snowflake type.
func (id ID) Snowflake() snowflake.ID { return snowflake.ID(id) }
