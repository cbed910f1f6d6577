package discordsim

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// rawClient is a bare websocket client for protocol edge cases.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, url string) *rawClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url+"?v=10&encoding=json", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	c := &rawClient{t: t, ws: ws}
	hello := c.read()
	require.EqualValues(t, 10, hello["op"])
	return c
}

func (c *rawClient) send(v any) {
	c.t.Helper()
	var b []byte
	if raw, ok := v.(string); ok {
		b = []byte(raw)
	} else {
		var err error
		b, err = json.Marshal(v)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, c.ws.WriteMessage(websocket.TextMessage, b))
}

func (c *rawClient) read() map[string]any {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, b, err := c.ws.ReadMessage()
	require.NoError(c.t, err)
	var m map[string]any
	require.NoError(c.t, json.Unmarshal(b, &m))
	return m
}

// closeCode reads until the server closes and returns the close code.
func (c *rawClient) closeCode() int {
	c.t.Helper()
	require.NoError(c.t, c.ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	for {
		_, _, err := c.ws.ReadMessage()
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			require.True(c.t, ok, "expected a close frame, got %v", err)
			return ce.Code
		}
	}
}

func identify(token string, intents int, shard []int) map[string]any {
	d := map[string]any{"token": token, "intents": intents, "properties": map[string]string{"os": "linux"}}
	if shard != nil {
		d["shard"] = shard
	}
	return map[string]any{"op": 2, "d": d}
}

func TestProtocolBadInputGetsDiscordCloseCodes(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) {
		c.PrivilegedIntents = IntentGuildMembers // MESSAGE_CONTENT not enabled for this app
		c.MaxGuildsPerShard = 3
	})
	tok := s.Token()
	for _, tc := range []struct {
		name string
		send []any
		code int
	}{
		{"not json", []any{"{nope"}, CloseDecodeError},
		{"missing op", []any{`{"d":1}`}, CloseDecodeError},
		{"unknown opcode", []any{`{"op":42,"d":null}`}, CloseUnknownOpcode},
		{"presence before identify", []any{`{"op":3,"d":{"status":"online"}}`}, CloseNotAuthenticated},
		{"oversized payload", []any{fmt.Sprintf(`{"op":1,"d":null,"x":"%0*d"}`, 5000, 0)}, CloseDecodeError},
		{"heartbeat with object", []any{`{"op":1,"d":{"a":1}}`}, CloseDecodeError},
		{"identify with bad token", []any{identify("bad.token", 1, []int{0, 2})}, CloseAuthenticationFailed},
		{"identify without intents", []any{`{"op":2,"d":{"token":"` + tok + `"}}`}, CloseDecodeError},
		{"invalid intents", []any{identify(tok, 1<<30, []int{0, 2})}, CloseInvalidIntents},
		{"disallowed privileged intent", []any{identify(tok, IntentGuilds|IntentMessageContent, []int{0, 2})}, CloseDisallowedIntents},
		{"shard id out of range", []any{identify(tok, 1, []int{2, 2})}, CloseInvalidShard},
		{"zero shard count", []any{identify(tok, 1, []int{0, 0})}, CloseInvalidShard},
		{"sharding required", []any{identify(tok, 1, nil)}, CloseShardingRequired},
		{"resume with bad token", []any{map[string]any{"op": 6, "d": map[string]any{"token": "x", "session_id": "s", "seq": 1}}}, CloseAuthenticationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dialRaw(t, s.GatewayURL())
			for _, p := range tc.send {
				c.send(p)
			}
			require.Equal(t, tc.code, c.closeCode())
		})
	}
}

