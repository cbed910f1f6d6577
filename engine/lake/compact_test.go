package lake_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
)

// A day written by shards running at different distances behind Discord
// has a sparse natural-key index; compacted once the day is closed, it is
// packed, keeps refusing duplicates, and is not compacted again. A day
// still open (or within the grace period) is left alone.
func TestCompactClosedPacksAClosedDayOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	w := lake.NewWriter(db.Pool)
	day := day0.Truncate(24 * time.Hour)
	// Four guilds' streams, each in order, the later ones falling behind
	// the first: every batch inserts into four places of the index.
	var first lake.Batch
	for k := 0; k < 60; k++ {
		var b lake.Batch
		for s := 0; s < 4; s++ {
			lag := time.Duration(k*s) * 10 * time.Millisecond
			for i := 0; i < 100; i++ {
				at := day.Add(time.Hour + time.Duration(k)*50*time.Millisecond - lag + time.Duration(i)*time.Millisecond/2)
				b.Events = append(b.Events, msg(1, int64(10+s), int64(100+i%7), 7, at, uint64(s*1000+i), 30))
			}
		}
		if k == 0 {
			first = b
		}
		_, err := w.Write(ctx, b)
		require.NoError(t, err)
	}
	indexBytes := func() int64 {
		return count(t, db.Pool, `SELECT pg_indexes_size(to_regclass($1))`, lake.PartitionName(day))
	}
	sparse := indexBytes()

	// Within the grace period after the day: nothing yet.
	got, err := lake.CompactClosed(ctx, db.Pool, day.Add(24*time.Hour+lake.CompactGrace-time.Minute))
	require.NoError(t, err)
	require.Empty(t, got)

	got, err = lake.CompactClosed(ctx, db.Pool, day.Add(24*time.Hour+lake.CompactGrace))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, lake.PartitionName(day), got[0].Partition)
	require.Less(t, got[0].BytesAfter, got[0].BytesBefore)
	packed := indexBytes()
	t.Logf("index %d bytes sparse, %d packed", sparse, packed)
	require.Less(t, float64(packed), 0.85*float64(sparse), "index %d bytes before, %d after", sparse, packed)
	require.Equal(t, int64(1), count(t, db.Pool, `SELECT count(*) FROM lake_compactions WHERE partition = $1 AND bytes_after = $2`, got[0].Partition, got[0].BytesAfter))

	// The rebuilt index still enforces the natural key.
	res, err := w.Write(ctx, first)
	require.NoError(t, err)
	require.Equal(t, lake.Result{Duplicates: len(first.Events)}, res)
	require.Equal(t, int64(60*400), count(t, db.Pool, `SELECT count(*) FROM event_lake`))

	// Compacted days are not compacted again.
	got, err = lake.CompactClosed(ctx, db.Pool, day.Add(72*time.Hour))
	require.NoError(t, err)
	for _, c := range got {
		require.NotEqual(t, lake.PartitionName(day), c.Partition)
	}
}

// A backlog of closed days (the first run after an upgrade) is worked
// through CompactPerRun days a run, oldest first.
func TestCompactClosedWorksThroughABacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	day := day0.Truncate(24 * time.Hour)
	_, err := lake.EnsurePartitions(ctx, db.Pool, day.AddDate(0, 0, -4), day)
	require.NoError(t, err)
	now := day.Add(lake.CompactGrace) // day-1 and older are closed
	var order []string
	for run := 0; run < 4; run++ {
		got, err := lake.CompactClosed(ctx, db.Pool, now)
		require.NoError(t, err)
		require.LessOrEqual(t, len(got), lake.CompactPerRun)
		for _, c := range got {
			order = append(order, c.Partition)
		}
	}
	want := []string{lake.PartitionName(day.AddDate(0, 0, -4)), lake.PartitionName(day.AddDate(0, 0, -3)),
		lake.PartitionName(day.AddDate(0, 0, -2)), lake.PartitionName(day.AddDate(0, 0, -1))}
	require.Equal(t, want, order)
}
