package shardmgr

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/testenv"
)

// A running shard's heartbeat latency reaches the shard table with its
// lease renewals, and the fleet's shard table is exported as metrics:
// owner and state per shard, lease, latency.
func TestShardStatusRecordsLatencyAndIsExported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 2, 10, 2
	cfg.IdentifyInterval = 50 * time.Millisecond
	cfg.HeartbeatInterval = 200 * time.Millisecond // ACKs come back after 20 ms (HeartbeatACKDelay)
	sim, err := discordsim.New(cfg, testenv.Logger(t).With("component", "sim"))
	require.NoError(t, err)
	require.NoError(t, sim.Start(ctx))
	t.Cleanup(func() { _ = sim.Close() })
	limiter := NewIdentifyLimiter(testenv.Redis(t), "test", cfg.MaxConcurrency, cfg.IdentifyInterval, 1000)
	a := startProc(t, "worker-a", db, sim, 2, limiter)
	waitOwned(t, map[*proc]int{a: 2}, 2)

	require.Eventually(t, func() bool {
		shards, err := Status(ctx, db.Pool)
		require.NoError(t, err)
		for _, s := range shards {
			if s.LatencyMS <= 0 {
				return false
			}
		}
		return len(shards) == 2
	}, 10*time.Second, 20*time.Millisecond, "latency recorded for every shard")

	reg := prometheus.NewRegistry()
	reg.MustRegister(NewStatusCollector(db.Pool))
	families, err := reg.Gather()
	require.NoError(t, err)
	type sample struct {
		labels map[string]string
		value  float64
	}
	got := map[string][]sample{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[f.GetName()] = append(got[f.GetName()], sample{labels, m.GetGauge().GetValue()})
		}
	}
	require.Len(t, got["synapse_shard_info"], 2)
	for _, s := range got["synapse_shard_info"] {
		require.Equal(t, "worker-a", s.labels["owner"])
		require.Equal(t, "running", s.labels["state"])
		require.Equal(t, "2", s.labels["shard_count"])
	}
	for _, name := range []string{"synapse_shard_lease_valid", "synapse_shard_latency_seconds"} {
		require.Len(t, got[name], 2, name)
		for _, s := range got[name] {
			require.Positive(t, s.value, name)
		}
	}
}
