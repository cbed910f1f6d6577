package shardmgr

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
)

// proc is one gateway worker process: its own pipeline, worker and manager.
type proc struct {
	mgr        *Manager
	worker     *gateway.Worker
	cancel     context.CancelFunc
	hardCancel context.CancelFunc
	stopPipe   chan struct{}
	done       chan struct{}
}

func startProc(t *testing.T, name string, db *postgres.DB, sim *discordsim.Server, shards int, limiter *IdentifyLimiter) *proc {
	t.Helper()
	log := testenv.Logger(t).With("proc", name)
	reg := ops.NewRegistry()
	hard, hardCancel := context.WithCancel(context.Background())
	pipe := gateway.NewPipeline(gateway.DefaultPipelineConfig(), lake.NewWriter(db.Pool), log, reg)
	p := &proc{stopPipe: make(chan struct{}), done: make(chan struct{}), hardCancel: hardCancel}
	pipeDone := make(chan struct{})
	go func() { defer close(pipeDone); pipe.Run(hard, p.stopPipe) }()
	p.worker = gateway.NewWorker(gateway.Config{Token: sim.Token(), GatewayURL: sim.GatewayURL(), IdentifyLimiter: limiter}, gateway.NewDirectory(db), pipe, log, reg)
	p.mgr = New(Config{WorkerID: name, ShardCount: shards, TTL: 1500 * time.Millisecond, Tick: 200 * time.Millisecond}, db.Pool, p.worker, log)
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		defer close(p.done)
		_ = p.mgr.Run(ctx)
		close(p.stopPipe)
		<-pipeDone
	}()
	t.Cleanup(p.stop)
	return p
}

// stop is a SIGTERM: shards handed over, pipeline drained.
func (p *proc) stop() {
	p.cancel()
	<-p.done
	p.hardCancel()
}

// kill is a SIGKILL: connections dropped, nothing flushed or released.
func (p *proc) kill() {
	p.mgr.crashed.Store(true)
	for _, id := range p.mgr.Owned() {
		p.worker.DropShard(context.Background(), id, p.mgr.cfg.ShardCount)
	}
	p.hardCancel()
	p.cancel()
	<-p.done
}

// waitOwned waits until the procs together own every shard, each once,
// with the given split.
func waitOwned(t *testing.T, want map[*proc]int, total int) {
	t.Helper()
	require.Eventually(t, func() bool {
		seen := map[int]bool{}
		for p, n := range want {
			owned := p.mgr.Ready()
			if len(owned) != n {
				return false
			}
			for _, id := range owned {
				if seen[id] {
					return false
				}
				seen[id] = true
			}
		}
		return len(seen) == total
	}, 20*time.Second, 20*time.Millisecond)
}

// lakeTotal counts the lake's rows from Discord events: the voice leaves
// synthesised at a handover are extra rows, and counted they let the wait
// below end before the last dispatches were committed.
func lakeTotal(t *testing.T, db *postgres.DB) int {
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM event_lake WHERE flags & $1 = 0", int16(lake.FlagSynthetic)).Scan(&n))
	return n
}

