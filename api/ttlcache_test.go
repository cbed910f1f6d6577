package api

import (
	"errors"
	"sync"
	"sync/atomic"
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

func TestTTLCacheLoadsOncePerMiss(t *testing.T) {
	t.Parallel()
	c := newTTLCache[int, string](time.Minute, 10)
	release := make(chan struct{})
	var loads atomic.Int32
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.getOrLoad(1, func() (string, error) {
				loads.Add(1)
				<-release // every caller arrives while the first load is in flight
				return "loaded", nil
			})
			require.NoError(t, err)
			results[i] = v
		}()
	}
	// Wait until the first load is in flight and the others queue on it.
	require.Eventually(t, func() bool { return loads.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, loads.Load(), "one load for all concurrent misses")
	for _, v := range results {
		require.Equal(t, "loaded", v)
	}

	_, err := c.getOrLoad(2, func() (string, error) { return "", errors.New("down") })
	require.Error(t, err)
	_, ok := c.get(2)
	require.False(t, ok, "errors are not cached")
}
