package rules

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Key names one piece of condition state. It is a struct, not a string,
// so the in-memory state hashes a few words instead of formatting and
// comparing strings; Redis uses String().
type Key struct {
	Kind  string // "cd" cooldown, "vel" reaction velocity, "cap"
	Guild int64
	Rule  int64  // 0: shared by every rule (currency-wide caps)
	Scope string // cooldown: user, channel or guild; cap: currency and period
	A, B  int64  // cooldown: user or channel; velocity: reactor, author; cap: user, period start (unix)
}

// String is the Redis key: rules:<kind>:<guild>:<rule>:<scope>:<a>:<b>.
func (k Key) String() string {
	b := make([]byte, 0, 96)
	b = append(b, "rules:"...)
	b = append(b, k.Kind...)
	for _, n := range [...]int64{k.Guild, k.Rule} {
		b = append(b, ':')
		b = strconv.AppendInt(b, n, 10)
	}
	b = append(b, ':')
	b = append(b, k.Scope...)
	for _, n := range [...]int64{k.A, k.B} {
		b = append(b, ':')
		b = strconv.AppendInt(b, n, 10)
	}
	return string(b)
}

// Token names the event (and, for caps, the rule's effect) a write is for.
type Token struct {
	Event  string
	Source int64
	Rule   int64
	Effect int
}

// hash is a 64-bit FNV-1a of the token, what MemoryState keeps per mark.
func (t Token) hash() uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(t.Event); i++ {
		h = (h ^ uint64(t.Event[i])) * prime
	}
	for _, n := range [...]int64{t.Source, t.Rule, int64(t.Effect)} {
		for i := 0; i < 8; i++ {
			h = (h ^ uint64(n>>(8*i))&0xff) * prime
		}
	}
	return h
}

// String is the token as Redis stores it.
func (t Token) String() string {
	b := make([]byte, 0, 64)
	b = append(b, t.Event...)
	b = append(b, '.')
	b = strconv.AppendInt(b, t.Source, 10)
	if t.Rule != 0 {
		b = append(b, ".r"...)
		b = strconv.AppendInt(b, t.Rule, 10)
		b = append(b, ".e"...)
		b = strconv.AppendInt(b, int64(t.Effect), 10)
	}
	return string(b)
}

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
	Cooldown(ctx context.Context, key Key, token Token, at time.Time, window time.Duration) (bool, error)
	// Velocity allows at most limit distinct tokens under key within the
	// window ending at at, recording token when allowed.
	Velocity(ctx context.Context, key Key, token Token, at time.Time, window time.Duration, limit int) (bool, error)
	// CapUsed is how much has been consumed under key.
	CapUsed(ctx context.Context, key Key) (int64, error)
	// CapConsume consumes up to amount without passing limit and returns
	// what was granted; a token already seen gets its earlier grant again.
	// The key is kept at least until periodEnd (event time).
	CapConsume(ctx context.Context, key Key, token Token, amount, limit int64, periodEnd time.Time) (int64, error)
}

// Retention is how long fired marks are kept beyond their window, so a task
// that replays a batch within it takes exactly the decisions it took the
// first time: an event that fired finds its own mark and fires again (same
// keys, applied once by the sinks); one that was refused finds the marks
// that refused it.
const Retention = time.Hour

// MemoryState is State in process memory: dry runs, backtests and tests.
// Entries expire by event time as the events move forward.
type MemoryState struct {
	mu      sync.Mutex
	fired   map[memKey]firedMarks
	caps    map[memKey]*capEntry
	names   map[string]uint32 // Key.Kind and Key.Scope, interned for memKey
	sweepAt time.Time
}

// memKey is a Key with its strings interned: plain memory, so the maps
// hash and compare it as one block of words.
type memKey struct {
	guild, rule, a, b int64
	kind, scope       uint32
}

// key interns k's strings; the caller holds s.mu.
func (s *MemoryState) key(k Key) memKey {
	return memKey{guild: k.Guild, rule: k.Rule, a: k.A, b: k.B, kind: s.intern(k.Kind), scope: s.intern(k.Scope)}
}

func (s *MemoryState) intern(name string) uint32 {
	id, ok := s.names[name]
	if !ok {
		id = uint32(len(s.names))
		s.names[name] = id
	}
	return id
}

