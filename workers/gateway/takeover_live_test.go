package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// gatedWriter holds every batch until open is closed.
type gatedWriter struct {
	inner *lake.Writer
	open  chan struct{}
}

func (g gatedWriter) Write(ctx context.Context, b lake.Batch) (lake.Result, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return lake.Result{}, ctx.Err()
	}
	return g.inner.Write(ctx, b)
}

// A shard taken over resumes its session; Discord replays what the
// session missed and sends RESUMED only after it, so disgo's Open returns
// only then. The shard shows as running as soon as the replay starts
// coming in, while its pipeline is still busy with it.
func TestResumedShardIsRunningOnceItsReplayStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newOneGuild(t)
	db, sim := g.db, g.sim
	_, err := db.Pool.Exec(ctx, `INSERT INTO shard_sessions (shard_id, shard_count, fence, owner, state) VALUES (0, 1, 1, 'first', 'running')`)
	require.NoError(t, err)

	// The first owner captures, then loses the shard with its session
	// still resumable (close 1012), and the session misses some messages.
	first, _ := gatewaytest.Capture(t, db, sim, gateway.Config{})
	require.NoError(t, first.StartShard(ctx, 0, 1, 1, nil))
	g.post(t, 5)
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 5 }, 20*time.Second, 20*time.Millisecond)
	first.DropShard(ctx, 0, 1)
	g.post(t, 20)
	var resume gateway.Resume
	require.NoError(t, db.Pool.QueryRow(ctx, `UPDATE shard_sessions SET fence = 2, owner = 'second', state = 'starting'
		WHERE shard_id = 0 AND shard_count = 1 RETURNING session_id, resume_url, seq`).Scan(&resume.SessionID, &resume.ResumeURL, &resume.Seq))
	require.NotEmpty(t, resume.SessionID)

	// The next owner's pipeline is held: its read loop blocks inside the
	// replay, before RESUMED.
	log, reg := testenv.Logger(t), ops.NewRegistry()
	gate := make(chan struct{})
	pipe := gateway.NewPipeline(gateway.PipelineConfig{Buffer: 1, MaxBatch: 1, MaxDelay: time.Millisecond},
		gatedWriter{inner: lake.NewWriter(db.Pool), open: gate}, log, reg)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() { defer close(stopped); pipe.Run(ctx, stop) }()
	second := gateway.NewWorker(gateway.Config{Token: sim.Token(), GatewayURL: sim.GatewayURL()}, gateway.NewDirectory(db), pipe, log, reg)
	started := make(chan error, 1)
	go func() { started <- second.StartShard(ctx, 0, 1, 2, &resume) }()
	state := func() string {
		var s string
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT state FROM shard_sessions WHERE shard_id = 0 AND shard_count = 1`).Scan(&s))
		return s
	}
	require.Eventually(t, func() bool { return state() == "running" }, 20*time.Second, 10*time.Millisecond)
	select {
	case err := <-started:
		t.Fatalf("StartShard returned (%v) while its replay was held: the state proves nothing", err)
	default:
	}

	close(gate)
	require.NoError(t, <-started)
	require.Eventually(t, func() bool { return lakeCounts(t, db)[lake.MessageCreate] == 25 }, 20*time.Second, 20*time.Millisecond)
	second.StopAll(ctx)
	close(stop)
	<-stopped
}
