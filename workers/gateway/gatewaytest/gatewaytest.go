// Package gatewaytest starts the simulator and the capture path (pipeline
// and gateway worker) for tests of the packages built on top of them.
package gatewaytest

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/workers/gateway"
)

// Sim starts a simulator for the test and closes it at cleanup.
func Sim(t testing.TB, cfg discordsim.Config) *discordsim.Server {
	t.Helper()
	sim, err := discordsim.New(cfg, testenv.Logger(t).With("component", "sim"))
	if err != nil {
		t.Fatalf("discordsim: %v", err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatalf("discordsim start: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// Capture runs a capture pipeline into db and a gateway worker connected
// to sim (cfg's Token and GatewayURL are set to sim's), both stopped at
// cleanup. No shard is started: that is the test's to do.
func Capture(t testing.TB, db *postgres.DB, sim *discordsim.Server, cfg gateway.Config) (*gateway.Worker, *gateway.Pipeline) {
	t.Helper()
	return CaptureWith(t, db, sim, cfg, Options{})
}

// Options change what CaptureWith runs; the zero value is Capture's.
type Options struct {
	Pipeline gateway.PipelineConfig // zero: gateway.DefaultPipelineConfig()
	Writer   gateway.BatchWriter    // nil: a lake.Writer on db
	Registry *prometheus.Registry   // nil: a registry of its own; set it to read the metrics
}

// CaptureWith is Capture with the pipeline's configuration, writer or
// metrics registry of the test's choosing.
func CaptureWith(t testing.TB, db *postgres.DB, sim *discordsim.Server, cfg gateway.Config, opt Options) (*gateway.Worker, *gateway.Pipeline) {
	t.Helper()
	ctx := context.Background()
	log := testenv.Logger(t)
	if opt.Pipeline == (gateway.PipelineConfig{}) {
		opt.Pipeline = gateway.DefaultPipelineConfig()
	}
	if opt.Writer == nil {
		opt.Writer = lake.NewWriter(db.Pool)
	}
	if opt.Registry == nil {
		opt.Registry = ops.NewRegistry()
	}
	pipe := gateway.NewPipeline(opt.Pipeline, opt.Writer, log, opt.Registry)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); pipe.Run(ctx, stop) }()
	cfg.Token, cfg.GatewayURL = sim.Token(), sim.GatewayURL()
	w := gateway.NewWorker(cfg, gateway.NewDirectory(db), pipe, log, opt.Registry)
	t.Cleanup(func() {
		w.StopAll(ctx)
		close(stop)
		<-done
	})
	return w, pipe
}
