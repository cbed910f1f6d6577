package discordsim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/stretchr/testify/require"
)

// testWriter routes slog output to t.Log until the test ends. disgo's
// read goroutine can outlive gateway.Close and log on its way out; t.Log
// after the test completed panics, so that output is dropped.
type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testConfig is small and fast: short heartbeats and identify windows.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Guilds = 6
	cfg.MembersPerGuild = 12
	cfg.PendingGuilds = 2
	cfg.Shards = 2
	cfg.HeartbeatInterval = 700 * time.Millisecond
	cfg.IdentifyInterval = 300 * time.Millisecond
	cfg.SendLimit = 1000
	return cfg
}

func setup(t testing.TB, mod func(*Config)) *Server {
	t.Helper()
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, testLogger(t))
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// received is one dispatch as the disgo client saw it.
type received struct {
	session string
	seq     int
	typ     gateway.EventType
	data    gateway.EventData
}

// recorder collects what a disgo gateway receives.
type recorder struct {
	mu     sync.Mutex
	events []received
	readyN int
	resumN int
	closes []error
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) handle(g gateway.Gateway, et gateway.EventType, seq int, ev gateway.EventData) {
	if et == gateway.EventTypeHeartbeatAck || et == gateway.EventTypeRaw {
		return
	}
	sid := ""
	if p := g.SessionID(); p != nil {
		sid = *p
	}
	r.mu.Lock()
	r.events = append(r.events, received{session: sid, seq: seq, typ: et, data: ev})
	switch et {
	case gateway.EventTypeReady:
		r.readyN++
	case gateway.EventTypeResumed:
		r.resumN++
	}
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) snapshot() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.events...)
}

func (r *recorder) counts() (ready, resumed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readyN, r.resumN
}

// ofType returns received events of one type.
func (r *recorder) ofType(et gateway.EventType) []received {
	var out []received
	for _, e := range r.snapshot() {
		if e.typ == et {
			out = append(out, e)
		}
	}
	return out
}

const allTestIntents = gateway.IntentGuilds | gateway.IntentGuildMembers | gateway.IntentGuildVoiceStates |
	gateway.IntentGuildMessages | gateway.IntentGuildMessageReactions | gateway.IntentMessageContent

// openGateway connects a real disgo gateway for one shard.
func openGateway(t testing.TB, s *Server, shard, count int, rec *recorder, opts ...gateway.ConfigOpt) gateway.Gateway {
	t.Helper()
	return openGatewayIntents(t, s, shard, count, allTestIntents, rec, opts...)
}

func openGatewayIntents(t testing.TB, s *Server, shard, count int, intents gateway.Intents, rec *recorder, opts ...gateway.ConfigOpt) gateway.Gateway {
	t.Helper()
	skipDisgoGatewayUnderRace(t)
	base := []gateway.ConfigOpt{
		gateway.WithURL(s.GatewayURL()),
		gateway.WithShardID(shard),
		gateway.WithShardCount(count),
		gateway.WithIntents(intents),
		gateway.WithCompression(gateway.CompressionNone), // see Server.GatewayOptions
		gateway.WithLogger(testLogger(t).With("client_shard", shard)),
		// Test heartbeats are fast; lift disgo's own 120/min send limiter.
		gateway.WithDefaultRateLimiterConfigOpts(gateway.WithCommandsPerMinute(10000)),
		gateway.WithCloseHandler(func(g gateway.Gateway, err error, reconnect bool) {
			rec.mu.Lock()
			rec.closes = append(rec.closes, err)
			rec.mu.Unlock()
		}),
	}
	gw := gateway.New(s.Token(), rec.handle, append(base, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, gw.Open(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		gw.Close(ctx)
	})
	return gw
}

// botGuildIDs returns the guilds the bot is in, grouped by shard.
func botGuildIDs(s *Server, shards int) map[int][]ID {
	out := map[int][]ID{}
	for _, g := range s.Guilds() {
		if g.BotPresent {
			sh := ShardFor(g.ID, shards)
			out[sh] = append(out[sh], g.ID)
		}
	}
	return out
}

// guildOnShard returns the first bot guild on shard.
func guildOnShard(t testing.TB, s *Server, shard int) GuildInfo {
	t.Helper()
	for _, g := range s.Guilds() {
		if g.BotPresent && g.Shard == shard {
			return g
		}
	}
	t.Fatalf("no guild on shard %d", shard)
	return GuildInfo{}
}

// assertExactDelivery checks that, for session sid, every ground-truth
// delivery after index `from` was received exactly once with the right type.
func assertExactDelivery(t testing.TB, s *Server, rec *recorder, from uint64) {
	t.Helper()
	// The sessions this client has had, from what it recorded: disgo's
	// Open returns at READY before handing READY to the handler, so the
	// first record may still be on its way.
	var want map[string]string // session/seq -> type
	require.Eventually(t, func() bool {
		want = map[string]string{}
		mine := map[string]bool{}
		for _, e := range rec.snapshot() {
			mine[e.session] = true
		}
		for _, r := range s.GroundTruthSince(from, 0) {
			for _, d := range r.Deliveries {
				if mine[d.SessionID] {
					want[fmt.Sprintf("%s/%d", d.SessionID, d.Seq)] = r.Type
				}
			}
		}
		return len(want) > 0
	}, 5*time.Second, 5*time.Millisecond, "ground truth has deliveries to this client")
	require.Eventually(t, func() bool {
		got := map[string]int{}
		for _, e := range rec.snapshot() {
			if e.typ == gateway.EventTypeResumed {
				continue
			}
			got[fmt.Sprintf("%s/%d", e.session, e.seq)]++
		}
		for k := range want {
			if got[k] == 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "every delivery received")
	seen := map[string]int{}
	for _, e := range rec.snapshot() {
		if e.typ == gateway.EventTypeResumed {
			continue // RESUMED repeats the last sequence number
		}
		k := fmt.Sprintf("%s/%d", e.session, e.seq)
		if typ, ok := want[k]; ok {
			seen[k]++
			require.Equal(t, typ, string(e.typ), "type of %s", k)
		}
	}
	for k, n := range seen {
		require.Equal(t, 1, n, "delivery %s received %d times", k, n)
	}
}

func skipDisgoGatewayUnderRace(t testing.TB) {
	if raceEnabled {
		t.Skip("disgo v0.19.6's gateway is racy itself; raw-client tests cover the server under -race")
	}
}
