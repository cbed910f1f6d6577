package discordsim

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Server is one simulated Discord: gateway, REST, OAuth2 and the admin API
// on a single HTTP listener.
type Server struct {
	cfg   Config
	log   *slog.Logger
	clock *simClock
	world *world
	hub   *sessionHub
	gt    *groundTruth
	// sessLog records each session's identify, resumes and end.
	sessLog *sessionLog
	stats   *stats
	token   string

	limiter      *identifyLimiter
	faults       *Faults
	interactions *interactionStore
	oauth        *oauthStore
	restLimits   *restLimiter
	restLog      *restLog

	// dispatchMu serialises dispatches so ground truth order equals the
	// per-session sequence order.
	dispatchMu sync.Mutex
	// deliveries is dispatch's scratch list, guarded by dispatchMu.
	deliveries []gtDelivery

	rngMu sync.Mutex
	rng   *rand.Rand // world mutations after generation (joins, ids)

	// encBufs holds *encodeBuf scratch buffers for the dispatch encoders.
	encBufs sync.Pool

	upgrader websocket.Upgrader
	connSeq  atomic.Uint64
	sessSeq  atomic.Uint64

	connMu sync.Mutex
	conns  map[*gwConn]struct{}
	closed bool
	// written wakes a generator waiting for clients to read (capacity 1:
	// a wake-up sent between its check and its wait is kept).
	written chan struct{}

	ln      net.Listener
	httpSrv *http.Server
	base    string // http://host:port
	bg      sync.WaitGroup
	cancel  context.CancelFunc
	done    chan struct{} // closed by Close
}

// New builds a simulator from cfg (zero fields take DefaultConfig values).
// The synthetic world is generated immediately; nothing listens until Start.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	gt, err := newGroundTruth(cfg.GroundTruthFile, cfg.GroundTruthLimit, cfg.Shards)
	if err != nil {
		return nil, fmt.Errorf("discordsim: ground truth file: %w", err)
	}
	clock := newSimClock(cfg.SimStart)
	s := &Server{
		cfg: cfg, log: logger.With(slog.String("component", "discordsim")), clock: clock,
		world: generateWorld(cfg, clock), hub: newSessionHub(), gt: gt, sessLog: newSessionLog(), stats: newStats(),
		limiter: newIdentifyLimiter(cfg), interactions: newInteractionStore(), oauth: newOAuthStore(),
		restLimits: newRESTLimiter(cfg.RESTBucketLimit, cfg.RESTBucketWindow),
		restLog:    newRESTLog(),
		rng:        rand.New(rand.NewPCG(cfg.Seed, 0xac7)),
		conns:      map[*gwConn]struct{}{},
		written:    make(chan struct{}, 1),
		done:       make(chan struct{}),
		upgrader:   websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
	}
	s.faults = &Faults{s: s}
	// The token's first segment is base64(application id), which disgo parses.
	secret := fmt.Sprintf("%016x%016x", s.rng.Uint64(), s.rng.Uint64())
	s.token = base64.RawStdEncoding.EncodeToString([]byte(s.world.appID.String())) + ".c2ltdWxhdGVk." + secret
	return s, nil
}

// Start listens on Config.ListenAddr and serves in the background until
// Close or ctx is cancelled.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("discordsim: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln in the background (Start with your own listener).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.ln = ln
	s.base = "http://" + ln.Addr().String()
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.bg.Add(2)
	go func() {
		defer s.bg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http serve", slog.Any("err", err))
		}
	}()
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				s.expireSessions(now)
			}
		}
	}()
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	s.log.Info("discord simulator listening", slog.String("url", s.base), slog.Int("guilds", s.cfg.Guilds))
	return nil
}

// Close stops serving, drops every gateway connection and flushes ground truth.
func (s *Server) Close() error {
	s.connMu.Lock()
	if s.closed {
		s.connMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.connMu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	var err error
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = s.httpSrv.Shutdown(ctx)
		cancel()
	}
	for _, c := range conns {
		c.drop()
		<-c.done
	}
	s.bg.Wait()
	if gerr := s.gt.close(); err == nil {
		err = gerr
	}
	return err
}

