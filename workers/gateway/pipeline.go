package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/synapsehq/synapse/engine/lake"
)

// item is what a shard's read loop hands to the pipeline: the lake events
// one dispatch produced (possibly none) and the gateway position after it.
type item struct {
	shard    *shardRun
	events   []lake.Event
	seq      int64
	session  string
	resume   string
	received time.Time
	gapSince time.Time // the shard's gap pending backfill when it was read (see shardRun.pendingGap)
}

// PipelineConfig tunes batching.
type PipelineConfig struct {
	Buffer int // items the bounded buffers hold in all before read loops block
	// Lanes is how many batches are written at once. A shard always writes
	// through the same lane, so its events (and checkpoints) commit in the
	// order it received them; shards of different lanes commit in parallel.
	Lanes    int
	MaxBatch int           // events per transaction
	MaxDelay time.Duration // longest an event waits for its batch to fill
	// MaxBlock is how long a read loop blocks on a full buffer before its
	// shard parks (see park.go). Keep it well under the gateway's heartbeat
	// interval (41.25 s on Discord): the blocked loop reads no ACKs.
	MaxBlock time.Duration
}

// DefaultPipelineConfig balances latency (≤ 50 ms of batching) with
// throughput (up to 4,000-event transactions). Batches fill past a few
// hundred events only when the database is behind, and a bigger batch
// then catches up faster: its counter and active-day rows absorb more
// events each (max profile: 10% fewer counter and 18% fewer active-day
// row updates per event than at 2,000, about 15% less Postgres CPU per
// event in a replay of its batches). One lane is one writer waiting on one
// Postgres backend most of the time: a single lane left a core idle while
// Postgres worked through its batch. More lanes split the traffic into
// smaller batches, each paying a transaction's fixed cost: on the 2-core
// machine the load test runs on, 2 lanes stored the most (max profile:
// 18.3–20.6K events/s against 12.7–14.6K for 1 lane and 16.9–17.9K for 4)
// for 12% more Postgres CPU per event than 1 lane at 5,000 events/s.
func DefaultPipelineConfig() PipelineConfig {
	return PipelineConfig{Buffer: 16384, Lanes: 2, MaxBatch: 4000, MaxDelay: 50 * time.Millisecond, MaxBlock: 10 * time.Second}
}

// BatchWriter commits a batch; *lake.Writer is the one the product uses.
type BatchWriter interface {
	Write(ctx context.Context, b lake.Batch) (lake.Result, error)
}

// Pipeline moves events from every shard's read loop into the lake in
// batches. The buffers are bounded: when the database falls behind, read
// loops block (back-pressure reaches the socket) instead of memory growing.
type Pipeline struct {
	cfg     PipelineConfig
	lanes   []chan item
	writer  BatchWriter
	log     *slog.Logger
	metrics *pipelineMetrics
	// OnLag, when set, sees every committed event's receive→commit delay (loadtest).
	OnLag func(time.Duration)
	// Trace, when set, sees every dispatch a read loop handed over (received)
	// and every one committed, with its shard, session and sequence: the
	// chaos load test uses it to tell where a lost event went missing.
	Trace func(stage string, shard int, session string, seq int64, events int)
}

type pipelineMetrics struct {
	written   *prometheus.CounterVec
	dups      prometheus.Counter
	failures  *prometheus.CounterVec
	dropped   prometheus.Counter
	lag       prometheus.Histogram
	batchSize prometheus.Histogram
	buffered  prometheus.GaugeFunc
	parks     prometheus.Counter
}

