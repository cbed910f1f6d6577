package rules

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"
)

// MemoryState is State in process memory: dry runs, backtests and tests.
// Entries expire by event time as the events move forward.
//
// State is grouped by key without its rule: one member's cooldowns (or
// caps) under every rule of a guild sit side by side in one group, and
// the groups used last are remembered, so the rules of one event find
// their state with one map lookup instead of one each, in memory they
// share (a map of every rule's key was a cache miss per rule).
type MemoryState struct {
	mu      sync.Mutex
	groups  map[groupKey]*stateGroup
	names   map[string]uint32 // Key.Kind and Key.Scope, interned for groupKey
	recent  [4]*stateGroup    // groups used last, newest at recentAt
	recentN int
	// sweepNext is when (event time, Unix nanoseconds) the next sweep is
	// due: an hour after the last one.
	sweepNext int64
	// hashed is the token last hashed, Effect aside, hashedEvent its hash
	// after its event and source and hashedRule after its rule (see hash):
	// a capped credit hashes its event and rule three times.
	hashed                  Token
	hashedEvent, hashedRule uint64
}

// groupKey is a Key without its rule, strings interned: plain memory, so
// the map hashes and compares it as one block of words.
type groupKey struct {
	guild, a, b int64
	kind, scope uint32
}

// stateGroup holds one group's marks (cooldown, velocity) or caps, by rule.
type stateGroup struct {
	kind, scope string // as in the Key, to match recent groups without interning
	key         groupKey
	// newest[i] is fired[i]'s rule and the time of its newest mark: what
	// a cooldown refused by that mark reads, a few words per rule rather
	// than a cache line.
	newest []newestMark
	fired  []ruleMarks
	// capRules[i] is caps[i].rule, likewise.
	capRules []int64
	caps     []ruleCap
}

type newestMark struct {
	rule int64
	at   int64 // noMarks when the rule has none
}

const noMarks = math.MinInt64

type ruleMarks struct {
	rule int64
	f    firedMarks
}

// firedMarks are the events that fired under a key (cooldowns: at most one
// per window; velocity: at most limit per window): the marks of buf[lo:]
// after cut, in time order. Those at or before cut are dropped (see fire)
// but still in buf until it is full, when they are passed by moving lo;
// the kept marks move to the front of buf only then, so that dropping the
// oldest mark as a new one comes reads and moves none of the others.
type firedMarks struct {
	buf   []mark
	lo    int
	cut   int64 // noMarks: none dropped in buf[lo:]
	until int64 // the newest mark's window end plus Retention, Unix nanoseconds
}

type mark struct {
	token uint64 // Token.hash
	at    int64  // event time, Unix nanoseconds
}

type ruleCap struct {
	rule int64
	used int64
	// seen has a bit set for each event in byEvent (see seenBit): an event
	// whose bit is clear took no grant (the usual case, a new event), known
	// without reading the maps.
	seen    [4]uint64
	expires time.Time
	grants  map[uint64]int64 // by Token.hash
	byEvent map[uint64]int64 // grants summed by Token.eventRule().hash
}

// seenBit is the word and bit of ruleCap.seen for an event's hash.
func seenBit(h uint64) (int, uint64) {
	h *= 0x9e3779b97f4a7c15 // spread FNV's low-entropy bits to the top
	return int(h >> 62), 1 << (h >> 56 & 63)
}

func (c *ruleCap) saw(eventHash uint64) bool {
	w, bit := seenBit(eventHash)
	return c.seen[w]&bit != 0
}

// NewMemoryState returns an empty state.
func NewMemoryState() *MemoryState {
	return &MemoryState{groups: map[groupKey]*stateGroup{}, names: map[string]uint32{}, sweepNext: math.MinInt64}
}

// group finds (or with create, makes) the group of k; the caller holds s.mu.
func (s *MemoryState) group(k *Key, create bool) *stateGroup {
	var named *stateGroup // a recent group of k's kind and scope, whose names are interned
	for _, g := range s.recent {
		if g == nil {
			continue
		}
		if g.key.guild == k.Guild && g.key.a == k.A && g.key.b == k.B && g.kind == k.Kind && g.scope == k.Scope {
			return g
		}
		if named == nil && g.kind == k.Kind && g.scope == k.Scope {
			named = g
		}
	}
	gk := groupKey{guild: k.Guild, a: k.A, b: k.B}
	if named != nil {
		// The first call of an event for a member (whose groups are not
		// recent) reads no name map: the previous member's were the same.
		gk.kind, gk.scope = named.key.kind, named.key.scope
	} else {
		gk.kind, gk.scope = s.intern(k.Kind), s.intern(k.Scope)
	}
	g := s.groups[gk]
	if g == nil {
		if !create {
			return nil
		}
		g = &stateGroup{kind: k.Kind, scope: k.Scope, key: gk}
		s.groups[gk] = g
	}
	s.recent[s.recentN%len(s.recent)] = g
	s.recentN++
	return g
}

