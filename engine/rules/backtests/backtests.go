// Package backtests runs a draft rule over a stretch of a guild's lake
// history as an asynq task, and keeps each run's progress and outcome in
// Redis for the dashboard to poll ("it would have paid 12,400 XP to 312
// members in the last 30 days").
package backtests

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

// TaskType is the asynq task that runs one backtest.
const TaskType = "rules:backtest"

// Queue is where backtests wait: the maintenance queue, so a long one
// never delays live rule evaluation.
const Queue = "maintenance"

// MaxDays bounds a backtest's period.
const MaxDays = 90

// keep is how long a run's record stays readable.
const keep = 24 * time.Hour

// States of a run.
const (
	StateQueued  = "queued"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Run is one backtest as the dashboard sees it.
type Run struct {
	ID         string         `json:"id"`
	GuildID    int64          `json:"guild_id,string"`
	State      string         `json:"state"`
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Done       int            `json:"done"`  // events evaluated so far
	Total      int            `json:"total"` // events the period holds (from the counters)
	Summary    *rules.Summary `json:"summary,omitempty"`
	Text       string         `json:"text,omitempty"` // the summary in a sentence
	Error      string         `json:"error,omitempty"`
	QueuedAt   time.Time      `json:"queued_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
}

type payload struct {
	ID       string         `json:"id"`
	TenantID int64          `json:"tenant_id"`
	GuildID  int64          `json:"guild_id"`
	Document rules.Document `json:"document"`
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
}

// Runs starts backtests and reads their records. Records are keyed by
// tenant and guild: a caller can only find runs of the guild it asks for.
type Runs struct {
	rdb      redis.UniversalClient
	client   *asynq.Client
	pool     *pgxpool.Pool
	compiler *rules.Compiler
	store    *rules.Store
	engine   *rules.Engine
	log      *slog.Logger
}

// New wires the runner. engine evaluates with no side effects (Backtest
// keeps its own in-memory state); pool reads the lake and the rules.
func New(rdb redis.UniversalClient, pool *pgxpool.Pool, compiler *rules.Compiler, store *rules.Store, engine *rules.Engine, log *slog.Logger) *Runs {
	return &Runs{rdb: rdb, client: asynq.NewClientFromRedisClient(rdb), pool: pool, compiler: compiler, store: store, engine: engine, log: log}
}

func key(tenantID, guildID int64, id string) string {
	return fmt.Sprintf("synapse:backtest:%d:%d:%s", tenantID, guildID, id)
}

// Start validates the draft against the guild's zones, records a queued
// run and enqueues it.
func (r *Runs) Start(ctx context.Context, tenantID, guildID int64, doc rules.Document, days int) (Run, error) {
	if days < 1 || days > MaxDays {
		return Run{}, apperr.Invalid("days", "must be 1 to %d", MaxDays)
	}
	zones, err := r.store.ForTenant(tenantID).ListZones(ctx, guildID)
	if err != nil {
		return Run{}, err
	}
	if err := r.compiler.ValidateIn(doc, zones); err != nil {
		return Run{}, err
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	now := time.Now().UTC()
	run := Run{ID: hex.EncodeToString(b), GuildID: guildID, State: StateQueued, From: now.AddDate(0, 0, -days), To: now, QueuedAt: now}
	total, err := lake.NewStats(r.pool, tenantID).Count(ctx, guildID, run.From, run.To)
	if err != nil {
		return Run{}, err
	}
	run.Total = int(total)
	if err := r.save(ctx, tenantID, run); err != nil {
		return Run{}, err
	}
	p, err := json.Marshal(payload{ID: run.ID, TenantID: tenantID, GuildID: guildID, Document: doc, From: run.From, To: run.To})
	if err != nil {
		return Run{}, err
	}
	// No retries: a backtest that failed says why; the operator starts another.
	if _, err := r.client.EnqueueContext(ctx, asynq.NewTask(TaskType, p), asynq.Queue(Queue), asynq.MaxRetry(0),
		asynq.Timeout(30*time.Minute), asynq.Retention(keep)); err != nil {
		return Run{}, fmt.Errorf("enqueue backtest: %v: %w", err, apperr.ErrUnavailable)
	}
	return run, nil
}

// Get reads a run of the guild.
func (r *Runs) Get(ctx context.Context, tenantID, guildID int64, id string) (Run, error) {
	raw, err := r.rdb.Get(ctx, key(tenantID, guildID, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Run{}, apperr.NotFound("backtest")
	}
	if err != nil {
		return Run{}, fmt.Errorf("read backtest: %v: %w", err, apperr.ErrUnavailable)
	}
	var run Run
	if err := json.Unmarshal(raw, &run); err != nil {
		return Run{}, fmt.Errorf("decode backtest: %w", err)
	}
	return run, nil
}

func (r *Runs) save(ctx context.Context, tenantID int64, run Run) error {
	b, err := json.Marshal(run)
	if err != nil {
		return err
	}
	if err := r.rdb.Set(ctx, key(tenantID, run.GuildID, run.ID), b, keep).Err(); err != nil {
		return fmt.Errorf("save backtest: %v: %w", err, apperr.ErrUnavailable)
	}
	return nil
}

// Register mounts the task handler on a worker's mux.
func (r *Runs) Register(mux *asynq.ServeMux) { mux.HandleFunc(TaskType, r.handle) }

func (r *Runs) handle(ctx context.Context, t *asynq.Task) error {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("backtest payload: %v: %w", err, asynq.SkipRetry)
	}
	run, err := r.Get(ctx, p.TenantID, p.GuildID, p.ID)
	if err != nil {
		return err
	}
	run.State = StateRunning
	if err := r.save(ctx, p.TenantID, run); err != nil {
		return err
	}
	sum, err := r.execute(ctx, p, &run)
	now := time.Now().UTC()
	run.FinishedAt = &now
	if err != nil {
		run.State, run.Error = StateFailed, err.Error()
		r.log.Warn("backtest failed", slog.Int64("guild_id", p.GuildID), slog.String("id", p.ID), slog.Any("err", err))
	} else {
		run.State, run.Summary, run.Text, run.Done = StateDone, &sum, sum.String(), sum.Events
	}
	// The record outlives a cancelled task context: save on a fresh one.
	return r.save(context.WithoutCancel(ctx), p.TenantID, run)
}

func (r *Runs) execute(ctx context.Context, p payload, run *Run) (rules.Summary, error) {
	zones, err := r.store.ForTenant(p.TenantID).ListZones(ctx, p.GuildID)
	if err != nil {
		return rules.Summary{}, err
	}
	cr, err := r.compiler.Compile(rules.Rule{GuildID: p.GuildID, Version: 1, Enabled: true, Name: p.Document.Name, Document: p.Document})
	if err != nil {
		return rules.Summary{}, err
	}
	set := rules.NewRuleSet(p.TenantID, p.GuildID, []*rules.CompiledRule{cr}, zones)
	src := func(yield func(rules.Event, error) bool) {
		for e, err := range lake.NewStats(r.pool, p.TenantID).History(ctx, p.GuildID, p.From, p.To) {
			if !yield(rules.FromLake(e), err) {
				return
			}
		}
	}
	return r.engine.Backtest(ctx, set, src, rules.BacktestOptions{Total: run.Total, ProgressEvery: 5000,
		Progress: func(done, total int) {
			run.Done = done
			if err := r.save(ctx, p.TenantID, *run); err != nil {
				r.log.Warn("backtest progress not saved", slog.Any("err", err))
			}
		}})
}