// NewPipeline builds a pipeline writing with w and registering on reg.
func NewPipeline(cfg PipelineConfig, w BatchWriter, log *slog.Logger, reg prometheus.Registerer) *Pipeline {
	n := max(cfg.Lanes, 1)
	p := &Pipeline{cfg: cfg, lanes: make([]chan item, n), writer: w, log: log}
	for i := range p.lanes {
		p.lanes[i] = make(chan item, max(cfg.Buffer/n, 1))
	}
	m := &pipelineMetrics{
		written:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "synapse_lake_events_written_total", Help: "Events committed to the lake, by type."}, []string{"type"}),
		dups:      prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_lake_duplicates_total", Help: "Events already in the lake when written again."}),
		failures:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "synapse_lake_write_failures_total", Help: "Failed batch writes, by kind (transient batches are retried)."}, []string{"kind"}),
		dropped:   prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_lake_events_dropped_total", Help: "Events that could not be stored and were given up on. Alert on any increase."}),
		lag:       prometheus.NewHistogram(prometheus.HistogramOpts{Name: "synapse_lake_ingest_lag_seconds", Help: "Delay from gateway receipt to lake commit.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "synapse_lake_batch_events", Help: "Events per lake transaction.", Buckets: prometheus.ExponentialBuckets(1, 2, 13)}),
		parks: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_gateway_shard_parks_total",
			Help: "Times a shard closed its connection (to resume later) because the ingest buffer stayed full: the database is behind."}),
	}
	m.buffered = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "synapse_lake_buffer_items", Help: "Items waiting in the ingest buffers."}, func() float64 {
		n := 0
		for _, l := range p.lanes {
			n += len(l)
		}
		return float64(n)
	})
	reg.MustRegister(m.written, m.dups, m.failures, m.dropped, m.lag, m.batchSize, m.buffered, m.parks)
	p.metrics = m
	return p
}

