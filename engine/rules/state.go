package rules

import (
	"context"
	"strconv"
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
func (t Token) hash() uint64 { return t.hashFrom(t.eventHash()) }

const fnvPrime = 1099511628211

// eventHash is the FNV-1a state after the token's event and source, what
// hashFrom continues with its rule and effect.
func (t Token) eventHash() uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(t.Event); i++ {
		h = (h ^ uint64(t.Event[i])) * fnvPrime
	}
	return fnvInt(h, t.Source)
}

func (t Token) hashFrom(h uint64) uint64 { return fnvInt(fnvInt(h, t.Rule), int64(t.Effect)) }

// fnvInt continues FNV-1a with n's eight bytes, low first.
func fnvInt(h uint64, n int64) uint64 {
	for i := 0; i < 8; i++ {
		h = (h ^ uint64(n>>(8*i))&0xff) * fnvPrime
	}
	return h
}

// eventRule is the token of the event and rule, effect aside: what
// CapUsed discounts.
func (t Token) eventRule() Token {
	t.Effect = -1
	return t
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
	// CapUsed is how much has been consumed under key by events other than
	// token's (its event and rule, whatever the effect): a task run again
	// for an event must not be refused by the grants its first run took.
	CapUsed(ctx context.Context, key Key, token Token) (int64, error)
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
