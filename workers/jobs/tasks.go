package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/synapsehq/synapse/engine/lake"
)

// Task types.
const (
	TypePartitions = "lake:partitions"
	TypeRetention  = "lake:retention"
	TypeReconcile  = "lake:reconcile"
	TypeEvaluate   = "rules:evaluate"
)

// Queues, by urgency: rules evaluation must not wait behind maintenance.
const (
	QueueRules       = "rules"
	QueueMaintenance = "maintenance"
)

// ServerConfig is the worker role's asynq server: rules first, then
// Discord actions, then maintenance. A rules task mostly waits on Postgres
// and Redis, so 16 run side by side: with 8, a burst of small tasks (each
// shard's commit splits into a task per guild) queued behind the slower
// feedback rounds, and the p99 of dispatch→credited at 1,000 events/s was
// 316 ms against 222 ms. When every queue is empty asynq
// sleeps TaskCheckInterval before looking again (1 s by default): that
// sleep would be most of an event's dispatch→credited time at low traffic,
// so it is short (an idle worker polls Redis 50 times a second).
func ServerConfig(log *slog.Logger) asynq.Config {
	return asynq.Config{
		Concurrency:       16,
		Queues:            map[string]int{QueueRules: 6, QueueDiscord: 3, QueueMaintenance: 1},
		Logger:            AsynqLogger{L: log},
		TaskCheckInterval: 20 * time.Millisecond,
	}
}

// PeriodicTask is a task type enqueued on a schedule, in cron syntax (UTC).
type PeriodicTask struct{ Spec, Type string }

// Schedule is the periodic work a worker enqueues.
func Schedule() []PeriodicTask {
	return []PeriodicTask{
		{"@every 1h", TypePartitions}, // cheap and idempotent: a missed run never leaves a day without a partition
		{"30 3 * * *", TypeRetention},
		{"0 4 * * 0", TypeReconcile},
		{"@every 1h", TypeMilestoneSweep},
		{"0 0 * * *", TypeScheduleDaily},  // the rules' schedule.daily: 00:00 UTC
		{"0 0 * * 1", TypeScheduleWeekly}, // schedule.weekly: Monday 00:00 UTC
	}
}

// Maintenance runs the lake's periodic jobs.
type Maintenance struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	now     func() time.Time
	drift   prometheus.Counter
	dropped prometheus.Counter
	saved   prometheus.Counter
	// succeeded is when each job last finished without error: a job that
	// keeps failing (or is not scheduled at all) shows as a stale time.
	succeeded *prometheus.GaugeVec
}

// NewMaintenance registers its metrics on reg.
func NewMaintenance(pool *pgxpool.Pool, log *slog.Logger, reg prometheus.Registerer) *Maintenance {
	m := &Maintenance{pool: pool, log: log, now: time.Now,
		drift:   prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_lake_counter_drift_total", Help: "Counter rows found out of step with the lake and repaired."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_lake_partitions_dropped_total", Help: "Daily partitions dropped by retention."}),
		saved:   prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_lake_compaction_saved_bytes_total", Help: "Disk space freed by compacting closed days' indexes."}),
		succeeded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "synapse_job_last_success_timestamp_seconds",
			Help: "When each maintenance job (lake:partitions, lake:retention, lake:reconcile) last finished without error, Unix seconds."}, []string{"job"}),
	}
	reg.MustRegister(m.drift, m.dropped, m.saved, m.succeeded)
	return m
}

// timed records a job's success time.
func (m *Maintenance) timed(job string, run func(context.Context, *asynq.Task) error) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		err := run(ctx, t)
		if err == nil {
			m.succeeded.WithLabelValues(job).Set(float64(m.now().Unix()))
		}
		return err
	}
}

// Register mounts the handlers on mux.
func (m *Maintenance) Register(mux *asynq.ServeMux) {
	mux.Handle(TypePartitions, m.timed(TypePartitions, func(ctx context.Context, _ *asynq.Task) error { return m.Partitions(ctx) }))
	mux.Handle(TypeRetention, m.timed(TypeRetention, func(ctx context.Context, _ *asynq.Task) error { _, err := m.Retention(ctx); return err }))
	mux.Handle(TypeReconcile, m.timed(TypeReconcile, func(ctx context.Context, t *asynq.Task) error {
		var p ReconcilePayload
		if len(t.Payload()) > 0 {
			if err := json.Unmarshal(t.Payload(), &p); err != nil {
				return fmt.Errorf("reconcile payload: %w: %w", err, asynq.SkipRetry)
			}
		}
		_, err := m.Reconcile(ctx, p.Days)
		return err
	}))
}

// Partitions creates yesterday's through next week's daily partitions, and
// compacts the days closed since the last run (see lake.CompactPartition).
func (m *Maintenance) Partitions(ctx context.Context) error {
	now := m.now().UTC()
	created, err := lake.EnsurePartitions(ctx, m.pool, now.Add(-24*time.Hour), now.Add(7*24*time.Hour))
	if len(created) > 0 {
		m.log.Info("lake partitions created", slog.Any("partitions", created))
	}
	if err != nil {
		return err
	}
	compacted, err := lake.CompactClosed(ctx, m.pool, now)
	for _, c := range compacted {
		m.log.Info("lake partition compacted", slog.String("partition", c.Partition),
			slog.Int64("bytes_before", c.BytesBefore), slog.Int64("bytes_after", c.BytesAfter))
		m.saved.Add(float64(max(c.BytesBefore-c.BytesAfter, 0)))
	}
	return err
}