// submit blocks while the buffer is full (back-pressure), or until ctx
// ends. A read loop's dispatch (it.seq set) blocked for MaxBlock parks its
// shard until it is handed over (sendParking).
func (p *Pipeline) submit(ctx context.Context, it item) error {
	in := p.lane(it.shard)
	if it.seq != 0 {
		return sendParking(ctx, it.shard, in, it)
	}
	select {
	case in <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lane is the buffer a shard's items go through.
func (p *Pipeline) lane(s *shardRun) chan item { return p.lanes[s.id%len(p.lanes)] }

// roomFor reports whether the shard's lane is at most a quarter full: room
// for a resumed session's replay.
func (p *Pipeline) roomFor(s *shardRun) bool {
	l := p.lane(s)
	return len(l) <= cap(l)/4
}

// Run batches and writes until stop is closed and the buffers are drained,
// or until ctx (the hard deadline) ends.
func (p *Pipeline) Run(ctx context.Context, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for _, in := range p.lanes {
		wg.Go(func() { p.runLane(ctx, stop, in) })
	}
	wg.Wait()
}

// runLane batches and writes one lane's items.
func (p *Pipeline) runLane(ctx context.Context, stop <-chan struct{}, in <-chan item) {
	var batch []item
	events := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			p.write(ctx, batch)
		}
		batch, events = batch[:0], 0
	}
	for {
		select {
		case it := <-in:
			if len(batch) == 0 {
				timer.Reset(p.cfg.MaxDelay)
			}
			batch = append(batch, it)
			events += len(it.events)
			if events >= p.cfg.MaxBatch {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case <-stop:
			// Drain what the read loops already handed over, then stop.
			for {
				select {
				case it := <-in:
					batch = append(batch, it)
					if events += len(it.events); events >= p.cfg.MaxBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		case <-ctx.Done():
			p.abandon(batch)
			return
		}
	}
}

// write commits one batch, retrying transient failures with backoff. A
// shard whose lease was lost is dropped from the batch (its new owner
// resumes from the last checkpoint and receives those events again).
func (p *Pipeline) write(ctx context.Context, batch []item) {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		b := assemble(batch)
		if len(b.Events) == 0 && len(b.Checkpoints) == 0 {
			p.committed(batch, b, lake.Result{}) // nothing to store: the positions are as good as committed
			return
		}
		res, err := p.writer.Write(ctx, b)
		if err == nil {
			p.committed(batch, b, res)
			return
		}
		var fenced *lake.FencedError
		switch {
		case errors.As(err, &fenced):
			p.metrics.failures.WithLabelValues("fenced").Inc()
			p.log.Warn("shard lease lost; dropping its uncommitted events for the new owner to replay",
				slog.Int("shard_id", fenced.ShardID), slog.Int64("fence", fenced.Fence))
			n := len(batch)
			if batch = withoutShard(batch, fenced.ShardID, fenced.ShardCount, fenced.Fence); len(batch) == n {
				batch = withoutShard(batch, fenced.ShardID, fenced.ShardCount, -1) // never loop on a refusal nothing explains
			}
			continue
		case permanent(err):
			p.metrics.failures.WithLabelValues("permanent").Inc()
			p.metrics.dropped.Add(float64(len(b.Events)))
			p.log.Error("lake batch cannot be stored; events dropped", slog.Int("events", len(b.Events)), slog.Any("err", err))
			return
		}
		p.metrics.failures.WithLabelValues("transient").Inc()
		p.log.Warn("lake write failed; retrying", slog.Int("attempt", attempt), slog.Duration("backoff", backoff), slog.Any("err", err))
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			p.abandon(batch)
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (p *Pipeline) committed(batch []item, b lake.Batch, res lake.Result) {
	now := time.Now()
	for _, it := range batch {
		d := now.Sub(it.received)
		for range it.events {
			p.metrics.lag.Observe(d.Seconds())
			if p.OnLag != nil {
				p.OnLag(d)
			}
		}
	}
	// Per type, not per event: a label lookup hashes the label values.
	var byType [lake.VoiceActive + 1]int
	for _, e := range b.Events {
		if e.Type >= 0 && int(e.Type) < len(byType) {
			byType[e.Type]++
		} else {
			p.metrics.written.WithLabelValues(e.Type.String()).Inc()
		}
	}
	for t, n := range byType {
		if n > 0 {
			p.metrics.written.WithLabelValues(lake.Type(t).String()).Add(float64(n))
		}
	}
	p.metrics.dups.Add(float64(res.Duplicates))
	p.metrics.batchSize.Observe(float64(len(b.Events)))
	for _, it := range batch {
		it.shard.committed(it.seq)
		if p.Trace != nil && it.seq > 0 {
			p.Trace("C", it.shard.id, it.session, it.seq, len(it.events))
		}
	}
}

// abandon accounts for events that were never written because the
// process was told to stop before the database came back.
func (p *Pipeline) abandon(batch []item) {
	n := 0
	for _, it := range batch {
		n += len(it.events)
	}
	if n > 0 {
		p.metrics.dropped.Add(float64(n))
		p.log.Error("shutdown deadline reached with events unwritten; they will be replayed to the next owner on resume", slog.Int("events", n))
	}
}

// assemble flattens items into one lake batch with each shard's latest position.
func assemble(batch []item) lake.Batch {
	var b lake.Batch
	n := 0
	for _, it := range batch {
		n += len(it.events)
	}
	b.Events = make([]lake.Event, 0, n)
	last := map[*shardRun]item{}
	for _, it := range batch {
		b.Events = append(b.Events, it.events...)
		if it.seq > 0 { // backfilled rows (seq 0) move no checkpoint
			last[it.shard] = it
		}
	}
	for sh, it := range last {
		if sh.fence == 0 {
			continue // not leased (a test, or a single-process install without a shard manager)
		}
		cp := lake.Checkpoint{ShardID: sh.id, ShardCount: sh.count, SessionID: it.session, ResumeURL: it.resume, Seq: it.seq, Fence: sh.fence,
			GapSince: it.gapSince}
		if n := len(it.events); n > 0 {
			cp.LastEventAt = it.received
		}
		b.Checkpoints = append(b.Checkpoints, cp)
	}
	return b
}

// withoutShard drops the items of the shard run whose lease (fence) was
// lost. Only that run's: the same worker may already run the shard again
// under a newer fence (it re-claimed it and resumed from the checkpoint),
// and the new run's events in the same batch must still be written.
func withoutShard(batch []item, id, count int, fence int64) []item {
	out := batch[:0:0]
	for _, it := range batch {
		if it.shard.id == id && it.shard.count == count && (it.shard.fence == fence || fence < 0) {
			it.shard.fenced()
			continue
		}
		out = append(out, it)
	}
	return out
}

// permanent reports errors that retrying cannot fix: the data itself is
// refused (class 22, data exceptions) — not a connection or server problem.
func permanent(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && len(pgErr.Code) == 5 && pgErr.Code[:2] == "22"
}
