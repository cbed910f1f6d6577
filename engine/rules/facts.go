package rules

import (
	"context"
	"time"
)

// MemberFacts is what conditions and expressions know about a member. The
// pipeline loads them in bulk for a batch (members, roles, wallets) and
// serves them through Facts.
type MemberFacts struct {
	UserID   int64
	Roles    []int64
	Bot      bool
	JoinedAt time.Time // zero when unknown
	// AccountCreatedAt overrides the creation time read from the user id's
	// snowflake (imports, tests).
	AccountCreatedAt time.Time
	DMOptOut         bool
	// Wallet holds balances by currency; Counters holds the member's
	// activity from the lake's counters, each as _today and _week (the
	// UTC day, and the week from Monday 00:00 UTC, like caps): messages,
	// reactions (given), reactions_received, threads and voice_minutes
	// (non-AFK), 0 when none (tenants.MemberStore.Activity).
	Wallet   map[string]float64
	Counters map[string]float64
}

// HasRole reports whether the member holds role.
func (m *MemberFacts) HasRole(role int64) bool {
	for _, r := range m.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Facts serves member facts for evaluation. An error aborts the event's
// evaluation (the task retries); an unknown member is not an error: return
// MemberFacts{UserID: id} for it.
type Facts interface {
	Member(ctx context.Context, guildID, userID int64) (MemberFacts, error)
}

// StaticFacts serves facts from a map (tests, dry runs, the benchmark).
// Unknown members get empty facts.
type StaticFacts map[int64]MemberFacts

// Member implements Facts.
func (s StaticFacts) Member(_ context.Context, _ int64, userID int64) (MemberFacts, error) {
	if m, ok := s[userID]; ok {
		m.UserID = userID
		return m, nil
	}
	return MemberFacts{UserID: userID}, nil
}

// infraError marks errors from Facts or State: they abort the whole
// evaluation (to be retried) rather than count against one rule.
type infraError struct{ err error }

func (e *infraError) Error() string { return e.err.Error() }
func (e *infraError) Unwrap() error { return e.err }

func infra(err error) error {
	if err == nil {
		return nil
	}
	return &infraError{err: err}
}
