package gateway_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// stallingWriter is the lake writer behind a gate: while stalled, a database
// that does not answer.
type stallingWriter struct {
	w    *lake.Writer
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (g *stallingWriter) Write(ctx context.Context, b lake.Batch) (lake.Result, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return lake.Result{}, ctx.Err()
		}
	}
	return g.w.Write(ctx, b)
}

func (g *stallingWriter) stall() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate == nil {
		g.gate = make(chan struct{})
	}
}

func (g *stallingWriter) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
}

// A database stalled for several heartbeat intervals fills the buffer and
// blocks the shard's read loop, which then reads no heartbeat ACKs. The
// shard parks (closes its connection, keeping the session) instead of
// letting disgo take it for a zombie and reconnect under a blocked loop;
// once the buffer drains it resumes the same session, and every event is
// stored once.
func TestShardParksWhileTheDatabaseStallsAndResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards = 1, 1
	cfg.HeartbeatInterval = 300 * time.Millisecond
	sim := gatewaytest.Sim(t, cfg)
	db := testenv.DB(t)
	reg := ops.NewRegistry()
	gw := &stallingWriter{w: lake.NewWriter(db.Pool)}
	t.Cleanup(gw.release)
	pcfg := gateway.DefaultPipelineConfig()
	pcfg.Buffer, pcfg.MaxBatch, pcfg.MaxBlock = 4, 10, 100*time.Millisecond
	w, _ := gatewaytest.CaptureWith(t, db, sim, gateway.Config{}, gatewaytest.Options{Pipeline: pcfg, Writer: gw, Registry: reg})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))
	gw.stall() // from now on the database does not answer

	g := sim.Guilds()[0]
	for i := 0; i < 60; i++ {
		_, err := sim.SendMessage(ctx, discordsim.MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1+i%5], Content: "while the database is away"})
		require.NoError(t, err)
	}
	parks := func() float64 { return counterValue(t, reg, "synapse_gateway_shard_parks_total", "") }
	require.Eventually(t, func() bool { return parks() == 1 }, 10*time.Second, 10*time.Millisecond, "the shard parked")
	// Stay stalled across several heartbeat intervals: nothing may reconnect.
	time.Sleep(5 * cfg.HeartbeatInterval)
	connects := sim.Stats().Connects
	gw.release()

	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 60 }, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return sim.Stats().Resumes == 1 }, 10*time.Second, 10*time.Millisecond, "the session was resumed")
	st := sim.Stats()
	require.Equal(t, 1, st.Identifies.Total-st.Identifies.Remaining, "one session: never identified again")
	require.Equal(t, connects+1, st.Connects, "one reconnection, after the stall")
	require.EqualValues(t, 1, parks())
	exp := gateway.ExpectFromGroundTruth(sim.GroundTruth())
	require.Equal(t, exp.ByType, lakeCounts(t, db), "every event stored once")
}
