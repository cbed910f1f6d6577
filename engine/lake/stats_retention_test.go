package lake_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// The volume and breakdown endpoints report the days the guild's retention
// keeps, though its counters of older days are kept (milestones count
// from them).
func TestVolumeAndBreakdownStopAtTheGuildsRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tenant := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
	_, err := db.Pool.Exec(ctx, `UPDATE guilds SET settings = '{"capture":{"retention_days":3}}' WHERE id = $1`, g.ID)
	require.NoError(t, err)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		msg(tenant.ID, g.ID, 1, 5, today.AddDate(0, 0, -5).Add(time.Hour), 1, 10), // past 3 days
		msg(tenant.ID, g.ID, 1, 5, today.AddDate(0, 0, -3).Add(time.Hour), 2, 10), // the oldest day kept
		msg(tenant.ID, g.ID, 1, 5, today.Add(time.Hour), 3, 10),
	}})
	require.NoError(t, err)

	st := lake.NewStats(db.Pool, tenant.ID)
	from, to := today.AddDate(0, 0, -10), today.AddDate(0, 0, 1)
	points, err := st.Volume(ctx, g.ID, from, to)
	require.NoError(t, err)
	var days []string
	for _, p := range points {
		days = append(days, p.Day)
	}
	require.Equal(t, []string{today.AddDate(0, 0, -3).Format(time.DateOnly), today.Format(time.DateOnly)}, days)
	for _, by := range []string{"type", "channel", "zone"} {
		rows, err := st.Breakdown(ctx, g.ID, by, from, to)
		require.NoError(t, err)
		require.Len(t, rows, 1, by)
		require.EqualValues(t, 2, rows[0].Events, by)
	}
	require.EqualValues(t, 3, count(t, db.Pool, `SELECT sum(events) FROM event_counters WHERE guild_id = $1`, g.ID), "counters are all kept")
}
