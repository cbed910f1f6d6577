package gateway

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
)

// When a worker re-claims a shard (its lease lapsed under load), the old
// run's events and the new run's can share a batch. The lake refuses the
// old fence's checkpoint; only the old run's events may be dropped (the new
// run resumes from the checkpoint and receives them again). Dropping every
// event of the shard id lost the new run's events for good: its read loop
// had moved past them.
func TestFencedRunDropsOnlyItsOwnEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	log := testenv.Logger(t)
	_, err := db.Pool.Exec(ctx, `INSERT INTO shard_sessions (shard_id, shard_count, fence, owner) VALUES (0, 1, 2, 'w')`)
	require.NoError(t, err)
	_, err = lake.EnsurePartitions(ctx, db.Pool, time.Now().Add(-24*time.Hour), time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	pipe := NewPipeline(DefaultPipelineConfig(), lake.NewWriter(db.Pool), log, ops.NewRegistry())
	run := func(fence int64) *shardRun {
		sctx, cancel := context.WithCancel(ctx)
		t.Cleanup(cancel)
		s := &shardRun{id: 0, count: 1, fence: fence, ctx: sctx, cancel: cancel, log: log}
		s.committedCond = sync.NewCond(&s.mu)
		return s
	}
	stale, current := run(1), run(2)
	now := time.Now().UTC().Truncate(time.Millisecond)
	msg := func(id int64) []lake.Event {
		return []lake.Event{{TenantID: 1, GuildID: 9, OccurredAt: now, SourceID: id, Type: lake.MessageCreate, UserID: 3, ChannelID: 4}}
	}
	batch := []item{
		{shard: stale, events: msg(lake.MintSnowflake(now, 1)), seq: 40, session: "s"},
		{shard: current, events: msg(lake.MintSnowflake(now, 2)), seq: 31, session: "s"},
		{shard: current, events: msg(lake.MintSnowflake(now, 3)), seq: 32, session: "s"},
	}
	pipe.write(ctx, batch)

	var rows int
	var seq, fence int64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM event_lake`).Scan(&rows))
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT seq, fence FROM shard_sessions WHERE shard_id = 0 AND shard_count = 1`).Scan(&seq, &fence))
	require.Equal(t, 2, rows, "the current run's events are stored")
	require.Equal(t, int64(32), seq, "the checkpoint is the current run's")
	require.True(t, stale.isFenced.Load())
	require.False(t, current.isFenced.Load(), "the current run keeps capturing")
	require.Equal(t, int64(32), current.committedSeq)
}

// A run that is over (its start failed, or it was dropped) while disgo
// still holds a connection — disgo reconnects by itself after a zombie or
// RECONNECT — must close that connection at its first sign of life. Left
// open, it resumes the session, ends the next owner's connection and
// throws away every event it reads.
func TestRunThatIsOverClosesItsGateway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	sim, w := oneShardCapture(t, db, 10)
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	require.Equal(t, 1, sim.Stats().LiveConnections)

	// The worker gives the run up (as StartShard does when Open fails)
	// while the gateway stays connected; Discord then asks it to reconnect.
	w.mu.Lock()
	s := w.shards[[2]int{0, 1}]
	w.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.True(t, s.waitCommitted(wctx, 2), "READY and GUILD_CREATE handled")
	w.forget([2]int{0, 1}, s.cancel)
	require.Equal(t, 1, sim.Faults().Reconnect(0))

	// disgo resumes by itself; the run closes the connection on RESUMED.
	require.Eventually(t, func() bool { return sim.Stats().Resumes >= 1 }, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return sim.Stats().LiveConnections == 0 }, 10*time.Second, 20*time.Millisecond,
		"the given-up run's gateway is closed")
}
