package shardmgr

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
)

// The identify budget is Discord's session start window: seeded from what
// Discord says remains, spent by every worker of the fleet, refused when
// gone, and back to the total only once Discord's window has reset (not at
// UTC midnight).
func TestIdentifyBudgetFollowsDiscordsWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := testenv.Redis(t)
	a := NewIdentifyLimiter(rdb, "budget-test", 4, time.Millisecond, 5)
	b := NewIdentifyLimiter(rdb, "budget-test", 4, time.Millisecond, 5) // another worker

	require.NoError(t, a.Seed(ctx, 2, 300*time.Millisecond)) // Discord: 2 left, resetting in 300 ms
	require.NoError(t, a.Wait(ctx, 0))
	require.NoError(t, b.Wait(ctx, 1))
	require.ErrorIs(t, a.Wait(ctx, 2), ErrIdentifyBudget)
	require.ErrorIs(t, b.Wait(ctx, 3), ErrIdentifyBudget)
	left, err := b.Remaining(ctx)
	require.NoError(t, err)
	require.Zero(t, left)

	// Discord's window resets: the fleet has the whole budget again, and
	// a new window opens with the first identify.
	require.Eventually(t, func() bool {
		n, err := a.Remaining(ctx)
		require.NoError(t, err)
		return n == 5
	}, 5*time.Second, 10*time.Millisecond)
	for i := 0; i < 5; i++ {
		require.NoError(t, a.Wait(ctx, i))
	}
	require.ErrorIs(t, b.Wait(ctx, 0), ErrIdentifyBudget)
	ttl, err := rdb.PTTL(ctx, a.budgetKey()).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 23*time.Hour, "a window opened by an identify lasts Discord's 24 hours")
}
