package rules

import (
	"context"
	"sync"
	"time"
)

// State keeps what anti-gaming conditions remember between events:
// cooldowns, reaction velocity and per-period caps. Every write is keyed by
// a token naming the event ("message_create.123"), so a task that runs
// again for the same event gets the same answer instead of being refused
// by what its first run recorded. Times are event times, never the wall
// clock, so backtests over history behave like live evaluation.
type State interface {
	// Cooldown allows at most one token per window under key: true when
	// token may fire at at (and records it), false while another token's
	// window is open.
	Cooldown(ctx context.Context, key, token string, at time.Time, window time.Duration) (bool, error)
	// Velocity allows at most limit distinct tokens under key within the
	// window ending at at, recording token when allowed.
	Velocity(ctx context.Context, key, token string, at time.Time, window time.Duration, limit int) (bool, error)
	// CapUsed is how much has been consumed under key.
	CapUsed(ctx context.Context, key string) (int64, error)
	// CapConsume consumes up to amount without passing limit and returns
	// what was granted; a token already seen gets its earlier grant again.
	// The key is kept at least until periodEnd (event time).
	CapConsume(ctx context.Context, key, token string, amount, limit int64, periodEnd time.Time) (int64, error)
}

// MemoryState is State in process memory: dry runs, backtests and tests.
// Entries expire by event time as the events move forward.
type MemoryState struct {
	mu        sync.Mutex
	cooldowns map[string]cooldownEntry
	velocity  map[string][]velocityEntry
	caps      map[string]*capEntry
	sweepAt   time.Time
}

type cooldownEntry struct {
	token string
	at    time.Time
	until time.Time
}

type velocityEntry struct {
	token string
	at    time.Time
}

type capEntry struct {
	used    int64
	grants  map[string]int64
	expires time.Time
}

// NewMemoryState returns an empty state.
func NewMemoryState() *MemoryState {
	return &MemoryState{cooldowns: map[string]cooldownEntry{}, velocity: map[string][]velocityEntry{}, caps: map[string]*capEntry{}}
}

// Cooldown implements State.
func (s *MemoryState) Cooldown(_ context.Context, key, token string, at time.Time, window time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(at)
	if e, ok := s.cooldowns[key]; ok {
		if e.token == token {
			return true, nil
		}
		d := at.Sub(e.at)
		if d < 0 {
			d = -d
		}
		if d < window {
			return false, nil
		}
		if at.Before(e.at) {
			return true, nil // older event outside the window: allowed, keep the newer mark
		}
	}
	s.cooldowns[key] = cooldownEntry{token: token, at: at, until: at.Add(window)}
	return true, nil
}

// Velocity implements State.
func (s *MemoryState) Velocity(_ context.Context, key, token string, at time.Time, window time.Duration, limit int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(at)
	es := s.velocity[key]
	kept := es[:0]
	for _, e := range es {
		if e.token == token {
			return true, nil
		}
		if at.Sub(e.at) < window && e.at.Sub(at) < window {
			kept = append(kept, e)
		}
	}
	if len(kept) >= limit {
		s.velocity[key] = kept
		return false, nil
	}
	s.velocity[key] = append(kept, velocityEntry{token: token, at: at})
	return true, nil
}

// CapUsed implements State.
func (s *MemoryState) CapUsed(_ context.Context, key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.caps[key]; ok {
		return e.used, nil
	}
	return 0, nil
}

// CapConsume implements State. Memory caps are dropped once event time
// passes the end of their period.
func (s *MemoryState) CapConsume(_ context.Context, key, token string, amount, limit int64, periodEnd time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.caps[key]
	if !ok {
		e = &capEntry{grants: map[string]int64{}, expires: periodEnd}
		s.caps[key] = e
	}
	if g, ok := e.grants[token]; ok {
		return g, nil
	}
	g := min(amount, limit-e.used)
	if g < 0 {
		g = 0
	}
	e.used += g
	e.grants[token] = g
	return g, nil
}

// sweep drops expired cooldowns at most once per event-time hour, so a
// long backtest does not grow without bound.
func (s *MemoryState) sweep(at time.Time) {
	if at.Sub(s.sweepAt) < time.Hour {
		return
	}
	s.sweepAt = at
	for k, e := range s.cooldowns {
		if at.After(e.until) {
			delete(s.cooldowns, k)
		}
	}
	for k, es := range s.velocity {
		if len(es) == 0 || at.Sub(es[len(es)-1].at) > 24*time.Hour {
			delete(s.velocity, k)
		}
	}
	for k, e := range s.caps {
		if at.After(e.expires) {
			delete(s.caps, k)
		}
	}
}
