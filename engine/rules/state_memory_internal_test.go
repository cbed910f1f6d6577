package rules

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A sweep drops groups whose state expired, and what is looked up after it
// (the recently used groups included) starts afresh rather than from a
// dropped group.
func TestMemoryStateSweepDropsExpiredGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryState()
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	cd := Key{Kind: "cd", Guild: 1, Rule: 2, Scope: "user", A: 3}
	ok, err := s.Cooldown(ctx, cd, Token{Event: "a", Source: 1}, at, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	capKey := Key{Kind: "cap", Guild: 1, Rule: 2, Scope: "xp:day", A: 3, B: at.Unix()}
	_, err = s.CapConsume(ctx, capKey, Token{Event: "a", Source: 1, Rule: 2}, 10, 100, at.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, s.groups, 2)

	later := at.Add(3 * time.Hour) // past the mark's window and Retention, and the cap's period
	other := Key{Kind: "cd", Guild: 1, Rule: 2, Scope: "user", A: 4}
	ok, err = s.Cooldown(ctx, other, Token{Event: "b", Source: 2}, later, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, s.groups, 1, "only the new member's group is left")
	used, err := s.CapUsed(ctx, capKey, Token{})
	require.NoError(t, err)
	require.Zero(t, used)
	ok, err = s.Cooldown(ctx, cd, Token{Event: "c", Source: 3}, later, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, s.groups, 2)
}

// refMarks is fire as a plain sorted list of marks, dropping those past
// Retention on every call that reads them and all of them at an hourly
// sweep past until:
// what MemoryState's marks must agree with.
type refMarks struct {
	ms    []mark
	until int64
}

func (r *refMarks) fire(th uint64, t, w int64, limit int) bool {
	ms := r.ms
	if n := len(ms); limit == 1 && n > 0 && ms[n-1].at <= t && t-ms[n-1].at < w && ms[n-1] != (mark{token: th, at: t}) {
		return false // a cooldown refused by the newest mark alone drops nothing
	}
	for len(ms) > 0 && t-ms[0].at >= w+int64(Retention) {
		ms = ms[1:]
	}
	n, own := 0, false
	for _, m := range ms {
		if m.at == t && m.token == th {
			own = true
		}
		if t-m.at < w && m.at-t < w {
			n++
		}
	}
	allowed := own || n < limit
	if !own && allowed {
		pos := len(ms)
		for pos > 0 && ms[pos-1].at > t {
			pos--
		}
		ms = append(ms[:pos:pos], append([]mark{{token: th, at: t}}, ms[pos:]...)...)
		r.until = max(r.until, t+w+int64(Retention))
	}
	r.ms = ms
	return allowed
}

// Cooldowns and velocities over events mostly in time order, some late,
// some replayed, decide as the reference does, across the drops of old
// marks and the moves of the kept ones.
func TestMemoryStateMarksMatchReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewMemoryState()
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	type keyed struct {
		ref    refMarks
		window time.Duration
		limit  int
	}
	keys := make([]keyed, 6)
	for i := range keys {
		keys[i] = keyed{window: time.Duration(30+rng.IntN(600)) * time.Second, limit: 1 + i%3}
	}
	var past []Token // events seen, to replay
	var pastAt []time.Time
	var sweepAt time.Time
	now := start
	for n := 0; n < 50_000; n++ {
		now = now.Add(time.Duration(rng.IntN(20)) * time.Second)
		tok, at := Token{Event: "message_create", Source: int64(n + 1)}, now
		switch r := rng.IntN(20); {
		case r == 0 && len(past) > 0: // a replay
			i := rng.IntN(len(past))
			tok, at = past[i], pastAt[i]
		case r == 1: // late, up to two hours
			at = now.Add(-time.Duration(rng.IntN(7200)) * time.Second)
		}
		past, pastAt = append(past, tok), append(pastAt, at)
		if at.Sub(sweepAt) >= time.Hour {
			sweepAt = at
			for j := range keys {
				if at.UnixNano() > keys[j].ref.until {
					keys[j].ref = refMarks{}
				}
			}
		}
		i := rng.IntN(len(keys) - 1)
		if rng.IntN(400) == 0 {
			i = len(keys) - 1 // a key idle for about an hour at a time
		}
		k := &keys[i]
		key := Key{Kind: "vel", Guild: 1, Rule: int64(i + 1), A: 7}
		var got bool
		var err error
		if k.limit == 1 {
			got, err = s.Cooldown(ctx, key, tok, at, k.window)
		} else {
			got, err = s.Velocity(ctx, key, tok, at, k.window, k.limit)
		}
		require.NoError(t, err)
		want := k.ref.fire(tok.hash(), at.UnixNano(), int64(k.window), k.limit)
		require.Equal(t, want, got, "event %d, key %d", n, i)
	}
}

// A key idle past its marks' Retention, between two sweeps, drops them all
// at its next event: a late event inside the old mark's window then fires.
func TestMemoryStateIdleKeyDropsItsMarks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemoryState()
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	a := Key{Kind: "cd", Guild: 1, Rule: 2, Scope: "user", A: 3}
	b := Key{Kind: "cd", Guild: 1, Rule: 2, Scope: "user", A: 4}
	fire := func(k Key, src int64, at time.Time) bool {
		ok, err := s.Cooldown(ctx, k, Token{Event: "e", Source: src}, at, 10*time.Minute)
		require.NoError(t, err)
		return ok
	}
	require.True(t, fire(a, 1, at))
	require.True(t, fire(b, 2, at.Add(time.Hour)), "sweeps, keeping a's mark (kept until 13:10)")
	require.True(t, fire(a, 3, at.Add(time.Hour+15*time.Minute)), "drops a's mark of 12:00")
	require.True(t, fire(a, 4, at.Add(time.Minute)), "12:01, in the dropped mark's window, late")
	require.False(t, fire(a, 5, at.Add(2*time.Minute)), "within 12:01's window")
}

// Caps consumed by new and replayed events, and their headroom checks,
// agree with plain maps by token, whether few or many events took grants.
func TestMemoryStateCapsMatchReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	s := NewMemoryState()
	end := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	for _, events := range []int{10, 100, 3000} {
		key := Key{Kind: "cap", Guild: 1, Rule: int64(events), Scope: "xp:day", A: 5, B: end.Unix()}
		var used int64
		grants, byEvent := map[Token]int64{}, map[Token]int64{}
		for n := 0; n < 3*events; n++ {
			tok := Token{Event: "message_create", Source: int64(rng.IntN(events)), Rule: key.Rule, Effect: rng.IntN(2)}
			if rng.IntN(2) == 0 {
				got, err := s.CapUsed(ctx, key, tok)
				require.NoError(t, err)
				require.Equal(t, used-byEvent[tok.eventRule()], got, "used by others than %v", tok)
				continue
			}
			amount := int64(rng.IntN(20))
			want, ok := grants[tok]
			if !ok {
				want = max(min(amount, int64(10*events)-used), 0)
				used += want
				grants[tok] = want
				byEvent[tok.eventRule()] += want
			}
			got, err := s.CapConsume(ctx, key, tok, amount, int64(10*events), end)
			require.NoError(t, err)
			require.Equal(t, want, got, "grant of %v", tok)
		}
	}
}