// Run serves cfg until ctx is cancelled, running the configured profile.
// It is what `synapse sim` calls.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg, logger)
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	defer s.Close()
	logger.Info("discord simulator ready", slog.String("rest", s.RESTURL()), slog.String("gateway", s.GatewayURL()),
		slog.String("admin", s.URL()+"/_sim/"), slog.String("token", s.Token()))
	if s.cfg.Profile != ProfileNone {
		// The profile ending with ctx is the normal way to stop.
		if _, err := s.Generate(ctx, GenerateOptions{Profile: s.cfg.Profile, Rate: s.cfg.Rate, Acceleration: s.cfg.TimeAcceleration}); err != nil && ctx.Err() == nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

func (s *Server) trackConn(c *gwConn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrackConn(c *gwConn) {
	s.connMu.Lock()
	delete(s.conns, c)
	s.connMu.Unlock()
}

func (s *Server) signalWritten() {
	select {
	case s.written <- struct{}{}:
	default:
	}
}

// awaitClients returns once every connection holds fewer than
// Config.GenerateMaxBacklog unwritten dispatches and every session away
// (see awaitedAway) fewer to replay, or ctx ends.
func (s *Server) awaitClients(ctx context.Context) error {
	for {
		behind := false
		s.connMu.Lock()
		for c := range s.conns {
			if c.unwritten.Load() >= int64(s.cfg.GenerateMaxBacklog) {
				behind = true
				break
			}
		}
		s.connMu.Unlock()
		if !behind {
			behind = s.hub.awaitedAway(s.cfg.GenerateMaxBacklog)
		}
		if !behind {
			return nil
		}
		select {
		case <-s.written:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) newSessionID() string {
	n := s.sessSeq.Add(1)
	s.rngMu.Lock()
	r := s.rng.Uint64()
	s.rngMu.Unlock()
	return fmt.Sprintf("%016x%016x", r, n)
}

// URL is the server's base URL, e.g. http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.base }

// RESTURL is the REST base for rest.WithURL, e.g. http://127.0.0.1:PORT/api/v10.
func (s *Server) RESTURL() string { return s.base + "/api/v10" }

// GatewayURL is the gateway URL (without query), e.g. ws://127.0.0.1:PORT/gateway.
func (s *Server) GatewayURL() string { return s.wsBase() + gatewayPath }

// ResumeGatewayURL is the resume_gateway_url handed out in READY.
func (s *Server) ResumeGatewayURL() string { return s.wsBase() + resumePath }

func (s *Server) wsBase() string { return "ws" + strings.TrimPrefix(s.base, "http") }

// Token is a valid bot token; its first segment is base64 of AppID.
func (s *Server) Token() string { return s.token }

// AppID is the application (and bot user) ID.
func (s *Server) AppID() ID { return s.world.appID }

// ClientSecret is the OAuth2 client secret.
func (s *Server) ClientSecret() string { return s.cfg.ClientSecret }

// Config returns the effective configuration.
func (s *Server) Config() Config { return s.cfg }

// Faults returns the fault injector.
func (s *Server) Faults() *Faults { return s.faults }

// GroundTruth returns every record (dispatches and history reads), in order.
func (s *Server) GroundTruth() []Record { return s.gt.since(0, 0) }

// GroundTruthSince returns records with Index > after (at most limit; 0 = all).
func (s *Server) GroundTruthSince(after uint64, limit int) []Record { return s.gt.since(after, limit) }

// Stats returns a snapshot of counters.
func (s *Server) Stats() Stats {
	st := s.stats.snapshot()
	st.Identifies = s.limiter.snapshot()
	st.SessionsPerShard = map[string]int{}
	for _, sess := range s.hub.all() {
		st.Sessions++
		st.SessionsPerShard[fmt.Sprintf("%d/%d", sess.shardID, sess.shardCount)]++
	}
	s.connMu.Lock()
	st.LiveConnections = len(s.conns)
	s.connMu.Unlock()
	return st
}

// SetIdentifyRemaining sets the remaining daily identify budget (to test exhaustion).
func (s *Server) SetIdentifyRemaining(n int) { s.limiter.setRemaining(n) }

// Now is the simulated wall clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// AdvanceClock moves the simulated clock forward to t.
func (s *Server) AdvanceClock(t time.Time) { s.clock.AdvanceTo(t) }

func (s *Server) doneCh() <-chan struct{} { return s.done }

// GroundTruthLastIndex is the Index of the latest record (0 if none).
func (s *Server) GroundTruthLastIndex() uint64 { return uint64(s.gt.len()) }
