package discordsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// benchClient identifies one shard and counts MESSAGE_CREATE frames
// without decoding them, so the benchmark measures the server.
func benchClient(b *testing.B, s *Server, shard, count int, compress string) *atomic.Int64 {
	b.Helper()
	url := s.GatewayURL() + "?v=10&encoding=json"
	if compress != "" {
		url += "&compress=" + compress
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = ws.Close() })
	id, _ := json.Marshal(identify(s.Token(), IntentGuilds|IntentGuildMessages|IntentMessageContent, []int{shard, count}))
	require.NoError(b, ws.WriteMessage(websocket.TextMessage, id))
	var n atomic.Int64
	marker := []byte(`"t":"MESSAGE_CREATE"`)
	go func() {
		buf := make([]byte, 0, 4096)
		for {
			_, r, err := ws.NextReader()
			if err != nil {
				return
			}
			if compress != "" {
				_, _ = io.Copy(io.Discard, r) // compressed: count frames past the handshake
				n.Add(1)
				continue
			}
			buf = buf[:0]
			w := bytes.NewBuffer(buf)
			_, _ = io.Copy(w, r)
			if bytes.Contains(w.Bytes(), marker) {
				n.Add(1)
			}
			buf = w.Bytes()
		}
	}()
	return &n
}

// BenchmarkDispatch measures fan-out of pre-encoded MESSAGE_CREATE payloads
// (the hot path: record ground truth, sequence, buffer for resume, frame,
// write) to one connected session, including the time for the client to
// receive every frame.
func BenchmarkDispatch(b *testing.B) {
	for _, compress := range []string{CompressNone, CompressZstd} {
		name := "none"
		if compress != "" {
			name = compress
		}
		b.Run(name, func(b *testing.B) {
			s := setup(b, func(c *Config) {
				c.Guilds, c.MembersPerGuild, c.Shards, c.PendingGuilds = 1, 10, 1, 0
				c.ResumeBufferSize = 1 << 16
				c.HeartbeatInterval = time.Hour // the bench client does not heartbeat
			})
			g := s.Guilds()[0]
			got := benchClient(b, s, 0, 1, compress)
			require.NoError(b, s.AwaitReady(context.Background(), 0, 5*time.Second))
			m, err := s.SendMessage(context.Background(), MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1],
				Content: "a typical chat message with <@" + g.Members[2].String() + "> and a link https://go.dev :)"})
			require.NoError(b, err)
			d := mustJSON(messageWire{Message: m})
			var base int64
			if compress != "" {
				require.Eventually(b, func() bool { return got.Load() >= 4 }, 5*time.Second, time.Millisecond) // hello, ready, guild create, message
				base = got.Load()
			} else {
				require.Eventually(b, func() bool { return got.Load() == 1 }, 5*time.Second, time.Millisecond)
				base = 1
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				s.dispatch(event{guildID: g.ID, typ: "MESSAGE_CREATE", key: idKey(m.ID), intent: IntentGuildMessages, d: plain(d)})
			}
			waitCount(b, got, base+int64(b.N))
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "dispatches/s")
		})
	}
}

// BenchmarkSendMessage is the full path: world mutation, payload encoding
// and dispatch, per message.
func BenchmarkSendMessage(b *testing.B) {
	s := setup(b, func(c *Config) {
		c.Guilds, c.MembersPerGuild, c.Shards, c.PendingGuilds = 1, 10, 1, 0
		c.HeartbeatInterval = time.Hour
	})
	g := s.Guilds()[0]
	got := benchClient(b, s, 0, 1, "")
	require.NoError(b, s.AwaitReady(context.Background(), 0, 5*time.Second))
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := s.SendMessage(ctx, MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[i%10], Content: "hello there"}); err != nil {
			b.Fatal(err)
		}
	}
	waitCount(b, got, int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "messages/s")
}