func (s *MemoryState) intern(name string) uint32 {
	id, ok := s.names[name]
	if !ok {
		id = uint32(len(s.names))
		s.names[name] = id
	}
	return id
}

// marks returns the index of the rule's marks in g, added when absent.
func (g *stateGroup) marks(rule int64) int {
	for i := range g.newest {
		if g.newest[i].rule == rule {
			return i
		}
	}
	g.newest = append(g.newest, newestMark{rule: rule, at: noMarks})
	g.fired = append(g.fired, ruleMarks{rule: rule, f: firedMarks{cut: noMarks}})
	return len(g.fired) - 1
}

func (g *stateGroup) capOf(rule int64) *ruleCap {
	for i, r := range g.capRules {
		if r == rule {
			return &g.caps[i]
		}
	}
	return nil
}

// Cooldown implements State: at most one event fires per window, whichever
// side of it the others fall (events may arrive out of order).
func (s *MemoryState) Cooldown(_ context.Context, key Key, token Token, at time.Time, window time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fire(&key, &token, at, window, 1), nil
}

// Velocity implements State.
func (s *MemoryState) Velocity(_ context.Context, key Key, token Token, at time.Time, window time.Duration, limit int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fire(&key, &token, at, window, limit), nil
}

// fire allows token when it fired before, or when fewer than limit other
// marks lie within window of at (either side), recording it. Marks are kept
// sorted by time, so only the marks within a window are looked at: a
// token's own mark, if any, has its event's time. The caller holds s.mu.
func (s *MemoryState) fire(key *Key, token *Token, at time.Time, window time.Duration, limit int) bool {
	t, w := at.UnixNano(), int64(window)
	if t >= s.sweepNext {
		s.sweep(at)
	}
	g := s.group(key, true)
	i := g.marks(key.Rule)
	newest, f := &g.newest[i], &g.fired[i].f
	if limit == 1 && newest.at != noMarks && newest.at <= t && t-newest.at < w &&
		(newest.at != t || f.buf[len(f.buf)-1].token != s.hash(token)) {
		// A cooldown (events in time order, the common case): the newest
		// mark is another event's, within the window, and with a limit of
		// one no mark of this event can hide behind it. Decided without
		// reading the marks (or hashing the token).
		return false
	}
	th := s.hash(token)
	// Forget marks too old to matter even to a replay, those with
	// t-at >= w+Retention, by moving the cut. The marks this decision reads
	// lie after t-w, past the cut, unless the event is later than
	// Retention: then the dropped marks go for real first.
	if f.cut = max(f.cut, t-w-int64(Retention)); t-w <= f.cut {
		f.passDropped()
		f.cut = noMarks
	}
	ms := f.buf[f.lo:]
	if newest.at == noMarks || newest.at <= t-w {
		// No mark within the window or after it (events in time order,
		// the usual way a cooldown opens): allowed, the mark goes last,
		// decided without reading the others.
		f.insert(len(ms), mark{token: th, at: t})
		f.until = max(f.until, t+w+int64(Retention))
		newest.at = t
		return true
	}
	// Events mostly arrive in time order: walk back from the newest mark.
	i = len(ms) - 1
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
		ms = f.insert(pos, mark{token: th, at: t})
		f.until = max(f.until, t+w+int64(Retention))
	}
	// A mark was added or one within the window found: the newest is kept.
	newest.at = ms[len(ms)-1].at
	return allowed
}

// passDropped moves lo past the marks at or before cut.
func (f *firedMarks) passDropped() {
	ms := f.buf[f.lo:]
	drop := 0
	for drop < len(ms) && drop < 8 && ms[drop].at <= f.cut {
		drop++
	}
	if drop == 8 {
		drop += sort.Search(len(ms)-drop, func(i int) bool { return ms[drop+i].at > f.cut })
	}
	f.lo += drop
}

