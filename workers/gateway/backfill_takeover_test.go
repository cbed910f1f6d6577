package gateway_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// heldHistory answers no channel-history read until released.
type heldHistory struct {
	rest.Rest
	reading chan struct{} // closed at the first read
	release chan struct{}
}

func (h *heldHistory) GetMessages(snowflake.ID, snowflake.ID, snowflake.ID, snowflake.ID, int, ...rest.RequestOpt) ([]discord.Message, error) {
	select {
	case <-h.reading:
	default:
		close(h.reading)
	}
	<-h.release
	return nil, errors.New("held")
}

// A worker is lost while it backfills a gap (the session after it could
// not be resumed): its checkpoints of the new session say the gap is not
// read yet, so the worker that takes the shard over and resumes that
// session reads the gap again. The successor used to resume, see no gap,
// and leave the gap's messages behind for good.
func TestGapNotBackfilledIsReadByTheNextOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newOneGuild(t)
	db, sim := g.db, g.sim
	_, err := db.Pool.Exec(ctx, `INSERT INTO shard_sessions (shard_id, shard_count, fence, owner, state) VALUES (0, 1, 1, 'first', 'running')`)
	require.NoError(t, err)
	hold := &heldHistory{Rest: rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...)), reading: make(chan struct{}), release: make(chan struct{})}
	first, _ := gatewaytest.Capture(t, db, sim, gateway.Config{REST: hold})
	require.NoError(t, first.StartShard(ctx, 0, 1, 1, nil))
	g.post(t, 3)
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 3 }, 20*time.Second, 20*time.Millisecond)
	var before string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT session_id FROM shard_sessions WHERE shard_id = 0`).Scan(&before))

	require.Equal(t, 1, sim.Faults().InvalidSession(0, false))
	gap := g.post(t, 1)
	require.Empty(t, createdRecord(t, sim, gap.ID).Deliveries, "written while no session exists")
	<-hold.reading // the new session began and its backfill is under way
	g.post(t, 2)   // delivered on the new session
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 5 }, 20*time.Second, 20*time.Millisecond)
	var session string
	var gapSince *time.Time
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT session_id, gap_since FROM shard_sessions WHERE shard_id = 0`).Scan(&session, &gapSince))
	require.NotEqual(t, before, session, "the new session is checkpointed")
	require.NotNil(t, gapSince, "with its gap still to read")

	// The history reads fail: the gap is not done, and stays in the
	// checkpoints that follow.
	close(hold.release)
	g.post(t, 1)
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 6 }, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT gap_since FROM shard_sessions WHERE shard_id = 0`).Scan(&gapSince))
	require.NotNil(t, gapSince, "a gap whose reads failed is still pending")

	first.DropShard(ctx, 0, 1) // lost: the session stays resumable
	var resume gateway.Resume
	require.NoError(t, db.Pool.QueryRow(ctx, `UPDATE shard_sessions SET fence = 2, owner = 'second' WHERE shard_id = 0 AND shard_count = 1
		RETURNING session_id, resume_url, seq, gap_since`).Scan(&resume.SessionID, &resume.ResumeURL, &resume.Seq, &gapSince))
	require.NotNil(t, gapSince)
	resume.GapSince = *gapSince
	second, _ := gatewaytest.Capture(t, db, sim, gateway.Config{REST: rest.New(rest.NewClient(sim.Token(), sim.RESTClientOptions()...))})
	require.NoError(t, second.StartShard(ctx, 0, 1, 2, &resume))
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 7 }, 20*time.Second, 20*time.Millisecond,
		"the gap's message is read by the next owner")

	// Once read, the next checkpoint clears it.
	g.post(t, 1)
	require.Eventually(t, func() bool {
		var pending bool
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT gap_since IS NOT NULL FROM shard_sessions WHERE shard_id = 0`).Scan(&pending))
		return lakeCounts(t, db)[lake.MessageCreate] == 8 && !pending
	}, 20*time.Second, 20*time.Millisecond)
}
