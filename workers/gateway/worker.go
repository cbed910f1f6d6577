package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// Intents Synapse asks for: what capture needs and nothing more. Never
// GUILD_PRESENCES (privileged, heavy, and not community activity).
const Intents = gateway.IntentGuilds | gateway.IntentGuildMembers | gateway.IntentGuildMessages |
	gateway.IntentGuildMessageReactions | gateway.IntentGuildVoiceStates | gateway.IntentMessageContent

// Config is what a gateway worker needs to connect.
type Config struct {
	Token      string
	GatewayURL string // wss://gateway.discord.gg, or discordsim's
	// IdentifyLimiter, when set, coordinates identifies across the fleet.
	IdentifyLimiter gateway.IdentifyRateLimiter
	// Now is the clock for events Discord does not timestamp (default time.Now).
	Now func() time.Time
	// REST, when set, backfills messages from channel history after a
	// session that could not be resumed.
	REST rest.Rest
	// Commands, when set, answers slash commands (off the read loop).
	Commands CommandHandler
}

// CommandHandler answers application command interactions.
type CommandHandler interface {
	Handle(ctx context.Context, i discord.ApplicationCommandInteraction)
}

// Worker runs the shards it is given and feeds their events to the lake.
type Worker struct {
	cfg  Config
	rest rest.Rest
	dir  *Directory
	pipe *Pipeline
	log  *slog.Logger

	mu     sync.Mutex
	shards map[[2]int]*shardRun

	shardsGauge      *prometheus.GaugeVec
	lastEventGauge   *prometheus.GaugeVec
	registerFailures *prometheus.CounterVec
	expiredJoins     prometheus.Counter
}

// NewWorker builds a worker; Pipeline.Run must be running for it to make progress.
func NewWorker(cfg Config, dir *Directory, pipe *Pipeline, log *slog.Logger, reg prometheus.Registerer) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Worker{cfg: cfg, rest: cfg.REST, dir: dir, pipe: pipe, log: log, shards: map[[2]int]*shardRun{},
		shardsGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "synapse_gateway_shard_latency_seconds", Help: "Heartbeat latency of each shard this worker runs."}, []string{"shard"}),
		lastEventGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "synapse_gateway_shard_last_event_timestamp_seconds",
			Help: "When each shard this worker runs last received a dispatch (Unix seconds; alert on now() minus it)."}, []string{"shard"}),
		registerFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "synapse_gateway_guild_register_failures_total",
			Help: "Failed attempts to record a guild of a GUILD_CREATE, by kind (transient ones are retried, holding the shard; alert on permanent)."}, []string{"kind"}),
		expiredJoins: prometheus.NewCounter(prometheus.CounterOpts{Name: "synapse_gateway_member_joins_expired_total",
			Help: "Member joins not stored because their day is older than the guild's retention."})}
	reg.MustRegister(w.shardsGauge, w.lastEventGauge, w.registerFailures, w.expiredJoins)
	return w
}

