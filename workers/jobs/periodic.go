package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"
)

// periodicRetention is how long a periodic run's completed task is kept,
// and so how late another worker's timer for the same period may fire and
// still be refused.
const periodicRetention = time.Hour

// Periodic enqueues the schedule's tasks from every worker, each run once
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
type Periodic struct {
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

// NewPeriodic enqueues schedule (Schedule(), in a worker) through client.
// A spec that does not parse is an error.
func NewPeriodic(client *asynq.Client, log *slog.Logger, schedule []PeriodicTask) (*Periodic, error) {
	p := &Periodic{client: client, log: log}
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
func (p *Periodic) Run(ctx context.Context) {
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
func (p *Periodic) enqueue(ctx context.Context, typ string, at time.Time) (bool, error) {
	id := typ + "@" + at.UTC().Format(time.RFC3339)
	_, err := p.client.EnqueueContext(ctx, asynq.NewTask(typ, nil), asynq.Queue(QueueMaintenance),
		asynq.TaskID(id), asynq.Retention(periodicRetention))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		p.log.Debug("periodic task already enqueued by another worker", slog.String("task_id", id))
		return false, nil
	}
	return err == nil, err
}