func TestProtocolSessionLifecycle(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.SendLimit = 5; c.IdentifyInterval = time.Nanosecond })
	tok := s.Token()

	t.Run("identify twice is 4005", func(t *testing.T) {
		c := dialRaw(t, s.GatewayURL())
		c.send(identify(tok, IntentGuilds, []int{1, 2}))
		ready := c.read()
		require.Equal(t, "READY", ready["t"])
		require.EqualValues(t, 1, ready["s"])
		c.send(identify(tok, IntentGuilds, []int{1, 2}))
		require.Equal(t, CloseAlreadyAuthenticated, c.closeCode())
	})

	t.Run("more than SendLimit payloads is 4008", func(t *testing.T) {
		c := dialRaw(t, s.GatewayURL())
		for i := 0; i < 6; i++ {
			c.send(`{"op":1,"d":null}`)
		}
		require.Equal(t, CloseRateLimited, c.closeCode())
	})

	t.Run("resume of unknown session is op 9 false", func(t *testing.T) {
		c := dialRaw(t, s.ResumeGatewayURL())
		c.send(map[string]any{"op": 6, "d": map[string]any{"token": tok, "session_id": "nope", "seq": 3}})
		m := c.read()
		require.EqualValues(t, 9, m["op"])
		require.Equal(t, false, m["d"])
	})

	t.Run("resume with a future sequence is op 9 false; a valid one replays", func(t *testing.T) {
		c := dialRaw(t, s.GatewayURL())
		c.send(identify(tok, IntentGuilds|IntentGuildMessages, []int{0, 2}))
		ready := c.read()
		require.Equal(t, "READY", ready["t"])
		sid := ready["d"].(map[string]any)["session_id"].(string)
		resumeURL := ready["d"].(map[string]any)["resume_gateway_url"].(string)
		require.Equal(t, s.ResumeGatewayURL(), resumeURL)
		n := len(ready["d"].(map[string]any)["guilds"].([]any))
		for i := 0; i < n; i++ {
			require.Equal(t, "GUILD_CREATE", c.read()["t"])
		}
		require.NoError(t, c.ws.Close()) // abnormal close: session stays resumable

		bad := dialRaw(t, resumeURL)
		bad.send(map[string]any{"op": 6, "d": map[string]any{"token": tok, "session_id": sid, "seq": 1000}})
		m := bad.read()
		require.EqualValues(t, 9, m["op"])
		require.Equal(t, false, m["d"])

		good := dialRaw(t, resumeURL)
		good.send(map[string]any{"op": 6, "d": map[string]any{"token": tok, "session_id": sid, "seq": 1}})
		for i := 0; i < n; i++ {
			m := good.read()
			require.Equal(t, "GUILD_CREATE", m["t"], "replay of everything after seq 1")
			require.EqualValues(t, 2+i, m["s"])
		}
		m = good.read()
		require.Equal(t, "RESUMED", m["t"])
		require.EqualValues(t, 1+n, m["s"])
	})
}

func TestProtocolDailyIdentifyBudget(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.IdentifyInterval = time.Nanosecond })
	s.SetIdentifyRemaining(1)
	c := dialRaw(t, s.GatewayURL())
	c.send(identify(s.Token(), IntentGuilds, []int{0, 2}))
	require.Equal(t, "READY", c.read()["t"])
	c2 := dialRaw(t, s.GatewayURL())
	c2.send(identify(s.Token(), IntentGuilds, []int{1, 2}))
	m := c2.read()
	require.EqualValues(t, 9, m["op"])
	require.Equal(t, false, m["d"])
	st := s.Stats().Identifies
	require.Zero(t, st.Remaining)
	require.Equal(t, 1, st.RejectedBudget)
	require.Positive(t, st.ResetAfterMS)
}

