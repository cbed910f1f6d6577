package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/synapsehq/synapse/engine/lake"
)

// Relay moves committed lake events from the outbox to asynq, one task per
// outbox row (one guild's share of one lake batch). A row is deleted only
// after its task is enqueued, and the task id is derived from the row id,
// so a crash between the two enqueues nothing twice.
type Relay struct {
	pool    *pgxpool.Pool
	client  *asynq.Client
	log     *slog.Logger
	batch   int
	relayed prometheus.Counter
}

// NewRelay registers its metrics on reg.
func NewRelay(pool *pgxpool.Pool, client *asynq.Client, log *slog.Logger, reg prometheus.Registerer) *Relay {
	r := &Relay{pool: pool, client: client, log: log, batch: 200,
		relayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_outbox_tasks_relayed_total", Help: "Lake outbox rows handed to the rules queue."})}
	reg.MustRegister(r.relayed, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "synapse_outbox_backlog_rows", Help: "Lake outbox rows not yet relayed."}, func() float64 {
		var n int64
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = pool.QueryRow(ctx, "SELECT count(*) FROM lake_outbox").Scan(&n)
		return float64(n)
	}))
	return r
}

// Run relays until ctx ends, woken by the lake writer's NOTIFY (and every
// second regardless, in case a notification was missed).
func (r *Relay) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := r.listen(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("outbox relay: connection lost; retrying", slog.Any("err", err))
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
		}
	}
	return nil
}

func (r *Relay) listen(ctx context.Context) error {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+lake.OutboxChannel); err != nil {
		return err
	}
	for {
		for {
			n, err := r.DrainOnce(ctx)
			if err != nil {
				return err
			}
			if n < r.batch {
				break
			}
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
}

// DrainOnce relays up to one batch of outbox rows and returns how many.
func (r *Relay) DrainOnce(ctx context.Context) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	rows, err := tx.Query(ctx, `SELECT id, events FROM lake_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.batch)
	if err != nil {
		return 0, err
	}
	type row struct {
		id     int64
		events []byte
	}
	batch, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (row, error) {
		var x row
		err := cr.Scan(&x.id, &x.events)
		return x, err
	})
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	ids := make([]int64, 0, len(batch))
	for _, x := range batch {
		_, err := r.client.EnqueueContext(ctx, asynq.NewTask(TypeEvaluate, x.events),
			asynq.Queue(QueueRules), asynq.TaskID(fmt.Sprintf("outbox:%d", x.id)), asynq.MaxRetry(25))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return 0, fmt.Errorf("enqueue outbox row %d: %w", x.id, err)
		}
		ids = append(ids, x.id)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM lake_outbox WHERE id = ANY($1)`, ids); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	r.relayed.Add(float64(len(ids)))
	return len(ids), nil
}
