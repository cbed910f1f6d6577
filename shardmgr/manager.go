package shardmgr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/synapsehq/synapse/workers/gateway"
)

// Runner runs shards; *gateway.Worker is one.
type Runner interface {
	StartShard(ctx context.Context, id, count int, fence int64, resume *gateway.Resume) error
	StopShard(ctx context.Context, id, count int)
	DropShard(ctx context.Context, id, count int)
	// Shards reports the running shards (their heartbeat latency is
	// recorded with each lease renewal).
	Shards() []gateway.ShardStatus
}

var _ Runner = (*gateway.Worker)(nil)

// Config tunes leasing.
type Config struct {
	WorkerID   string
	ShardCount int
	// TTL is how long a lease or a worker heartbeat lives without renewal:
	// the upper bound on how long a dead worker's shards stay unowned.
	TTL time.Duration
	// Tick is how often leases are renewed and the assignment recomputed.
	Tick time.Duration
}

// Manager claims, renews and releases this worker's shard leases.
type Manager struct {
	cfg    Config
	pool   *pgxpool.Pool
	runner Runner
	log    *slog.Logger

	mu    sync.Mutex
	owned map[int]int64 // shard id -> fence (leased, possibly still connecting)
	ready map[int]bool  // connected and capturing
	// crashed makes Run return without handing over, like a SIGKILL (tests).
	crashed atomic.Bool
	// Changed is signalled after each assignment pass (tests wait on it).
	changed chan struct{}
}

// New builds a manager for one worker.
func New(cfg Config, pool *pgxpool.Pool, runner Runner, log *slog.Logger) *Manager {
	if cfg.TTL == 0 {
		cfg.TTL = 5 * time.Second
	}
	if cfg.Tick == 0 {
		cfg.Tick = cfg.TTL / 5
	}
	return &Manager{cfg: cfg, pool: pool, runner: runner, log: log.With(slog.String("worker_id", cfg.WorkerID)),
		owned: map[int]int64{}, ready: map[int]bool{}, changed: make(chan struct{}, 1)}
}

// Passes signals after every assignment pass.
func (m *Manager) Passes() <-chan struct{} { return m.changed }

// Owned lists the shards this worker holds.
func (m *Manager) Owned() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int, 0, len(m.owned))
	for id := range m.owned {
		out = append(out, id)
	}
	sort.Ints(out)
	return out
}

// Ready lists the shards this worker has connected and is capturing.
func (m *Manager) Ready() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int, 0, len(m.ready))
	for id := range m.ready {
		out = append(out, id)
	}
	sort.Ints(out)
	return out
}

// Run renews and rebalances until ctx ends, then hands every shard over
// cleanly (committed, checkpointed, lease released) before returning.
func (m *Manager) Run(ctx context.Context) error {
	if err := m.ensureRows(ctx); err != nil {
		return err
	}
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		m.renewLoop(ctx)
	}()
	t := time.NewTicker(m.cfg.Tick)
	defer t.Stop()
	for {
		if err := m.assign(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("shard assignment pass failed", slog.Any("err", err))
		}
		select {
		case m.changed <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			<-renewDone
			if !m.crashed.Load() {
				m.shutdown()
			}
			return nil
		case <-t.C:
		}
	}
}

