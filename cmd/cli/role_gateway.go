package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/disgoorg/disgo/rest"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/shardmgr"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/workers/commands"
	"github.com/synapsehq/synapse/workers/gateway"
)

// runGateway captures events from the shards this worker is leased until
// ctx ends, then hands them over (committed and checkpointed) and returns.
func runGateway(ctx context.Context, d *deps, cfg gatewayConfig) error {
	restClient := rest.New(rest.NewClient(cfg.Discord.Token, rest.WithURL(cfg.Discord.RESTURL)))
	gb, err := restClient.GetGatewayBot()
	if err != nil {
		return fmt.Errorf("GET /gateway/bot: %w", err)
	}
	shards, url := cfg.Shards, cfg.Discord.GatewayURL
	if shards == 0 {
		shards = gb.Shards
	}
	if url == "" {
		url = gb.URL
	}
	if cfg.WorkerID == "" {
		host, _ := os.Hostname()
		cfg.WorkerID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	log := d.log.With(slog.String("role", "gateway"), slog.String("worker_id", cfg.WorkerID))
	log.Info("gateway starting", slog.Int("shards", shards), slog.Int("max_concurrency", gb.SessionStartLimit.MaxConcurrency),
		slog.Int("identifies_remaining", gb.SessionStartLimit.Remaining))

	limiter := shardmgr.NewIdentifyLimiter(d.rdb, cfg.IdentifyNamespace, gb.SessionStartLimit.MaxConcurrency, 5*time.Second, gb.SessionStartLimit.Total)
	if err := limiter.Seed(ctx, gb.SessionStartLimit.Remaining, time.Duration(gb.SessionStartLimit.ResetAfter)*time.Millisecond); err != nil {
		return err
	}
	pcfg := gateway.DefaultPipelineConfig()
	if cfg.ParkAfter > 0 {
		pcfg.MaxBlock = cfg.ParkAfter
	}
	if cfg.LakeLanes > 0 {
		pcfg.Lanes = cfg.LakeLanes
	}
	pipe := gateway.NewPipeline(pcfg, lake.NewWriter(d.pg.Pool), log, d.reg)
	if dir := os.Getenv("SYNAPSE_CAPTURE_TRACE_DIR"); dir != "" {
		// Load-test diagnostics only: every received and committed dispatch.
		f, err := os.Create(filepath.Join(dir, cfg.WorkerID+".trace"))
		if err != nil {
			return err
		}
		defer f.Close()
		var mu sync.Mutex
		pipe.Trace = func(stage string, shard int, session string, seq int64, events int) {
			mu.Lock()
			fmt.Fprintf(f, "%s %d %s %d %d\n", stage, shard, session, seq, events)
			mu.Unlock()
		}
	}
	dir := gateway.NewDirectory(d.pg)
	led := ledger.New(d.pg, log)
	cmds := commands.New(led, milestones.New(d.pg, led, log), tenants.NewStore(d.pg.Bun), restClient, log, d.reg)
	if app, err := restClient.GetCurrentApplication(); err != nil {
		log.Warn("cannot read the application; slash commands not registered", slog.Any("err", err))
	} else if err := cmds.Register(int64(app.ID)); err != nil {
		log.Warn("registering slash commands failed", slog.Any("err", err))
	}
	worker := gateway.NewWorker(gateway.Config{Token: cfg.Discord.Token, GatewayURL: url, IdentifyLimiter: limiter, REST: restClient, Commands: cmds}, dir, pipe, log, d.reg)
	mgr := shardmgr.New(shardmgr.Config{WorkerID: cfg.WorkerID, ShardCount: shards, TTL: cfg.LeaseTTL}, d.pg.Pool, worker, log)
	d.reg.MustRegister(shardmgr.NewStatusCollector(d.pg.Pool))

	// The pipeline outlives ctx: it drains what the shards hand over while
	// they stop, bounded by the hard deadline.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	stopPipe := make(chan struct{})
	pipeDone := make(chan struct{})
	go func() { defer close(pipeDone); pipe.Run(hard, stopPipe) }()
	go refreshSettings(ctx, dir, log)

	err = mgr.Run(ctx) // returns after handing every shard over
	close(stopPipe)
	select {
	case <-pipeDone:
	case <-time.After(30 * time.Second):
		cancelHard()
		<-pipeDone
	}
	log.Info("gateway stopped")
	return err
}

// refreshSettings applies Data Sources changes (capture toggles, AFK
// channels) to running shards within two seconds.
func refreshSettings(ctx context.Context, dir *gateway.Directory, log *slog.Logger) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := dir.Refresh(ctx); err != nil && ctx.Err() == nil {
				log.Warn("refresh capture settings", slog.Any("err", err))
			}
		}
	}
}
