package gateway

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// When the stream falls behind, each snowflake arrives later after its
// time than the one before: the clock follows the stream (the time of the
// newest snowflake plus what elapsed since it arrived) instead of running
// ahead on the wall clock.
func TestDiscordClockFollowsAStreamFallingBehind(t *testing.T) {
	t.Parallel()
	wall := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := discordClock{wall: func() time.Time { return wall }}
	require.Equal(t, wall, c.now(), "no snowflake yet: the wall clock")

	sim := wall.Add(-100 * time.Millisecond) // the first message arrives 100 ms after its time
	c.observe(sim)
	require.Equal(t, sim, c.now())

	// Ten seconds on, each second's messages arrive 100 ms later than the
	// previous second's: the lag grows to 1.1 s.
	for i := 1; i <= 10; i++ {
		wall = wall.Add(time.Second)
		sim = sim.Add(900 * time.Millisecond)
		c.observe(sim)
		require.Equal(t, sim, c.now(), "second %d: stamped with the stream's time, not %s ahead", i, time.Duration(i)*100*time.Millisecond)
	}

	// Between messages the clock runs on the wall clock.
	wall = wall.Add(250 * time.Millisecond)
	require.Equal(t, sim.Add(250*time.Millisecond), c.now())

	// A message now arrives whose time is behind what the clock told (the
	// stream fell further behind): the clock steps back to it.
	c.observe(sim.Add(100 * time.Millisecond))
	require.Equal(t, sim.Add(100*time.Millisecond), c.now())
	wall = wall.Add(200 * time.Millisecond)
	require.Equal(t, sim.Add(300*time.Millisecond), c.now(), "100 ms message + 200 ms elapsed")

	// An older snowflake (a replayed message) does not move the anchor.
	c.observe(sim.Add(-time.Minute))
	require.Equal(t, sim.Add(300*time.Millisecond), c.now())
}
