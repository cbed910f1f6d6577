package cli

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/disgoorg/disgo/rest"
	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/synapsehq/synapse/workers/jobs"
)

// runWorker serves asynq tasks, runs the periodic schedule and relays the
// lake outbox until ctx ends.
func runWorker(ctx context.Context, d *deps, dc discordConfig) error {
	log := d.log.With(slog.String("role", "worker"))
	maint := jobs.NewMaintenance(d.pg.Pool, log, d.reg)
	if err := maint.Partitions(ctx); err != nil {
		return fmt.Errorf("initial partitions: %w", err)
	}
	rulesPipe, err := jobs.NewRulesPipeline(d.pg, d.rdb, rest.New(rest.NewClient(dc.Token, rest.WithURL(dc.RESTURL))), log, d.reg)
	if err != nil {
		return err
	}
	mux := asynq.NewServeMux()
	maint.Register(mux)
	rulesPipe.Register(mux)

	srv := asynq.NewServerFromRedisClient(d.rdb, jobs.ServerConfig(log))
	d.reg.MustRegister(jobs.NewQueueCollector(asynq.NewInspectorFromRedisClient(d.rdb), slices.Sorted(maps.Keys(jobs.ServerConfig(log).Queues))))
	sched, err := jobs.NewPeriodic(asynq.NewClientFromRedisClient(d.rdb), log, jobs.Schedule())
	if err != nil {
		return err
	}
	relay := jobs.NewRelay(d.pg.Pool, asynq.NewClientFromRedisClient(d.rdb), log, d.reg).
		HoldWhileBacklogged(asynq.NewInspectorFromRedisClient(d.rdb), jobs.ServerConfig(log).Concurrency)

	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("asynq server: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { sched.Run(gctx); return nil })
	g.Go(func() error { return relay.Run(gctx) })
	g.Go(func() error { return rulesPipe.Listen(gctx) })
	<-gctx.Done()
	srv.Shutdown() // waits for running tasks (up to asynq's shutdown timeout)
	log.Info("worker stopped")
	return g.Wait()
}