func requireExact(t *testing.T, db *postgres.DB, sim *discordsim.Server) {
	t.Helper()
	exp := gateway.ExpectFromGroundTruth(sim.GroundTruth())
	assert.Eventually(t, func() bool { return lakeTotal(t, db) >= exp.Total() }, 20*time.Second, 20*time.Millisecond,
		"lake never caught up with %d dispatched events", exp.Total())
	rows, err := db.Pool.Query(context.Background(), "SELECT event_type, count(*) FROM event_lake GROUP BY 1")
	require.NoError(t, err)
	got := map[lake.Type]int{}
	for rows.Next() {
		var typ int16
		var n int
		require.NoError(t, rows.Scan(&typ, &n))
		got[lake.Type(typ)] = n
	}
	require.NoError(t, rows.Err())
	// Voice events synthesised at a handover (a stretch closed when a shard
	// stops) are extra rows by design, marked as such.
	rows, err = db.Pool.Query(context.Background(), "SELECT event_type, count(*) FROM event_lake WHERE flags & $1 <> 0 GROUP BY 1", int16(lake.FlagSynthetic))
	require.NoError(t, err)
	for rows.Next() {
		var typ int16
		var n int
		require.NoError(t, rows.Scan(&typ, &n))
		got[lake.Type(typ)] -= n
	}
	require.NoError(t, rows.Err())
	if exp.ByType[lake.MessageCreate] != got[lake.MessageCreate] {
		stored := map[int64]bool{}
		rows, err := db.Pool.Query(context.Background(), "SELECT source_id FROM event_lake WHERE event_type = 1")
		require.NoError(t, err)
		for rows.Next() {
			var id int64
			require.NoError(t, rows.Scan(&id))
			stored[id] = true
		}
		for _, r := range sim.GroundTruth() {
			if r.Type == "MESSAGE_CREATE" {
				var id int64
				fmt.Sscan(r.Key, &id)
				if !stored[id] {
					t.Logf("missing message %d: shard %d deliveries %+v", id, r.Shard, r.Deliveries)
				}
			}
		}
	}
	for typ, n := range exp.ByType {
		require.Equal(t, n, got[typ], "events of type %s: no loss, no duplicates", typ)
	}
}

func TestShardsRebalanceAndSurviveAKilledWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 8, 20, 4
	cfg.IdentifyInterval = 50 * time.Millisecond
	cfg.MaxConcurrency = 2
	cfg.SimStart = time.Now().UTC().Add(-time.Hour)
	sim, err := discordsim.New(cfg, testenv.Logger(t).With("component", "sim"))
	require.NoError(t, err)
	require.NoError(t, sim.Start(ctx))
	t.Cleanup(func() { _ = sim.Close() })
	limiter := NewIdentifyLimiter(testenv.Redis(t), "test", cfg.MaxConcurrency, cfg.IdentifyInterval, 1000)
	generate := func(n int) {
		_, err := sim.Generate(ctx, discordsim.GenerateOptions{Profile: discordsim.ProfileServerDay, MaxEvents: n})
		require.NoError(t, err)
	}

	a := startProc(t, "worker-a", db, sim, 4, limiter)
	waitOwned(t, map[*proc]int{a: 4}, 4)
	generate(300)
	identified := func() int { st := sim.Stats().Identifies; return st.Total - st.Remaining }
	identifiesAlone := identified()
	require.Equal(t, 4, identifiesAlone)

	// A second worker joins: two shards move, by resuming, not identifying.
	b := startProc(t, "worker-b", db, sim, 4, limiter)
	waitOwned(t, map[*proc]int{a: 2, b: 2}, 4)
	generate(300)
	require.Equal(t, identifiesAlone, identified(), "handover resumes sessions")
	require.GreaterOrEqual(t, sim.Stats().Resumes, uint64(2))
	requireExact(t, db, sim)

	// Worker A dies without a word: B owns everything within the lease TTL.
	killedAt := time.Now()
	a.kill()
	generate(300) // some of this lands while A's shards have no owner
	waitOwned(t, map[*proc]int{b: 4}, 4)
	t.Logf("shards of the killed worker owned again after %s", time.Since(killedAt))
	generate(300)
	requireExact(t, db, sim)

	st, err := Status(ctx, db.Pool)
	require.NoError(t, err)
	require.Len(t, st, 4)
	for _, s := range st {
		require.Equal(t, "worker-b", s.Owner, fmt.Sprint(s))
		require.True(t, s.LeaseValid)
	}
	left, err := limiter.Remaining(ctx)
	require.NoError(t, err)
	require.EqualValues(t, identified(), 1000-left, "every identify went through the fleet limiter")
	for bucket, n := range sim.Stats().Identifies.RejectedPerBkt {
		require.Zero(t, n, "bucket %d: the fleet limiter kept identifies apart", bucket)
	}
}