// insert puts m at pos of buf[lo:] and returns buf[lo:]. A full buf makes
// room by passing the dropped marks and moving the kept ones to its front,
// and grows only when every mark in it is kept.
func (f *firedMarks) insert(pos int, m mark) []mark {
	if len(f.buf) == cap(f.buf) {
		lo := f.lo
		f.passDropped()
		pos -= f.lo - lo // dropped marks are older than m
		if f.lo > 0 {
			n := copy(f.buf, f.buf[f.lo:])
			f.buf, f.lo = f.buf[:n], 0
		}
	}
	ms := append(f.buf[f.lo:], mark{})
	copy(ms[pos+1:], ms[pos:])
	ms[pos] = m
	if len(f.buf) == cap(f.buf) { // append moved the kept marks to a new array
		f.buf, f.lo = ms, 0
	} else {
		f.buf = f.buf[:f.lo+len(ms)]
	}
	return ms
}

// hash is t.hash(), the hash of its event and source kept from the last
// call: an event's cooldowns and caps hash the same event over and over.
// The caller holds s.mu.
func (s *MemoryState) hash(t *Token) uint64 { return s.hashEffect(t, t.Effect) }

// hashEffect is hash of t with effect as its Effect (-1: t.eventRule()).
func (s *MemoryState) hashEffect(t *Token, effect int) uint64 {
	if t.Source != s.hashed.Source || t.Event != s.hashed.Event {
		s.hashed.Event, s.hashed.Source = t.Event, t.Source
		s.hashedEvent = t.eventHash()
		s.hashed.Rule, s.hashedRule = t.Rule, fnvInt(s.hashedEvent, t.Rule)
	} else if t.Rule != s.hashed.Rule {
		s.hashed.Rule, s.hashedRule = t.Rule, fnvInt(s.hashedEvent, t.Rule)
	}
	return fnvInt(s.hashedRule, int64(effect))
}

// CapUsed implements State.
func (s *MemoryState) CapUsed(_ context.Context, key Key, token Token) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.capUsed(&key, &token), nil
}

// capUsed is CapUsed; the caller holds s.mu.
func (s *MemoryState) capUsed(key *Key, token *Token) int64 {
	if g := s.group(key, false); g != nil {
		if c := g.capOf(key.Rule); c != nil {
			if h := s.hashEffect(token, -1); c.saw(h) {
				return c.used - c.byEvent[h]
			}
			return c.used
		}
	}
	return 0
}

// CapConsume implements State. Memory caps are dropped once event time
// passes the end of their period.
func (s *MemoryState) CapConsume(_ context.Context, key Key, token Token, amount, limit int64, periodEnd time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.capConsume(&key, &token, amount, limit, periodEnd), nil
}

// capConsume is CapConsume; the caller holds s.mu.
func (s *MemoryState) capConsume(key *Key, token *Token, amount, limit int64, periodEnd time.Time) int64 {
	g := s.group(key, true)
	c := g.capOf(key.Rule)
	if c == nil {
		g.capRules = append(g.capRules, key.Rule)
		g.caps = append(g.caps, ruleCap{rule: key.Rule, expires: periodEnd, grants: map[uint64]int64{}, byEvent: map[uint64]int64{}})
		c = &g.caps[len(g.caps)-1]
	}
	th, eh := s.hash(token), s.hashEffect(token, -1)
	if c.saw(eh) { // else the token has no grant: its event would be in byEvent
		if gr, ok := c.grants[th]; ok {
			return gr
		}
	}
	gr := max(min(amount, limit-c.used), 0)
	c.used += gr
	c.grants[th] = gr
	c.byEvent[eh] += gr
	w, bit := seenBit(eh)
	c.seen[w] |= bit
	return gr
}

// sweep drops expired marks and caps, called by fire at most once per
// event-time hour (sweepNext), so a long backtest does not grow without
// bound.
func (s *MemoryState) sweep(at time.Time) {
	s.sweepNext = at.UnixNano() + int64(time.Hour)
	s.recent = [len(s.recent)]*stateGroup{}
	for k, g := range s.groups {
		fired, newest := g.fired[:0], g.newest[:0]
		for i, rm := range g.fired {
			if at.UnixNano() <= rm.f.until {
				fired, newest = append(fired, rm), append(newest, g.newest[i])
			}
		}
		clear(g.fired[len(fired):])
		g.fired, g.newest = fired, newest
		caps, capRules := g.caps[:0], g.capRules[:0]
		for _, c := range g.caps {
			if !at.After(c.expires) {
				caps, capRules = append(caps, c), append(capRules, c.rule)
			}
		}
		clear(g.caps[len(caps):])
		g.caps, g.capRules = caps, capRules
		if len(g.fired) == 0 && len(g.caps) == 0 {
			delete(s.groups, k)
		}
	}
}
