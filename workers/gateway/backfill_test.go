package gateway_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// afterFirstRead runs once, after the first channel-history page of one
// channel has been answered.
type afterFirstRead struct {
	rest.Rest
	channel snowflake.ID
	once    sync.Once
	then    func()
}

func (r *afterFirstRead) GetMessages(channelID, around, before, after snowflake.ID, limit int, opts ...rest.RequestOpt) ([]discord.Message, error) {
	msgs, err := r.Rest.GetMessages(channelID, around, before, after, limit, opts...)
	if channelID == r.channel && err == nil {
		r.once.Do(r.then)
	}
	return msgs, err
}

// A message written while no session exists is in channel history only
// until someone deletes it. In the chaos load test one was deleted 26 ms
// after the new session's READY, and the backfill, which read each channel
// from the margin before the gap forward (and one channel after another),
// reached it only after that: it was lost. The backfill reads the gap, the
// newest part of history, first: a message deleted as soon as its channel's
// first page has been read is kept.
func TestBackfillReadsTheGapBeforeTheMargin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newOneGuild(t)
	db, sim := g.db, g.sim
	var gap *discordsim.Message
	hook := &afterFirstRead{Rest: rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...)), channel: snowflake.ID(g.channel)}
	hook.then = func() { require.NoError(t, sim.DeleteMessage(ctx, g.channel, gap.ID)) } // someone deletes it
	w, _ := gatewaytest.Capture(t, db, sim, gateway.Config{REST: hook})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	const margin = 150 // more than one page, all inside the 30 s margin
	g.post(t, margin)
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == margin }, 20*time.Second, 20*time.Millisecond)

	require.Equal(t, 1, sim.Faults().InvalidSession(0, false))
	gap = g.post(t, 1)
	require.Empty(t, createdRecord(t, sim, gap.ID).Deliveries, "written while no session exists")
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == margin+1 }, 20*time.Second, 20*time.Millisecond,
		"the gap's message is backfilled, though deleted once its channel's first page was read")
	var flags int16
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT flags FROM event_lake WHERE source_id = $1", int64(gap.ID)).Scan(&flags))
	require.NotZero(t, flags&int16(lake.FlagBackfilled))
}

// servedMessage signals once a channel-history page holding one message
// has been answered.
type servedMessage struct {
	rest.Rest
	mu      sync.Mutex
	message snowflake.ID
	served  chan struct{}
}

func (r *servedMessage) GetMessages(channelID, around, before, after snowflake.ID, limit int, opts ...rest.RequestOpt) ([]discord.Message, error) {
	msgs, err := r.Rest.GetMessages(channelID, around, before, after, limit, opts...)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		if r.message != 0 && m.ID == r.message {
			close(r.served)
			r.message = 0
		}
	}
	return msgs, err
}

func (r *servedMessage) watch(id discordsim.ID) {
	r.mu.Lock()
	r.message = snowflake.ID(id)
	r.mu.Unlock()
}

// The backfill of a gap starts without waiting for the database. It used
// to start after GUILD_CREATE had registered the guild (four round trips,
// one guild after another on the read loop); in the chaos load test a
// message written 24 ms before the new IDENTIFY and deleted 25-30 ms
// after READY was gone by then. Here the guild's row is locked, so that
// registering it waits, until the gap's message has been read from
// history: in the same process (READY: the channels it saw before) and on
// a worker taking the shard over after its resume was refused (the
// channels from Discord's REST, or GUILD_CREATE before registering).
func TestBackfillStartsBeforeTheGuildIsRegistered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		takeover bool
	}{
		{name: "same process, invalid session", takeover: false},
		{name: "taken over, resume refused", takeover: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			g := newOneGuild(t)
			db, sim := g.db, g.sim
			hook := &servedMessage{Rest: rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...)), served: make(chan struct{})}
			w, _ := gatewaytest.Capture(t, db, sim, gateway.Config{REST: hook})
			require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
			last := g.post(t, 1)
			require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 1 }, 20*time.Second, 20*time.Millisecond)

			// Registering the guild again waits for this transaction
			// (FOR NO KEY UPDATE leaves the lake's foreign keys free).
			tx, err := db.Pool.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			_, err = tx.Exec(ctx, "SELECT 1 FROM guilds WHERE id = $1 FOR NO KEY UPDATE", int64(g.guild.ID))
			require.NoError(t, err)

			var gap *discordsim.Message
			if tc.takeover {
				w.StopShard(ctx, 0, 1)
				gap = g.post(t, 1)
				hook.watch(gap.ID)
				w2, _ := gatewaytest.Capture(t, db, sim, gateway.Config{REST: hook})
				require.NoError(t, w2.StartShard(ctx, 0, 1, 0, &gateway.Resume{SessionID: "ended-by-discord", Seq: 3,
					LastEventAt: snowflake.ID(last.ID).Time()}))
			} else {
				require.Equal(t, 1, sim.Faults().InvalidSession(0, false))
				gap = g.post(t, 1)
				hook.watch(gap.ID)
				require.Empty(t, createdRecord(t, sim, gap.ID).Deliveries, "written while no session exists")
			}
			select {
			case <-hook.served:
			case <-time.After(20 * time.Second):
				t.Fatal("the gap's message was not read from history while the guild's registration waited on the database")
			}
			require.NoError(t, sim.DeleteMessage(ctx, g.channel, gap.ID)) // someone deletes it
			require.NoError(t, tx.Rollback(ctx))
			require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 2 }, 20*time.Second, 20*time.Millisecond,
				"the gap's message is backfilled, though deleted right after")
			var flags int16
			require.NoError(t, db.Pool.QueryRow(ctx, "SELECT flags FROM event_lake WHERE source_id = $1", int64(gap.ID)).Scan(&flags))
			require.NotZero(t, flags&int16(lake.FlagBackfilled))
		})
	}
}

// createdRecord is the ground truth of a message's MESSAGE_CREATE (the
// log also holds channel history reads, so the newest record may be one).
func createdRecord(t *testing.T, sim *discordsim.Server, id discordsim.ID) discordsim.Record {
	t.Helper()
	for _, r := range slices.Backward(sim.GroundTruth()) {
		if r.Type == "MESSAGE_CREATE" && r.Key == id.String() {
			return r
		}
	}
	t.Fatalf("no MESSAGE_CREATE recorded for message %d", id)
	return discordsim.Record{}
}