// StartShard connects a shard, resuming the given session when there is
// one, and returns once it is ready (READY or RESUMED).
func (w *Worker) StartShard(ctx context.Context, id, count int, fence int64, resume *Resume) error {
	key := [2]int{id, count}
	w.mu.Lock()
	if _, ok := w.shards[key]; ok {
		w.mu.Unlock()
		return fmt.Errorf("shard %d/%d already running", id, count)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &shardRun{id: id, count: count, fence: fence, w: w, norm: newNormalizer(w.cfg.Now), ctx: sctx, cancel: cancel,
		log: w.log.With(slog.Int("shard_id", id), slog.Int("shard_count", count))}
	s.committedCond = sync.NewCond(&s.mu)
	s.members = make(chan memberUpdate, 4096)
	go s.syncMembers(sctx, s.members)
	s.memberRequests = make(chan int64, 4096)
	w.shards[key] = s
	w.mu.Unlock()

	opts := []gateway.ConfigOpt{
		gateway.WithURL(w.cfg.GatewayURL),
		// No transport compression: disgo v0.19.6's zstd-stream transport
		// can panic (nil dereference in the zstd decoder) when a reconnect
		// closes the decoder while the read loop is still inside it; the
		// chaos load test crashed a worker that way. Uncompressed JSON also
		// saves the CPU of decompressing every frame.
		gateway.WithCompression(gateway.CompressionNone),
		gateway.WithShardID(id), gateway.WithShardCount(count),
		gateway.WithIntents(Intents),
		gateway.WithLogger(s.log),
	}
	if w.cfg.IdentifyLimiter != nil {
		opts = append(opts, gateway.WithIdentifyRateLimiter(w.cfg.IdentifyLimiter))
	}
	if resume != nil && resume.SessionID != "" {
		opts = append(opts, gateway.WithSessionID(resume.SessionID), gateway.WithSequence(int(resume.Seq)))
		if resume.ResumeURL != "" {
			opts = append(opts, gateway.WithResumeURL(resume.ResumeURL))
		}
		s.committedSeq, s.lastSeq = resume.Seq, resume.Seq
		s.session = resume.SessionID
		s.lastEventAt = resume.LastEventAt
		if !resume.GapSince.IsZero() {
			s.pendingGap.Store(newGapFill(s, resume.GapSince)) // read again once resumed (resumeGap)
		}
	}
	// A resumed session sends no GUILD_CREATE: start from what the previous
	// owner recorded (guilds, AFK channels, open voice sessions). A new
	// session's GUILD_CREATEs then reconcile this with Discord's view.
	guilds, sessions, err := w.dir.LoadShard(ctx, id, count)
	if err != nil {
		w.forget(key, cancel)
		return err
	}
	s.norm.restore(guilds, sessions)
	gw := gateway.New(w.cfg.Token, s.handle, opts...)
	w.mu.Lock() // Shards reads it under the lock
	s.gw = gw
	w.mu.Unlock()
	go s.requestMembers(sctx)
	if err := s.gw.Open(ctx); err != nil && !errors.Is(err, discord.ErrGatewayAlreadyConnected) {
		// Close the gateway as well as forgetting the run: disgo may
		// already be reconnecting on its own (a zombie detected while the
		// resume replayed a backlog), and a gateway left running would
		// resume the session, steal it from the next owner and swallow
		// its events. 1012 keeps the session resumable for that owner.
		s.gw.CloseWithCode(context.WithoutCancel(ctx), websocket.CloseServiceRestart, "shard start failed")
		w.forget(key, cancel)
		return fmt.Errorf("open shard %d/%d: %w", id, count, err)
	}
	// ErrGatewayAlreadyConnected: disgo's own reconnect (after a zombie
	// was detected during the initial replay) connected first; the
	// gateway is up and resuming, so the shard runs.
	s.log.Info("shard connected", slog.Bool("resumed", resume != nil && resume.SessionID != ""))
	return nil
}

func (w *Worker) forget(key [2]int, cancel context.CancelFunc) {
	w.mu.Lock()
	delete(w.shards, key)
	w.mu.Unlock()
	cancel()
}

// StopShard hands a shard over cleanly: everything it received is
// committed, with its checkpoint, before this returns.
func (w *Worker) StopShard(ctx context.Context, id, count int) {
	key := [2]int{id, count}
	w.mu.Lock()
	s := w.shards[key]
	delete(w.shards, key)
	w.mu.Unlock()
	if s != nil {
		s.stop(ctx)
		w.forgetGauges(id)
	}
}

// DropShard abandons a shard whose lease is lost: close at once, write nothing more.
func (w *Worker) DropShard(ctx context.Context, id, count int) {
	key := [2]int{id, count}
	w.mu.Lock()
	s := w.shards[key]
	delete(w.shards, key)
	w.mu.Unlock()
	if s != nil {
		s.fenced()
		s.gw.CloseWithCode(ctx, websocket.CloseServiceRestart, "lease lost")
		w.forgetGauges(id)
	}
}

// Shards lists the running shards.
func (w *Worker) Shards() []ShardStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]ShardStatus, 0, len(w.shards))
	for _, s := range w.shards {
		if s.gw == nil {
			continue // still loading its guilds, not connecting yet
		}
		lat, last := s.gw.Latency(), s.lastEvent.Load()
		label := fmt.Sprint(s.id)
		w.shardsGauge.WithLabelValues(label).Set(lat.Seconds())
		if last != 0 {
			w.lastEventGauge.WithLabelValues(label).Set(float64(last) / 1000)
		}
		out = append(out, ShardStatus{ID: s.id, Count: s.count, Fence: s.fence, Status: s.gw.Status().String(),
			Latency: lat, LastEvent: time.UnixMilli(last)})
	}
	return out
}

func (w *Worker) forgetGauges(id int) {
	w.shardsGauge.DeleteLabelValues(fmt.Sprint(id))
	w.lastEventGauge.DeleteLabelValues(fmt.Sprint(id))
}

// ShardStatus is what an operator sees of a running shard.
type ShardStatus struct {
	ID, Count int
	Fence     int64
	Status    string
	Latency   time.Duration
	LastEvent time.Time
}

// StopAll stops every shard cleanly (SIGTERM).
func (w *Worker) StopAll(ctx context.Context) {
	w.mu.Lock()
	keys := make([][2]int, 0, len(w.shards))
	for k := range w.shards {
		keys = append(keys, k)
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.StopShard(ctx, k[0], k[1])
		}()
	}
	wg.Wait()
}
