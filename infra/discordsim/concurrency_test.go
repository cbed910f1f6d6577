package discordsim

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// TestConcurrentActivityFaultsAndClients drives activity, REST and faults at
// once against raw clients (disgo itself has data races in v0.19.6, so this
// is the test to run with -race). It asserts the server stays consistent.
func TestConcurrentActivityFaultsAndClients(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.IdentifyInterval = time.Nanosecond })
	tok := s.Token()

	var clients, wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	received := make([]int, 4)
	var recvMu sync.Mutex
	firstFrame := make(chan int, 4) // each client's first frame (READY), before faults start
	for i := 0; i < 4; i++ {
		c := dialRaw(t, s.GatewayURL())
		c.send(identify(tok, int(allTestIntents), []int{i % 2, 2}))
		var wmu sync.Mutex
		clients.Add(2)
		go func() { // heartbeats from another goroutine, like a real client
			defer clients.Done()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					wmu.Lock()
					err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":1,"d":null}`))
					wmu.Unlock()
					if err != nil {
						return
					}
				}
			}
		}()
		go func() {
			defer clients.Done()
			for {
				if _, _, err := c.ws.ReadMessage(); err != nil {
					return
				}
				recvMu.Lock()
				received[i]++
				if received[i] == 1 {
					firstFrame <- i
				}
				recvMu.Unlock()
			}
		}()
	}
	require.NoError(t, s.AwaitReady(ctx, 0, 5*time.Second))
	require.NoError(t, s.AwaitReady(ctx, 1, 5*time.Second))
	// On a loaded machine a client may still be waiting for its READY: the
	// faults below could then drop it before it saw anything at all.
	for range 4 {
		select {
		case <-firstFrame:
		case <-time.After(10 * time.Second):
			t.Fatal("a client never received a frame after identifying")
		}
	}

	wg.Add(3)
	go func() {
		defer wg.Done()
		_, err := s.Generate(ctx, GenerateOptions{Profile: ProfileSteady, Rate: 5000, MaxEvents: 600})
		require.NoError(t, err)
	}()
	go func() {
		defer wg.Done()
		rc := restClient(t, s)
		g := s.Guilds()[0]
		for i := 0; i < 40; i++ {
			_, _ = rc.GetGuild(g.ID.Snowflake(), true)
			_, _ = rc.CreateMessage(g.Channels["general"].Snowflake(), discord.MessageCreate{Content: "concurrent"})
			_, _ = rc.GetMessages(g.Channels["general"].Snowflake(), 0, 0, 0, 50)
		}
	}()
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		f := s.Faults()
		// Raw clients ignore op 7 / op 9, so use the non-waiting fault methods.
		faults := []func(int) int{f.Zombie, f.Reconnect, func(sh int) int { return f.InvalidSession(sh, true) }}
		for i := 0; i < 20; i++ {
			faults[rng.IntN(len(faults))](rng.IntN(2))
			_ = s.Stats()
			_ = s.GroundTruthSince(uint64(i*10), 10)
		}
		_, err := s.ApplyFault(ctx, FaultRequest{Kind: FaultDrop, Shard: 1})
		require.NoError(t, err)
	}()
	wg.Wait()
	cancel()
	require.NoError(t, s.Close()) // ends the raw clients' readers
	clients.Wait()

	// Every record's deliveries point at sessions with increasing sequences.
	last := map[string]int{}
	for _, r := range s.GroundTruth() {
		for _, d := range r.Deliveries {
			require.Greater(t, d.Seq, last[d.SessionID], "sequence increases per session")
			last[d.SessionID] = d.Seq
		}
	}
	recvMu.Lock()
	defer recvMu.Unlock()
	for i, n := range received {
		require.Positive(t, n, "client %d received frames", i)
	}
}