// TestProtocolIdentifyBucketDiscordDefault uses Discord's real 5 s window:
// a second identify in bucket shard_id % max_concurrency gets op 9 false,
// one in another bucket does not.
func TestProtocolIdentifyBucketDiscordDefault(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.IdentifyInterval = 5 * time.Second; c.MaxConcurrency = 2; c.Shards = 4 })
	tok := s.Token()
	first := dialRaw(t, s.GatewayURL())
	first.send(identify(tok, IntentGuilds, []int{0, 4}))
	require.Equal(t, "READY", first.read()["t"])

	sameBucket := dialRaw(t, s.GatewayURL())
	sameBucket.send(identify(tok, IntentGuilds, []int{2, 4})) // 2 % 2 == 0
	m := sameBucket.read()
	require.EqualValues(t, 9, m["op"])
	require.Equal(t, false, m["d"])

	otherBucket := dialRaw(t, s.GatewayURL())
	otherBucket.send(identify(tok, IntentGuilds, []int{1, 4}))
	require.Equal(t, "READY", otherBucket.read()["t"])

	st := s.Stats().Identifies
	require.Equal(t, map[int]int{0: 1, 1: 1}, st.AcceptedPerBkt)
	require.Equal(t, map[int]int{0: 1}, st.RejectedPerBkt)
	require.Equal(t, 998, st.Remaining, "refused identifies do not spend the budget")
}

// identifyRaw identifies a raw client and drains READY and GUILD_CREATEs.
func identifyRaw(t *testing.T, s *Server, shard []int) (*rawClient, string, int) {
	t.Helper()
	c := dialRaw(t, s.GatewayURL())
	c.send(identify(s.Token(), IntentGuilds, shard))
	ready := c.read()
	require.Equal(t, "READY", ready["t"])
	d := ready["d"].(map[string]any)
	n := len(d["guilds"].([]any))
	for i := 0; i < n; i++ {
		require.Equal(t, "GUILD_CREATE", c.read()["t"])
	}
	return c, d["session_id"].(string), 1 + n
}

func TestProtocolSessionEnds(t *testing.T) {
	t.Parallel()
	resume := func(t *testing.T, s *Server, sid string, seq int) map[string]any {
		c := dialRaw(t, s.ResumeGatewayURL())
		c.send(map[string]any{"op": 6, "d": map[string]any{"token": s.Token(), "session_id": sid, "seq": seq}})
		return c.read()
	}
	t.Run("client close 1000 ends the session", func(t *testing.T) {
		t.Parallel()
		s := setup(t, nil)
		c, sid, seq := identifyRaw(t, s, []int{0, 2})
		require.NoError(t, c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye")))
		require.Equal(t, 1000, c.closeCode(), "server echoes the close")
		require.Eventually(t, func() bool { return s.Stats().Sessions == 0 }, 5*time.Second, 10*time.Millisecond)
		m := resume(t, s, sid, seq)
		require.EqualValues(t, 9, m["op"])
		require.Equal(t, false, m["d"])
	})
	t.Run("client close 4000 keeps it resumable", func(t *testing.T) {
		t.Parallel()
		s := setup(t, nil)
		c, sid, seq := identifyRaw(t, s, []int{0, 2})
		require.NoError(t, c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "brb")))
		require.Equal(t, 4000, c.closeCode())
		m := resume(t, s, sid, seq)
		require.Equal(t, "RESUMED", m["t"])
		require.EqualValues(t, seq, m["s"])
	})
	t.Run("detached longer than SessionTTL expires", func(t *testing.T) {
		t.Parallel()
		s := setup(t, func(c *Config) { c.SessionTTL = 100 * time.Millisecond })
		c, sid, seq := identifyRaw(t, s, []int{0, 2})
		require.NoError(t, c.ws.Close())
		require.Eventually(t, func() bool { return s.Stats().Sessions == 0 }, 5*time.Second, 20*time.Millisecond)
		m := resume(t, s, sid, seq)
		require.EqualValues(t, 9, m["op"])
	})
	t.Run("no heartbeat for two intervals is 4009", func(t *testing.T) {
		t.Parallel()
		s := setup(t, func(c *Config) { c.HeartbeatInterval = 100 * time.Millisecond })
		c, _, _ := identifyRaw(t, s, []int{0, 2})
		require.Equal(t, CloseSessionTimedOut, c.closeCode())
		require.Zero(t, s.Stats().Sessions, "4009 ends the session")
	})
}
