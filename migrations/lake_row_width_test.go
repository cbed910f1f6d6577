package migrations_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// Rebuilding the lake with a narrower row keeps every row of every
// partition, both ways, and the narrower row takes less room.
func TestLakeRowWidthRebuildKeepsEveryRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t) // migrated up: the narrow layout
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var events []lake.Event
	for i := range 3000 {
		at := day.Add(time.Duration(i) * 50 * time.Second) // two days, two partitions
		events = append(events, lake.Event{TenantID: tn.ID, GuildID: 77, OccurredAt: at, SourceID: lake.MintSnowflake(at, uint64(i)),
			Type: lake.Type(1 + i%3), UserID: int64(i % 40), ChannelID: 9, TargetID: int64(i), Counts: lake.Counts(i), Magnitude: int32(i), Flags: lake.Flags(i % 8)})
	}
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: events})
	require.NoError(t, err)

	rows := func() string {
		var s string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT string_agg(format('%s %s %s %s %s %s %s %s %s %s %s', tenant_id, guild_id, occurred_at, source_id,
			user_id, channel_id, target_id, counts, magnitude, event_type, flags), ';' ORDER BY source_id) FROM event_lake`).Scan(&s))
		return s
	}
	layout := func() (firstColumn, tenantType string, bytesPerRow float64) {
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT (SELECT attname FROM pg_attribute WHERE attrelid = 'event_lake'::regclass AND attnum = 1),
			format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'event_lake'::regclass AND attname = 'tenant_id'`).Scan(&firstColumn, &tenantType))
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT sum(pg_relation_size(inhrelid))::float8 / (SELECT count(*) FROM event_lake)
			FROM pg_inherits WHERE inhparent = 'event_lake'::regclass`).Scan(&bytesPerRow))
		return
	}
	run := func(file string) {
		sql, err := os.ReadFile("sql/" + file)
		require.NoError(t, err)
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, string(sql))
		require.NoError(t, err, file)
		require.NoError(t, tx.Commit(ctx))
	}
	want := rows()
	first, typ, narrow := layout()
	require.Equal(t, "guild_id", first)
	require.Equal(t, "integer", typ)

	run("0011_lake_row_width.tx.down.sql")
	require.Equal(t, want, rows())
	first, typ, wide := layout()
	require.Equal(t, "tenant_id", first)
	require.Equal(t, "bigint", typ)

	run("0011_lake_row_width.tx.up.sql")
	require.Equal(t, want, rows())
	first, typ, again := layout()
	require.Equal(t, "guild_id", first)
	require.Equal(t, "integer", typ)
	require.Less(t, again, wide-6, "8 bytes a row less, less page slack: wide %.1f, narrow %.1f", wide, again)
	require.InDelta(t, narrow, again, 1)

	// The writer's COPY and its duplicate-skipping INSERT both fit the
	// rebuilt table: a repeat of the batch stores nothing twice.
	res, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: events})
	require.NoError(t, err)
	require.Zero(t, res.Inserted)
	require.Equal(t, want, rows())
}