// waitCount polls the client's counter (there is no signal to wait on).
func waitCount(b *testing.B, got *atomic.Int64, want int64) {
	deadline := time.Now().Add(60 * time.Second)
	for got.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("client received %d of %d frames", got.Load(), want)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// BenchmarkDispatchFanOut sends each dispatch to 4 sessions of the same
// shard (one encode, four deliveries).
func BenchmarkDispatchFanOut(b *testing.B) {
	const sessions = 4
	s := setup(b, func(c *Config) {
		c.Guilds, c.MembersPerGuild, c.Shards, c.PendingGuilds = 1, 10, 1, 0
		c.ResumeBufferSize = 1 << 16
		c.HeartbeatInterval = time.Hour
		c.IdentifyInterval = time.Nanosecond
	})
	g := s.Guilds()[0]
	var counters []*atomic.Int64
	for i := 0; i < sessions; i++ {
		counters = append(counters, benchClient(b, s, 0, 1, ""))
	}
	require.Eventually(b, func() bool { return s.Stats().Sessions == sessions }, 5*time.Second, time.Millisecond)
	m, err := s.SendMessage(context.Background(), MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1], Content: "fan-out"})
	require.NoError(b, err)
	for _, c := range counters {
		waitCount(b, c, 1)
	}
	d := mustJSON(messageWire{Message: m})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		s.dispatch(event{guildID: g.ID, typ: "MESSAGE_CREATE", key: idKey(m.ID), intent: IntentGuildMessages, d: plain(d)})
	}
	for _, c := range counters {
		waitCount(b, c, 1+int64(b.N))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*sessions)/time.Since(start).Seconds(), "deliveries/s")
}

// drainClient identifies one shard with the intents Synapse's gateway
// worker uses and then discards everything the server writes, reading the
// raw socket (no frame parsing), so a benchmark measures the server.
func drainClient(b *testing.B, s *Server, shard, count int) {
	b.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"?v=10&encoding=json", nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = ws.Close() })
	intents := IntentGuilds | IntentGuildMembers | IntentGuildMessages | IntentGuildMessageReactions |
		IntentGuildVoiceStates | IntentMessageContent
	id, _ := json.Marshal(identify(s.Token(), intents, []int{shard, count}))
	require.NoError(b, ws.WriteMessage(websocket.TextMessage, id))
	go func() {
		buf := make([]byte, 64<<10)
		nc := ws.UnderlyingConn()
		for {
			if _, err := nc.Read(buf); err != nil {
				return
			}
		}
	}()
}

// BenchmarkGenerate is the load test's simulator side: the activity
// generator at "max" rate (world mutation, payload encoding, dispatch,
// ground truth, resume buffers, framing, socket writes) into the load
// test's world (8 guilds of 300 members on 4 shards), one draining
// session per shard. cpu-ns/op is the whole process's CPU per event.
func BenchmarkGenerate(b *testing.B) {
	const shards = 4
	s := setup(b, func(c *Config) {
		c.Guilds, c.MembersPerGuild, c.Shards, c.PendingGuilds = 8, 300, shards, 0
		c.ResumeBufferSize = 200000
		c.MaxHistoryPerChannel = -1
		c.HeartbeatInterval = time.Hour // the drain client does not heartbeat
		c.IdentifyInterval = time.Nanosecond
		c.MaxConcurrency = shards
	})
	for shard := 0; shard < shards; shard++ {
		drainClient(b, s, shard, shards)
	}
	for shard := 0; shard < shards; shard++ {
		require.NoError(b, s.AwaitReady(context.Background(), shard, 10*time.Second))
	}
	// Warm up: the generator's state (recent messages, voice) as in a run.
	_, err := s.Generate(context.Background(), GenerateOptions{Profile: ProfileSteady, Rate: 1e9, MaxEvents: 20000})
	require.NoError(b, err)
	heap0 := liveHeap()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	_, err = s.Generate(context.Background(), GenerateOptions{Profile: ProfileSteady, Rate: 1e9, MaxEvents: b.N})
	require.NoError(b, err)
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	// What the simulator keeps per event (ground truth, history, resume
	// buffers): what makes a long load test's memory.
	b.ReportMetric(float64(liveHeap()-heap0)/float64(b.N), "kept-B/op")
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// processCPU is the process's user and system CPU time so far, in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
