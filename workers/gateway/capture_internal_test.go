package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
)

// oneShardCapture starts a one-guild, one-shard simulator and a pipeline
// and worker capturing it into db, all stopped at cleanup (this package's
// tests cannot use gatewaytest, which imports it).
func oneShardCapture(t *testing.T, db *postgres.DB, members int) (*discordsim.Server, *Worker) {
	t.Helper()
	ctx := context.Background()
	log := testenv.Logger(t)
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 1, members, 1
	cfg.IdentifyInterval = 10 * time.Millisecond
	sim, err := discordsim.New(cfg, log.With("component", "sim"))
	require.NoError(t, err)
	require.NoError(t, sim.Start(ctx))
	t.Cleanup(func() { _ = sim.Close() })
	reg := ops.NewRegistry()
	pipe := NewPipeline(DefaultPipelineConfig(), lake.NewWriter(db.Pool), log, reg)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); pipe.Run(ctx, stop) }()
	w := NewWorker(Config{Token: sim.Token(), GatewayURL: sim.GatewayURL()}, NewDirectory(db), pipe, log, reg)
	t.Cleanup(func() {
		w.StopAll(ctx)
		close(stop)
		<-done
	})
	return sim, w
}
