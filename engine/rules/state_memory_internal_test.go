package rules

import (
	"context"
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
