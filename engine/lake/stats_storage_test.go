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

// The storage estimate divides the partitions' bytes by the rows those
// partitions hold, whichever guild asks: a guild keeping fewer days than
// the longest retention no longer divides every partition's bytes by the
// rows of its own (shorter) window only.
func TestStorageCountsTheRowsThePartitionsHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tenant := tenanttest.Tenant(ctx, t, db.Bun, nil)
	short := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
	long := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
	_, err := db.Pool.Exec(ctx, `UPDATE guilds SET settings = '{"capture":{"retention_days":3}}' WHERE id = $1`, short.ID)
	require.NoError(t, err)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var evs []lake.Event
	for i := uint64(0); i < 40; i++ {
		evs = append(evs, msg(tenant.ID, long.ID, 1, 5, today.AddDate(0, 0, -10).Add(time.Hour), 100+i, 10)) // kept (90 days)
	}
	for i := uint64(0); i < 10; i++ {
		evs = append(evs,
			msg(tenant.ID, long.ID, 1, 5, today.Add(time.Hour), 200+i, 10),
			msg(tenant.ID, short.ID, 1, 5, today.Add(time.Hour), 300+i, 10),
			msg(tenant.ID, short.ID, 1, 5, today.AddDate(0, 0, -10).Add(time.Hour), 400+i, 10)) // past 3 days
	}
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: evs})
	require.NoError(t, err)
	// As the retention job does for the short guild: its rows go, its counters stay.
	_, err = db.Pool.Exec(ctx, `DELETE FROM event_lake WHERE guild_id = $1 AND occurred_at < $2`, short.ID, today.AddDate(0, 0, -3))
	require.NoError(t, err)
	lakeRows := count(t, db.Pool, `SELECT count(*) FROM event_lake`)
	require.EqualValues(t, 60, lakeRows)

	for _, tc := range []struct {
		name   string
		guild  int64
		events int64
		oldest time.Time
	}{
		{"short retention", short.ID, 10, today},
		{"default retention", long.ID, 50, today.AddDate(0, 0, -10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := lake.NewStats(db.Pool, tenant.ID).Storage(ctx, tc.guild)
			require.NoError(t, err)
			require.Equal(t, lakeRows, st.LakeEvents, "the rows the measured partitions hold")
			require.Equal(t, tc.events, st.Events)
			require.Equal(t, tc.oldest.Format(time.DateOnly), st.OldestDay)
			require.InDelta(t, float64(st.LakeBytes)/float64(lakeRows), st.BytesPerEvent, 0.001)
			require.Equal(t, int64(float64(st.LakeBytes)/float64(lakeRows)*float64(tc.events)), st.EstimatedBytes)
		})
	}
}