// firedMarks are the events that fired under a key (cooldowns: at most one
// per window; velocity: at most limit per window).
type firedMarks struct {
	marks  []mark
	oldest int64 // marks[0].at, read without touching the marks
	newest mark  // marks[len(marks)-1], likewise
	until  int64 // the newest mark's window end plus Retention, Unix nanoseconds
}

type mark struct {
	token uint64 // Token.hash
	at    int64  // event time, Unix nanoseconds
}

type capEntry struct {
	used    int64
	grants  map[Token]int64
	expires time.Time
}

// NewMemoryState returns an empty state.
func NewMemoryState() *MemoryState {
	return &MemoryState{fired: map[memKey]firedMarks{}, caps: map[memKey]*capEntry{}, names: map[string]uint32{}}
}

// Cooldown implements State: at most one event fires per window, whichever
// side of it the others fall (events may arrive out of order).
func (s *MemoryState) Cooldown(_ context.Context, key Key, token Token, at time.Time, window time.Duration) (bool, error) {
	return s.fire(key, token, at, window, 1), nil
}

// Velocity implements State.
func (s *MemoryState) Velocity(_ context.Context, key Key, token Token, at time.Time, window time.Duration, limit int) (bool, error) {
	return s.fire(key, token, at, window, limit), nil
}

// fire allows token when it fired before, or when fewer than limit other
// marks lie within window of at (either side), recording it. Marks are kept
// sorted by time, so only the marks within a window are looked at: a
// token's own mark, if any, has its event's time.
func (s *MemoryState) fire(key Key, token Token, at time.Time, window time.Duration, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(at)
	mk := s.key(key)
	f := s.fired[mk] // by value: one cache miss fewer than through a pointer
	t, w, th := at.UnixNano(), int64(window), token.hash()
	if limit == 1 && len(f.marks) > 0 && f.newest.at <= t && t-f.newest.at < w && (f.newest.at != t || f.newest.token != th) {
		// A cooldown (events in time order, the common case): the newest
		// mark is another event's, within the window, and with a limit of
		// one no mark of this event can hide behind it. Decided without
		// reading the marks.
		return false
	}
	ms := f.marks
	// Forget marks too old to matter even to a replay.
	if len(ms) > 0 && t-f.oldest >= w+int64(Retention) {
		drop := sort.Search(len(ms), func(i int) bool { return t-ms[i].at < w+int64(Retention) })
		ms = append(ms[:0], ms[drop:]...)
	}
	// Events mostly arrive in time order: walk back from the newest mark.
	i := len(ms) - 1
	for i >= 0 && ms[i].at-t >= w {
		i-- // after the window
	}
	pos := i + 1 // where a new mark goes: before marks after t (adjusted below)
	n := 0
	allowed := true
	for ; i >= 0 && t-ms[i].at < w; i-- {
		if ms[i].at == t && ms[i].token == th {
			n = -1 // its own mark: fired before
			break
		}
		n++
	}
	switch {
	case n < 0:
	case n >= limit:
		allowed = false
	default:
		for pos > 0 && ms[pos-1].at > t {
			pos--
		}
		ms = append(ms, mark{})
		copy(ms[pos+1:], ms[pos:])
		ms[pos] = mark{token: th, at: t}
		f.until = max(f.until, t+w+int64(Retention))
	}
	f.marks = ms
	if len(ms) > 0 {
		f.oldest, f.newest = ms[0].at, ms[len(ms)-1]
	}
	s.fired[mk] = f
	return allowed
}

// CapUsed implements State.
func (s *MemoryState) CapUsed(_ context.Context, key Key) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.caps[s.key(key)]; ok {
		return e.used, nil
	}
	return 0, nil
}

// CapConsume implements State. Memory caps are dropped once event time
// passes the end of their period.
func (s *MemoryState) CapConsume(_ context.Context, key Key, token Token, amount, limit int64, periodEnd time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mk := s.key(key)
	e, ok := s.caps[mk]
	if !ok {
		e = &capEntry{grants: map[Token]int64{}, expires: periodEnd}
		s.caps[mk] = e
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

// sweep drops expired marks and caps at most once per event-time hour, so a
// long backtest does not grow without bound.
func (s *MemoryState) sweep(at time.Time) {
	if at.Sub(s.sweepAt) < time.Hour {
		return
	}
	s.sweepAt = at
	for k, f := range s.fired {
		if at.UnixNano() > f.until {
			delete(s.fired, k)
		}
	}
	for k, e := range s.caps {
		if at.After(e.expires) {
			delete(s.caps, k)
		}
	}
}
