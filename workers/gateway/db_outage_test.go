package gateway_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// The database goes away in the middle of ingest, as in a restart: every
// connection is reset (transactions cut mid-statement or mid-commit) and
// new ones are refused for a while. Nothing may be lost or counted twice:
// batches are retried, shards park instead of dropping their sessions, and
// once the database is back they resume and Discord replays the rest.
func TestCaptureSurvivesADatabaseRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.HeartbeatInterval = 500 * time.Millisecond
	sim := gatewaytest.Sim(t, cfg)

	_, schema := testenv.DBWithSchema(t)
	u, err := url.Parse(testenv.URLWithSchema(schema))
	require.NoError(t, err)
	proxy := testenv.Proxy(t, u.Host)
	u.Host = proxy.Addr()
	db, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 8, SearchPath: schema})
	require.NoError(t, err)
	t.Cleanup(db.Close)

	reg := ops.NewRegistry()
	pcfg := gateway.DefaultPipelineConfig()
	pcfg.Buffer, pcfg.MaxBatch, pcfg.MaxBlock = 64, 50, 200*time.Millisecond
	w, _ := gatewaytest.CaptureWith(t, db, sim, gateway.Config{}, gatewaytest.Options{Pipeline: pcfg, Registry: reg})
	for id := 0; id < cfg.Shards; id++ {
		require.NoError(t, w.StartShard(ctx, id, cfg.Shards, 0, nil))
	}

	// Traffic in every guild, before, during and after the outage.
	var sent atomic.Int64
	const total = 600
	traffic := make(chan error, 1)
	go func() {
		guilds := sim.Guilds()
		for i := 0; i < total; i++ {
			g := guilds[i%len(guilds)]
			_, err := sim.SendMessage(ctx, discordsim.MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1+i%7], Content: "through a database restart"})
			if err != nil {
				traffic <- err
				return
			}
			sent.Add(1)
			time.Sleep(2 * time.Millisecond) // pacing, so the outage falls in the middle of the traffic
		}
		traffic <- nil
	}()
	stored := func() int { return lakeCountsVia(t, testenv.URLWithSchema(schema))[lake.MessageCreate] }
	require.Eventually(t, func() bool { return stored() >= 50 }, 20*time.Second, 5*time.Millisecond, "capture running")

	proxy.Cut()
	require.Eventually(t, func() bool {
		return counterValue(t, reg, "synapse_lake_write_failures_total", "transient") >= 1 &&
			counterValue(t, reg, "synapse_gateway_shard_parks_total", "") >= 1
	}, 20*time.Second, 5*time.Millisecond, "writes fail and shards park while the database is away")
	during := sent.Load()
	proxy.Restore()
	require.NoError(t, <-traffic)
	require.Less(t, during, int64(total), "the outage ended before the traffic did")

	exp := gateway.ExpectFromGroundTruth(sim.GroundTruth())
	require.Eventually(t, func() bool { return stored() == exp.ByType[lake.MessageCreate] }, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, exp.ByType, lakeCountsVia(t, testenv.URLWithSchema(schema)), "every event stored once")
	require.Zero(t, counterValue(t, reg, "synapse_lake_events_dropped_total", ""), "nothing given up on")

	// The counters were written in the same transactions as the rows: a
	// batch whose commit was cut and then retried counts its events once.
	var counted int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT COALESCE(sum(events), 0) FROM event_counters WHERE event_type = $1`,
		int16(lake.MessageCreate)).Scan(&counted))
	require.Equal(t, exp.ByType[lake.MessageCreate], counted)

	st := sim.Stats()
	require.Equal(t, cfg.Shards, st.Identifies.Total-st.Identifies.Remaining, "every shard kept its session: no new IDENTIFY")
	require.NotZero(t, st.Resumes, "parked shards resumed")
}

// lakeCountsVia counts lake rows by type over a connection of its own,
// not through the proxy the test cuts.
func lakeCountsVia(t *testing.T, databaseURL string) map[lake.Type]int {
	t.Helper()
	db, err := postgres.Open(context.Background(), databaseURL, postgres.Options{MaxConns: 1})
	require.NoError(t, err)
	defer db.Close()
	return lakeCounts(t, db)
}

// counterValue reads a counter (with the given first label value, or the
// unlabelled one) from reg; 0 when it was never incremented.
func counterValue(t *testing.T, reg prometheus.Gatherer, name, label string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label == "" || (len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() == label) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
