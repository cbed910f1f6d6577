package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"
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
	sched, err := newPeriodic(asynq.NewClientFromRedisClient(d.rdb), log, jobs.Schedule)
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

// periodicRetention is how long a periodic run's completed task is kept,
// and so how late another worker's timer for the same period may fire and
// still be refused.
const periodicRetention = time.Hour

// periodic enqueues the schedule's tasks from every worker, each run once
// fleet-wide. asynq's Scheduler cannot: every worker running one enqueues
// each run once per worker; asynq.Unique does not hold either, since its
// lock is released when the task completes, so a worker whose timer fires
// after a fast task (partitions) has finished enqueues it again; and a
// fixed asynq.TaskID would block every later run while one run is retried
// or archived. Here a run's task id names its period (type and scheduled
// UTC time: "lake:retention@2026-11-20T03:30:00Z") and the completed task
// is retained for periodicRetention, so the first worker's enqueue wins
// and the others get asynq.ErrTaskIDConflict, while a failed run never
// holds up the next period's. "@every D" runs at multiples of D (UTC), not
// D after each worker started, so that every worker names the same periods.
type periodic struct {
	client  *asynq.Client
	log     *slog.Logger
	entries []periodicEntry
}

type periodicEntry struct {
	typ   string
	sched cron.Schedule
}

// alignedEvery is "@every D" at multiples of D since the zero time (UTC).
type alignedEvery time.Duration

func (d alignedEvery) Next(t time.Time) time.Time {
	return t.Truncate(time.Duration(d)).Add(time.Duration(d))
}

func newPeriodic(client *asynq.Client, log *slog.Logger, schedule []struct{ Spec, Type string }) (*periodic, error) {
	p := &periodic{client: client, log: log}
	for _, e := range schedule {
		s, err := cron.ParseStandard(e.Spec)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %w", e.Type, err)
		}
		if every, ok := s.(cron.ConstantDelaySchedule); ok {
			s = alignedEvery(every.Delay)
		}
		p.entries = append(p.entries, periodicEntry{typ: e.Type, sched: s})
	}
	return p, nil
}

// Run enqueues each entry's runs as they fall due, until ctx ends.
func (p *periodic) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, e := range p.entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				at := e.sched.Next(time.Now().UTC())
				t := time.NewTimer(time.Until(at))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				if _, err := p.enqueue(ctx, e.typ, at); err != nil {
					p.log.Warn("periodic task not enqueued", slog.String("type", e.typ), slog.Time("period", at), slog.Any("err", err))
				}
			}
		}()
	}
	wg.Wait()
}

// enqueue enqueues the run of typ scheduled at at, unless a worker already
// did (then it returns false and no error).
func (p *periodic) enqueue(ctx context.Context, typ string, at time.Time) (bool, error) {
	id := typ + "@" + at.UTC().Format(time.RFC3339)
	_, err := p.client.EnqueueContext(ctx, asynq.NewTask(typ, nil), asynq.Queue(jobs.QueueMaintenance),
		asynq.TaskID(id), asynq.Retention(periodicRetention))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		p.log.Debug("periodic task already enqueued by another worker", slog.String("task_id", id))
		return false, nil
	}
	return err == nil, err
}
