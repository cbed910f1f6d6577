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

// Events replayed from history carry their thread's parent channel, as
// they did live, whether the thread was created inside the period or
// before it; a channel that is no thread, and a thread whose creation the
// lake does not hold, have none.
func TestHistoryGivesThreadEventsTheirParent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	now := time.Now().UTC()
	_, err := lake.EnsurePartitions(ctx, db.Pool, now.AddDate(0, 0, -5), now.AddDate(0, 0, 1))
	require.NoError(t, err)

	const general, help, unknownThread = 7, 8, 9
	oldAt, newAt := now.Add(-72*time.Hour), now.Add(-3*time.Hour)
	oldThread, newThread := lake.MintSnowflake(oldAt, 1), lake.MintSnowflake(newAt, 2)
	thread := func(id, parent int64, at time.Time) lake.Event {
		return lake.Event{TenantID: tn.ID, GuildID: g.ID, OccurredAt: at, SourceID: id, Type: lake.ThreadCreate, UserID: 100, ChannelID: parent, TargetID: id}
	}
	message := func(n uint64, channel int64, at time.Time) lake.Event {
		return msg(tn.ID, g.ID, 100, channel, at, n, 10)
	}
	from := now.Add(-24 * time.Hour)
	_, err = lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		thread(oldThread, help, oldAt), // before the period
		thread(newThread, general, newAt),
		message(10, oldThread, now.Add(-2*time.Hour)),
		message(11, newThread, now.Add(-time.Hour)),
		message(12, general, now.Add(-time.Hour)),
		message(13, unknownThread, now.Add(-time.Hour)),
	}})
	require.NoError(t, err)

	parents := map[int64]int64{}
	n := 0
	for e, err := range lake.NewStats(db.Pool, tn.ID).History(ctx, g.ID, from, now.Add(time.Minute)) {
		require.NoError(t, err)
		n++
		if e.Type == lake.MessageCreate {
			parents[e.ChannelID] = e.ParentID
		} else {
			require.Zero(t, e.ParentID, "a thread_create names its parent as its channel")
		}
	}
	require.Equal(t, 5, n, "the old thread_create is before the period")
	require.Equal(t, map[int64]int64{oldThread: help, newThread: general, general: 0, unknownThread: 0}, parents)

	// Another tenant's history sees none of it.
	other := tenanttest.Tenant(ctx, t, db.Bun, nil)
	for _, err := range lake.NewStats(db.Pool, other.ID).History(ctx, g.ID, from, now.Add(time.Minute)) {
		require.NoError(t, err)
		t.Fatal("another tenant read this guild's history")
	}
}
