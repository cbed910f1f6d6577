package api

import (
	"sync"
	"time"
)

// ttlCache remembers lookups that every request repeats (the session
// behind a cookie, the tenant owning a guild) for a few seconds, so a busy
// dashboard does not ask Postgres the same question thousands of times a
// second. Staleness is bounded by ttl; the process that changes an entry
// (logout) drops it at once. At most max entries are kept: when full, the
// expired ones are swept and, if none were, the map starts over.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu       sync.Mutex
	m        map[K]ttlEntry[V]
	inflight map[K]*ttlLoad[V]
}

// ttlLoad is a load in progress; callers of the same key wait for it.
type ttlLoad[V any] struct {
	done chan struct{}
	v    V
	err  error
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, now: time.Now, m: make(map[K]ttlEntry[V]), inflight: make(map[K]*ttlLoad[V])}
}

// getOrLoad returns the cached value, or loads it once however many
// callers miss at the same moment (an entry expiring under thousands of
// requests a second must not send them all to Postgres). Errors are not
// cached.
func (c *ttlCache[K, V]) getOrLoad(k K, load func() (V, error)) (V, error) {
	if v, ok := c.get(k); ok {
		return v, nil
	}
	c.mu.Lock()
	if l, ok := c.inflight[k]; ok {
		c.mu.Unlock()
		<-l.done
		return l.v, l.err
	}
	l := &ttlLoad[V]{done: make(chan struct{})}
	c.inflight[k] = l
	c.mu.Unlock()

	l.v, l.err = load()
	if l.err == nil {
		c.put(k, l.v)
	}
	c.mu.Lock()
	delete(c.inflight, k)
	c.mu.Unlock()
	close(l.done)
	return l.v, l.err
}

func (c *ttlCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || c.now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[k] = ttlEntry[V]{v: v, expires: now.Add(c.ttl)}
}

func (c *ttlCache[K, V]) drop(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}
