package jobs

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A tenant's malformed retention_days (stored before the API validated it)
// is read for that guild alone, as the gateway reads it; it no longer fails
// the nightly run for every tenant.
func TestRetentionToleratesAGuildsMalformedSetting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tenant := tenanttest.Tenant(ctx, t, db.Bun, nil)
	fractional := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
	words := tenanttest.Guild(ctx, t, db.Bun, tenant.ID, nil)
	other := tenanttest.Tenant(ctx, t, db.Bun, nil)
	short := tenanttest.Guild(ctx, t, db.Bun, other.ID, nil)
	for g, doc := range map[int64]string{
		fractional.ID: `{"capture":{"retention_days":30.5}}`,                                // rounded up: 31 days
		words.ID:      `{"capture":{"retention_days":"a month","disabled":["voice_join"]}}`, // the default, 90
		short.ID:      `{"capture":{"retention_days":7}}`,
	} {
		_, err := db.Pool.Exec(ctx, `UPDATE guilds SET settings = $2::jsonb WHERE id = $1`, g, doc)
		require.NoError(t, err)
	}
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		ev(tenant.ID, fractional.ID, 1, now.AddDate(0, 0, -32), 1), // past 31 days: deleted
		ev(tenant.ID, fractional.ID, 1, now.AddDate(0, 0, -30), 2), // kept
		ev(tenant.ID, words.ID, 1, now.AddDate(0, 0, -32), 3),      // kept (90 days)
		ev(other.ID, short.ID, 1, now.AddDate(0, 0, -30), 4),       // deleted (7 days)
		ev(other.ID, short.ID, 1, now.AddDate(0, 0, -1), 5),        // kept
	}})
	require.NoError(t, err)

	rep, err := maintenance(t, db).Retention(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep.MalformedSettings)
	require.EqualValues(t, 2, rep.DeletedRows)
	var left []int64
	rows, err := db.Pool.Query(ctx, `SELECT source_id FROM event_lake ORDER BY source_id`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int64{
		lake.MintSnowflake(now.AddDate(0, 0, -32), 3),
		lake.MintSnowflake(now.AddDate(0, 0, -30), 2),
		lake.MintSnowflake(now.AddDate(0, 0, -1), 5),
	}, left)
}