// renewLoop keeps the heartbeat and leases alive independently of the
// assignment pass, which can block for seconds while shards identify.
func (m *Manager) renewLoop(ctx context.Context) {
	t := time.NewTicker(m.cfg.Tick)
	defer t.Stop()
	for {
		if err := m.renew(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("lease renewal failed", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Manager) ensureRows(ctx context.Context) error {
	_, err := m.pool.Exec(ctx, `INSERT INTO shard_sessions (shard_id, shard_count)
		SELECT s, $1 FROM generate_series(0, $1 - 1) s ON CONFLICT DO NOTHING`, m.cfg.ShardCount)
	if err != nil {
		return fmt.Errorf("shardmgr: ensure shard rows: %w", err)
	}
	return nil
}

func (m *Manager) renew(ctx context.Context) error {
	if _, err := m.pool.Exec(ctx, `INSERT INTO gateway_workers (id) VALUES ($1)
		ON CONFLICT (id) DO UPDATE SET last_seen = now()`, m.cfg.WorkerID); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	m.mu.Lock()
	owned := make(map[int]int64, len(m.owned))
	for k, v := range m.owned {
		owned[k] = v
	}
	m.mu.Unlock()
	latency := map[int]int{}
	for _, s := range m.runner.Shards() {
		if s.Count == m.cfg.ShardCount {
			latency[s.ID] = int(s.Latency.Milliseconds())
		}
	}
	for id, fence := range owned {
		tag, err := m.pool.Exec(ctx, `UPDATE shard_sessions SET lease_expires_at = now() + $4::interval, updated_at = now(), latency_ms = $6
			WHERE shard_count = $1 AND shard_id = $2 AND owner = $3 AND fence = $5`,
			m.cfg.ShardCount, id, m.cfg.WorkerID, m.cfg.TTL.String(), fence, latency[id])
		if err != nil {
			return fmt.Errorf("renew shard %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			m.log.Warn("lease lost; dropping shard", slog.Int("shard_id", id))
			m.runner.DropShard(ctx, id, m.cfg.ShardCount)
			m.mu.Lock()
			if m.owned[id] == fence {
				delete(m.owned, id)
				delete(m.ready, id)
			}
			m.mu.Unlock()
		}
	}
	return nil
}

// desired is this worker's share: shard i goes to live worker i mod n.
func (m *Manager) desired(ctx context.Context) (map[int]bool, error) {
	rows, err := m.pool.Query(ctx, `SELECT id FROM gateway_workers WHERE last_seen > now() - $1::interval ORDER BY id`, m.cfg.TTL.String())
	if err != nil {
		return nil, err
	}
	live, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	me := -1
	for i, id := range live {
		if id == m.cfg.WorkerID {
			me = i
		}
	}
	out := map[int]bool{}
	if me < 0 {
		return out, nil // our heartbeat has not landed yet
	}
	for s := 0; s < m.cfg.ShardCount; s++ {
		if s%len(live) == me {
			out[s] = true
		}
	}
	return out, nil
}

func (m *Manager) assign(ctx context.Context) error {
	want, err := m.desired(ctx)
	if err != nil {
		return err
	}
	// Hand over what is no longer ours first, so its new owner can start.
	for _, id := range m.Owned() {
		if !want[id] {
			m.release(ctx, id)
		}
	}
	// Claim and connect concurrently: a resumed shard returns only after
	// Discord replayed its backlog, and one shard's replay must not hold up
	// the takeover of the others (identifies still queue in the limiter).
	var wg sync.WaitGroup
	for id := range want {
		m.mu.Lock()
		_, have := m.owned[id]
		m.mu.Unlock()
		if have {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.claim(ctx, id); err != nil && !errors.Is(err, errTaken) {
				m.log.Warn("claim failed", slog.Int("shard_id", id), slog.Any("err", err))
			}
		}()
	}
	wg.Wait()
	return nil
}

var errTaken = errors.New("shard is leased by another worker")

func (m *Manager) claim(ctx context.Context, id int) error {
	var fence, seq int64
	var session, resumeURL string
	var lastEvent, gapSince *time.Time
	err := m.pool.QueryRow(ctx, `UPDATE shard_sessions
		SET owner = $3, fence = fence + 1, lease_expires_at = now() + $4::interval, state = 'starting', updated_at = now()
		WHERE shard_count = $1 AND shard_id = $2 AND (owner = '' OR owner = $3 OR lease_expires_at < now())
		RETURNING fence, session_id, resume_url, seq, last_event_at, gap_since`,
		m.cfg.ShardCount, id, m.cfg.WorkerID, m.cfg.TTL.String()).Scan(&fence, &session, &resumeURL, &seq, &lastEvent, &gapSince)
	if errors.Is(err, pgx.ErrNoRows) {
		return errTaken
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.owned[id] = fence
	m.mu.Unlock()
	var resume *gateway.Resume
	if session != "" {
		resume = &gateway.Resume{SessionID: session, ResumeURL: resumeURL, Seq: seq}
		if lastEvent != nil {
			resume.LastEventAt = *lastEvent
		}
		if gapSince != nil {
			resume.GapSince = *gapSince
		}
	}
	m.log.Info("shard leased", slog.Int("shard_id", id), slog.Int64("fence", fence), slog.Bool("resume", resume != nil))
	if err := m.runner.StartShard(ctx, id, m.cfg.ShardCount, fence, resume); err != nil {
		m.mu.Lock()
		delete(m.owned, id)
		m.mu.Unlock()
		_, _ = m.pool.Exec(context.WithoutCancel(ctx), `UPDATE shard_sessions SET owner = '', lease_expires_at = '-infinity', state = 'failed'
			WHERE shard_count = $1 AND shard_id = $2 AND owner = $3 AND fence = $4`, m.cfg.ShardCount, id, m.cfg.WorkerID, fence)
		return err
	}
	m.mu.Lock()
	if m.owned[id] == fence {
		m.ready[id] = true
	}
	m.mu.Unlock()
	_, err = m.pool.Exec(ctx, `UPDATE shard_sessions SET state = 'running' WHERE shard_count = $1 AND shard_id = $2 AND fence = $3`, m.cfg.ShardCount, id, fence)
	return err
}

// release stops a shard cleanly (its events and checkpoint committed) and
// gives up the lease so the next owner resumes at once.
func (m *Manager) release(ctx context.Context, id int) {
	m.mu.Lock()
	fence, ok := m.owned[id]
	m.mu.Unlock()
	if !ok {
		return
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*m.cfg.TTL)
	defer cancel()
	m.mu.Lock()
	delete(m.ready, id)
	m.mu.Unlock()
	m.runner.StopShard(stopCtx, id, m.cfg.ShardCount)
	m.mu.Lock()
	delete(m.owned, id)
	m.mu.Unlock()
	if _, err := m.pool.Exec(stopCtx, `UPDATE shard_sessions SET owner = '', lease_expires_at = '-infinity', state = 'released', updated_at = now()
		WHERE shard_count = $1 AND shard_id = $2 AND owner = $3 AND fence = $4`, m.cfg.ShardCount, id, m.cfg.WorkerID, fence); err != nil {
		m.log.Warn("release lease", slog.Int("shard_id", id), slog.Any("err", err))
	}
	m.log.Info("shard released", slog.Int("shard_id", id))
}

func (m *Manager) shutdown() {
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, id := range m.Owned() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.release(ctx, id)
		}()
	}
	wg.Wait()
	if _, err := m.pool.Exec(ctx, `DELETE FROM gateway_workers WHERE id = $1`, m.cfg.WorkerID); err != nil {
		m.log.Warn("deregister worker", slog.Any("err", err))
	}
}
