package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTTLCache(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	c := newTTLCache[string, int](time.Second, 2)
	c.now = func() time.Time { return now }

	c.put("a", 1)
	v, ok := c.get("a")
	require.True(t, ok)
	require.Equal(t, 1, v)

	now = now.Add(1001 * time.Millisecond)
	_, ok = c.get("a")
	require.False(t, ok, "expired after the ttl")

	c.put("b", 2)
	c.put("c", 3) // full: the expired "a" is swept, b and c stay
	_, ok = c.get("b")
	require.True(t, ok)
	c.drop("b")
	_, ok = c.get("b")
	require.False(t, ok, "dropped at once")

	c.put("d", 4)
	c.put("e", 5) // full of live entries: starts over, never grows past max
	require.LessOrEqual(t, len(c.m), 2)
	_, ok = c.get("e")
	require.True(t, ok)
}
