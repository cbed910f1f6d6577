package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func ev(tenant, guild, user int64, at time.Time, low uint64) lake.Event {
	return lake.Event{TenantID: tenant, GuildID: guild, OccurredAt: at, SourceID: lake.MintSnowflake(at, low), Type: lake.MessageCreate, UserID: user, ChannelID: 1, Magnitude: 10}
}

func maintenance(t *testing.T, db *postgres.DB) *Maintenance {
	m := NewMaintenance(db.Pool, testenv.Logger(t), ops.NewRegistry())
	m.now = func() time.Time { return now }
	return m
}

func TestReconcileRepairsAndReportsDrift(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	reaction := lake.Event{TenantID: 1, GuildID: 10, OccurredAt: now.Add(-3 * time.Hour), SourceID: lake.MintSnowflake(now.Add(-3*time.Hour), 9),
		Type: lake.ReactionAdd, UserID: 101, ChannelID: 1, TargetID: 100}
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		ev(1, 10, 100, now.Add(-time.Hour), 1), ev(1, 10, 100, now.Add(-2*time.Hour), 2), ev(1, 10, 101, now.Add(-26*time.Hour), 3), reaction,
	}})
	require.NoError(t, err)
	m := maintenance(t, db)

	rep, err := m.Reconcile(ctx, 3)
	require.NoError(t, err)
	require.Zero(t, rep.Drifted+rep.Orphaned, "counters written with the lake agree with it, derived ones included")

	// Break them three ways: a wrong count, a missing row, a row with nothing behind it.
	_, err = db.Pool.Exec(ctx, `UPDATE event_counters SET events = 7 WHERE user_id = 100 AND event_type = 1`)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `DELETE FROM event_counters WHERE user_id = 101 AND event_type = 1`)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO event_counters VALUES (1, 10, $1, 1, 555, 1, 3, 3)`, now.Format(time.DateOnly))
	require.NoError(t, err)

	rep, err = m.Reconcile(ctx, 3)
	require.NoError(t, err)
	require.EqualValues(t, 2, rep.Drifted)
	require.EqualValues(t, 1, rep.Orphaned)
	var total int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT sum(events) FROM event_counters`).Scan(&total))
	require.Equal(t, 5, total, "3 messages, 1 reaction given, 1 received")
}

func TestRetentionDropsOldDaysAndHonoursShorterGuildSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	keepLong := tenanttest.Tenant(ctx, t, db.Bun, nil)
	keepShort := tenanttest.Tenant(ctx, t, db.Bun, nil)
	gLong := tenanttest.Guild(ctx, t, db.Bun, keepLong.ID, nil)
	gShort := tenanttest.Guild(ctx, t, db.Bun, keepShort.ID, nil)
	_, err := tenants.NewStore(db.Bun).ForTenant(keepShort.ID).Guilds().UpdateSettings(ctx, tenants.Actor{ID: "1"}, gShort.ID, json.RawMessage(`{"capture":{"retention_days":7}}`))
	require.NoError(t, err)

	old := now.AddDate(0, 0, -120)
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		ev(keepLong.ID, gLong.ID, 1, old, 1),                      // past every guild's retention: its day is dropped
		ev(keepLong.ID, gLong.ID, 1, now.AddDate(0, 0, -30), 2),   // kept (90 days)
		ev(keepShort.ID, gShort.ID, 1, now.AddDate(0, 0, -30), 3), // deleted (7 days)
		ev(keepShort.ID, gShort.ID, 1, now.AddDate(0, 0, -1), 4),  // kept
	}})
	require.NoError(t, err)

	rep, err := maintenance(t, db).Retention(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{lake.PartitionName(old)}, rep.DroppedPartitions)
	require.EqualValues(t, 1, rep.DeletedRows)
	var left []int64
	rows, err := db.Pool.Query(ctx, `SELECT guild_id FROM event_lake ORDER BY occurred_at`)
	require.NoError(t, err)
	for rows.Next() {
		var g int64
		require.NoError(t, rows.Scan(&g))
		left = append(left, g)
	}
	require.Equal(t, []int64{gLong.ID, gShort.ID}, left)
}

func TestRelayEnqueuesEachOutboxRowOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{ev(1, 10, 1, now, 1), ev(1, 10, 2, now, 2), ev(2, 20, 3, now, 3)}})
	require.NoError(t, err)

	client := asynq.NewClientFromRedisClient(rdb)
	r := NewRelay(db.Pool, client, testenv.Logger(t), ops.NewRegistry())
	n, err := r.DrainOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n, "one task per guild of the batch, not per event")
	n, err = r.DrainOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	insp := asynq.NewInspectorFromRedisClient(rdb)
	tasks, err := insp.ListPendingTasks(QueueRules)
	require.NoError(t, err)
	require.Len(t, tasks, 2)
	var events int
	for _, tk := range tasks {
		require.Equal(t, TypeEvaluate, tk.Type)
		evs, err := lake.DecodeEvents(tk.Payload)
		require.NoError(t, err)
		events += len(evs)
	}
	require.Equal(t, 3, events)
}

// A guild's backlog of outbox rows goes out as one task (events in order);
// other guilds' rows stay apart.
func TestRelayMergesAGuildsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	w := lake.NewWriter(db.Pool)
	for i := uint64(0); i < 3; i++ {
		_, err := w.Write(ctx, lake.Batch{Events: []lake.Event{ev(1, 10, 1, now, 10+i), ev(2, 20, 3, now, 20+i)}})
		require.NoError(t, err)
	}
	r := NewRelay(db.Pool, asynq.NewClientFromRedisClient(rdb), testenv.Logger(t), ops.NewRegistry())
	n, err := r.DrainOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 6, n, "every row relayed")
	tasks, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(QueueRules)
	require.NoError(t, err)
	require.Len(t, tasks, 2, "one task per guild")
	for _, tk := range tasks {
		evs, err := lake.DecodeEvents(tk.Payload)
		require.NoError(t, err)
		require.Len(t, evs, 3)
		for i := 1; i < len(evs); i++ {
			require.Equal(t, evs[0].GuildID, evs[i].GuildID)
			require.Less(t, evs[i-1].SourceID, evs[i].SourceID, "in outbox order")
		}
	}
}

// While the rules queue is backlogged the relay leaves rows in the outbox
// (they merge into larger tasks later); once it drains, they go.
func TestRelayHoldsWhileRulesQueueIsBacklogged(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	for i := 0; i < 2; i++ {
		_, err := client.Enqueue(asynq.NewTask(TypeEvaluate, []byte{0}), asynq.Queue(QueueRules))
		require.NoError(t, err)
	}
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{ev(1, 10, 1, now, 1)}})
	require.NoError(t, err)
	r := NewRelay(db.Pool, client, testenv.Logger(t), ops.NewRegistry()).HoldWhileBacklogged(insp, 2)
	require.True(t, r.holding())
	go func() { _ = r.Run(ctx) }()
	outbox := func() int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM lake_outbox").Scan(&n))
		return n
	}
	require.Never(t, func() bool { return outbox() == 0 }, 300*time.Millisecond, 20*time.Millisecond, "held while 2 tasks are pending")
	_, err = insp.DeleteAllPendingTasks(QueueRules)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return outbox() == 0 }, 5*time.Second, 20*time.Millisecond)
}

// The hourly partitions job creates the coming days and compacts the
// closed ones, once each.
func TestPartitionsJobCreatesAheadAndCompactsClosedDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	m := maintenance(t, db)
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		ev(1, 10, 100, now.Add(-30*time.Hour), 1), ev(1, 10, 100, now.Add(-time.Hour), 2),
	}})
	require.NoError(t, err)
	require.NoError(t, m.Partitions(ctx))
	parts, err := lake.Partitions(ctx, db.Pool)
	require.NoError(t, err)
	require.Equal(t, lake.PartitionName(now.AddDate(0, 0, 7)), parts[len(parts)-1].Name)
	var compacted []string
	rows, err := db.Pool.Query(ctx, `SELECT partition FROM lake_compactions ORDER BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var p string
		require.NoError(t, rows.Scan(&p))
		compacted = append(compacted, p)
	}
	require.NoError(t, rows.Err())
	// Yesterday (closed 12 h ago) is compacted; today is still being written.
	require.Equal(t, []string{lake.PartitionName(now.Add(-24 * time.Hour))}, compacted)
	require.NoError(t, m.Partitions(ctx))
	var at1, at2 time.Time
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT compacted_at FROM lake_compactions`).Scan(&at1))
	require.NoError(t, m.Partitions(ctx))
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT compacted_at FROM lake_compactions`).Scan(&at2))
	require.Equal(t, at1, at2, "compacted once")
}
