package jobs

import (
	"context"
	"encoding/binary"
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
	// queue and holdAt: while the rules queue holds holdAt pending tasks or
	// more, the relay waits and lets the outbox fill, so what it relays
	// next merges into larger tasks (see HoldWhileBacklogged).
	queue    *asynq.Inspector
	holdAt   int
	held     bool      // the last answer of holding
	heldSeen time.Time // when it was asked (at most every holdPoll)
}

// holdPoll is how often a holding relay looks at the rules queue again.
const holdPoll = 50 * time.Millisecond

// HoldWhileBacklogged makes the relay wait while the rules queue holds n
// pending tasks or more: the events then wait in the outbox instead of in
// many small tasks, and go out merged per guild once the workers catch up.
// Under light load the queue is empty and rows are relayed as they commit.
func (r *Relay) HoldWhileBacklogged(queue *asynq.Inspector, n int) *Relay {
	r.queue, r.holdAt = queue, n
	return r
}

// holding reports whether the rules queue is backlogged; errors read as
// not (relaying is never blocked by an inspection failure).
func (r *Relay) holding() bool {
	if r.queue == nil {
		return false
	}
	if time.Since(r.heldSeen) < holdPoll {
		return r.held
	}
	info, err := r.queue.GetQueueInfo(QueueRules)
	r.held, r.heldSeen = err == nil && info.Pending >= r.holdAt, time.Now()
	return r.held
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
		wait := time.Second
		for {
			if r.holding() {
				wait = holdPoll
				break
			}
			n, err := r.DrainOnce(ctx)
			if err != nil {
				return err
			}
			if n < r.batch {
				break
			}
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		_, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
}

// maxTaskEvents bounds the events one rules:evaluate task carries when
// the relay merges a guild's outbox rows.
const maxTaskEvents = 2000

// DrainOnce relays up to one batch of outbox rows and returns how many.
// Rows of the same guild are merged into one task (up to maxTaskEvents
// events): a backlog then drains in fewer, larger tasks, and a task's
// fixed costs (rule set, ledger transaction, milestone checks) are paid
// once for many events. A merged task's id names its rows; should the
// relay stop between enqueueing and deleting, the rows are relayed again
// and, merged differently, may be evaluated twice, which every effect's
// idempotency key makes harmless.
func (r *Relay) DrainOnce(ctx context.Context) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	rows, err := tx.Query(ctx, `SELECT id, guild_id, events FROM lake_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.batch)
	if err != nil {
		return 0, err
	}
	batch, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (outboxRow, error) {
		var x outboxRow
		err := cr.Scan(&x.id, &x.guild, &x.events)
		return x, err
	})
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	ids := make([]int64, 0, len(batch))
	for _, t := range mergeRows(batch) {
		payload, id := t[0].events, fmt.Sprintf("outbox:%d", t[0].id)
		if len(t) > 1 {
			if payload, err = mergePayloads(t); err != nil {
				return 0, err
			}
			id = fmt.Sprintf("outbox:%d+%d", t[0].id, t[len(t)-1].id)
		}
		_, err := r.client.EnqueueContext(ctx, asynq.NewTask(TypeEvaluate, payload),
			asynq.Queue(QueueRules), asynq.TaskID(id), asynq.MaxRetry(25))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return 0, fmt.Errorf("enqueue outbox rows %s: %w", id, err)
		}
		for _, x := range t {
			ids = append(ids, x.id)
		}
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

type outboxRow struct {
	id, guild int64
	events    []byte
}

// mergeRows groups rows into tasks: a guild's rows in id order, up to
// maxTaskEvents events a task (a single bigger row is a task of its own).
func mergeRows(rows []outboxRow) [][]outboxRow {
	var tasks [][]outboxRow
	open := map[int64]int{} // guild → index of its task being filled
	counts := map[int]int{}
	for _, x := range rows {
		n := eventCount(x.events)
		i, ok := open[x.guild]
		if !ok || counts[i]+n > maxTaskEvents {
			tasks = append(tasks, nil)
			i = len(tasks) - 1
			open[x.guild] = i
		}
		tasks[i] = append(tasks[i], x)
		counts[i] += n
	}
	return tasks
}

// eventCount reads the event count heading an encoded payload.
func eventCount(payload []byte) int {
	n, k := binary.Uvarint(payload)
	if k <= 0 {
		return maxTaskEvents // unreadable: a task of its own, where decoding reports it
	}
	return int(min(n, maxTaskEvents))
}

func mergePayloads(rows []outboxRow) ([]byte, error) {
	var all []lake.Event
	for _, x := range rows {
		evs, err := lake.DecodeEvents(x.events)
		if err != nil {
			return nil, fmt.Errorf("outbox row %d: %w", x.id, err)
		}
		all = append(all, evs...)
	}
	return lake.EncodeEvents(all), nil
}
