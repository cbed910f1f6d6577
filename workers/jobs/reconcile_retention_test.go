package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A guild keeping fewer days than the weekly run looks back has counters
// and active days for days its lake rows are gone from: they are kept
// (milestones count from them), not reported as drift and deleted. Drift
// on the days the lake still holds is still found.
func TestReconcileComparesOnlyRetainedDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tenant := tenanttest.Tenant(ctx, t, db.Bun, nil)
	short := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
	long := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
	_, err := db.Pool.Exec(ctx, `UPDATE guilds SET settings = '{"capture":{"retention_days":3}}' WHERE id = $1`, short.ID)
	require.NoError(t, err)
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		ev(tenant.ID, short.ID, 100, now.AddDate(0, 0, -5), 1), // past the guild's 3 days
		ev(tenant.ID, short.ID, 100, now.AddDate(0, 0, -1), 2),
		ev(tenant.ID, long.ID, 100, now.AddDate(0, 0, -5), 3),
	}})
	require.NoError(t, err)
	m := maintenance(t, db)
	rep, err := m.Retention(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, rep.DeletedRows)

	counters := func(guild int64) int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM event_counters WHERE guild_id = $1`, guild).Scan(&n))
		return n
	}
	activeDays := func(guild int64) int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM member_active_days WHERE guild_id = $1`, guild).Scan(&n))
		return n
	}
	require.Equal(t, 2, counters(short.ID))
	require.Equal(t, 2, activeDays(short.ID))

	rep2, err := m.Reconcile(ctx, 8)
	require.NoError(t, err)
	require.Zero(t, rep2.Drifted+rep2.Orphaned+rep2.ActiveDays, "no false drift: %+v", rep2)
	require.Equal(t, 2, counters(short.ID), "the short guild's older counters are kept")
	require.Equal(t, 2, activeDays(short.ID), "and its older active days")

	// Real drift is still found: a bogus counter on a day the short guild
	// still holds, and one on the long guild's older day.
	for _, g := range []struct {
		guild int64
		day   time.Time
	}{{short.ID, now.AddDate(0, 0, -1)}, {long.ID, now.AddDate(0, 0, -5)}} {
		_, err = db.Pool.Exec(ctx, `INSERT INTO event_counters VALUES ($1, $2, $3, 1, 555, 1, 3, 3)`, tenant.ID, g.guild, g.day.Format(time.DateOnly))
		require.NoError(t, err)
	}
	rep2, err = m.Reconcile(ctx, 8)
	require.NoError(t, err)
	require.EqualValues(t, 2, rep2.Orphaned)
	require.Equal(t, 2, counters(short.ID))
}
