package discordsim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

const (
	gatewayPath = "/gateway"
	resumePath  = "/gateway-resume"
)

// serveGateway upgrades a gateway or resume-gateway request and runs the
// connection. Query parameters follow Discord: v=10, encoding=json and an
// optional compress=zstd-stream|zlib-stream.
func (s *Server) serveGateway(via string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if via == "resume" && s.faults.takeRefuseResume() {
			s.stats.refused.Add(1)
			http.Error(w, "resume gateway unavailable (fault)", http.StatusServiceUnavailable)
			return
		}
		q := r.URL.Query()
		compress := q.Get("compress")
		if compress != CompressNone && compress != CompressZstd && compress != CompressZlib {
			http.Error(w, "unsupported compress", http.StatusBadRequest)
			return
		}
		ws, err := s.upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // the upgrader already answered
		}
		s.stats.connects.Add(1)
		nc := ws.NetConn()
		bw := bufio.NewWriterSize(nc, 64<<10)
		fw, err := newFrameWriter(bw, compress)
		if err != nil {
			_ = nc.Close()
			return
		}
		c := &gwConn{
			srv: s, id: s.connSeq.Add(1), ws: ws, nc: nc, fw: fw, viaURL: via,
			wake: make(chan struct{}, 1), readerDone: make(chan struct{}), done: make(chan struct{}),
		}
		c.log = s.log.With(slog.Uint64("conn", c.id), slog.String("via", via))
		ws.SetReadLimit(1 << 20) // oversize payloads get 4002 from handlePayload
		ws.SetPingHandler(func(d string) error {
			c.enqueue(outItem{kind: itemPong, d: []byte(d)})
			return nil
		})
		ws.SetCloseHandler(func(code int, _ string) error {
			// Echo the client's close frame, as RFC 6455 asks.
			if code == websocket.CloseNoStatusReceived {
				code = websocket.CloseNormalClosure
			}
			c.enqueue(outItem{kind: itemClose, code: code})
			return nil
		})
		if !s.trackConn(c) {
			_ = nc.Close()
			return
		}
		go c.writeLoop(bw)

		if v := q.Get("v"); v != "" && v != "10" {
			c.closeWith(CloseInvalidAPIVersion, "Invalid API version")
		} else if e := q.Get("encoding"); e != "" && e != "json" {
			c.closeWith(CloseDecodeError, "Unsupported encoding")
		} else {
			hello := fmt.Appendf(nil, `{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":%d}}`,
				s.cfg.HeartbeatInterval.Milliseconds())
			c.sendRaw(hello)
			c.armWatchdog()
		}
		c.readLoop()
		<-c.done
	}
}

type identifyData struct {
	Token          string  `json:"token"`
	Intents        *int    `json:"intents"`
	Shard          *[2]int `json:"shard"`
	LargeThreshold int     `json:"large_threshold"`
}

func (s *Server) tokenOK(tok string) bool {
	return strings.TrimPrefix(tok, "Bot ") == s.token
}

func (s *Server) handleIdentify(c *gwConn, raw json.RawMessage) {
	var d identifyData
	if err := json.Unmarshal(raw, &d); err != nil || d.Intents == nil {
		c.closeWith(CloseDecodeError, "Error while decoding payload")
		return
	}
	if !s.tokenOK(d.Token) {
		c.closeWith(CloseAuthenticationFailed, "Authentication failed")
		return
	}
	shard := [2]int{0, 1}
	if d.Shard != nil {
		shard = *d.Shard
	}
	if shard[1] < 1 || shard[0] < 0 || shard[0] >= shard[1] {
		c.closeWith(CloseInvalidShard, "Invalid shard")
		return
	}
	if s.guildsOnShard(shard[0], shard[1]) > s.cfg.MaxGuildsPerShard {
		c.closeWith(CloseShardingRequired, "Sharding required")
		return
	}
	intents := *d.Intents
	if intents < 0 || intents&^knownIntents != 0 {
		c.closeWith(CloseInvalidIntents, "Invalid intent(s)")
		return
	}
	if intents&PrivilegedIntents&^s.cfg.PrivilegedIntents != 0 {
		c.closeWith(CloseDisallowedIntents, "Disallowed intent(s)")
		return
	}
	if ok, why := s.limiter.take(shard[0]); !ok {
		c.log.Info("identify rejected", slog.Int("shard_id", shard[0]), slog.String("reason", string(why)))
		c.sendRaw(frameInvalidFalse)
		return
	}
	lt := d.LargeThreshold
	if lt < 50 || lt > 250 {
		lt = 50
	}
	sess := &session{
		id: s.newSessionID(), shardID: shard[0], shardCount: shard[1],
		intents: intents, largeThreshold: lt, cap: s.cfg.ResumeBufferSize, conn: c,
	}
	c.sess.Store(sess)
	c.authed = true

	// Holding the dispatch lock makes READY + GUILD_CREATEs a consistent
	// snapshot: no guild event can slip between them and the session's start.
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	ready, creates := s.readyPayloads(sess)
	s.hub.add(sess)
	s.logSession(SessionIdentified, sess, 0, "")
	sess.mu.Lock()
	sess.pushLocked("READY", plain(ready))
	for _, gc := range creates {
		sess.pushLocked("GUILD_CREATE", plain(gc))
	}
	sess.mu.Unlock()
	c.log.Info("session identified", slog.String("session_id", sess.id),
		slog.Int("shard_id", shard[0]), slog.Int("shard_count", shard[1]), slog.Int("guilds", len(creates)))
}

func (s *Server) guildsOnShard(shardID, count int) int {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	n := 0
	for _, g := range s.world.guilds {
		if g.BotPresent && ShardFor(g.ID, count) == shardID {
			n++
		}
	}
	return n
}

type unavailableGuild struct {
	ID          ID   `json:"id"`
	Unavailable bool `json:"unavailable"`
}

// readyPayloads encodes READY and one GUILD_CREATE per guild of the shard.
func (s *Server) readyPayloads(sess *session) ([]byte, [][]byte) {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	var guilds []unavailableGuild
	var creates [][]byte
	for _, gid := range s.world.order {
		g := s.world.guilds[gid]
		if !g.BotPresent || !sess.ownsGuild(gid) {
			continue
		}
		guilds = append(guilds, unavailableGuild{ID: gid, Unavailable: true})
		creates = append(creates, mustJSON(g.gatewayGuildLocked(sess.intents, sess.largeThreshold)))
	}
	if guilds == nil {
		guilds = []unavailableGuild{}
	}
	ready := map[string]any{
		"v":                       10,
		"user":                    s.world.botUser,
		"guilds":                  guilds,
		"session_id":              sess.id,
		"session_type":            "normal",
		"resume_gateway_url":      s.wsBase() + resumePath,
		"shard":                   [2]int{sess.shardID, sess.shardCount},
		"application":             map[string]any{"id": s.world.appID, "flags": s.appFlags()},
		"private_channels":        []any{},
		"presences":               []any{},
		"relationships":           []any{},
		"guild_join_requests":     []any{},
		"user_settings":           map[string]any{},
		"geo_ordered_rtc_regions": []string{"us-east"},
	}
	return mustJSON(ready), creates
}

type resumeData struct {
	Token     string `json:"token"`
	SessionID string `json:"session_id"`
	Seq       *int   `json:"seq"`
}

func (s *Server) handleResume(c *gwConn, raw json.RawMessage) {
	var d resumeData
	if err := json.Unmarshal(raw, &d); err != nil || d.SessionID == "" || d.Seq == nil {
		c.closeWith(CloseDecodeError, "Error while decoding payload")
		return
	}
	if !s.tokenOK(d.Token) {
		c.closeWith(CloseAuthenticationFailed, "Authentication failed")
		return
	}
	sess := s.hub.get(d.SessionID)
	if sess == nil {
		s.refuseResume(c, d.SessionID, *d.Seq)
		return
	}
	sess.mu.Lock()
	if sess.dead || !sess.replayableLocked(*d.Seq) {
		sess.mu.Unlock()
		s.refuseResume(c, d.SessionID, *d.Seq)
		return
	}
	old := sess.conn
	sess.conn = c
	c.sess.Store(sess)
	c.authed = true
	missed := sess.eventsAfterLocked(*d.Seq)
	for _, ev := range missed {
		c.enqueueDispatch(ev.seq, ev.typ, ev.d)
	}
	// RESUMED repeats the current sequence rather than taking a new one: the
	// client stores `s` of every dispatch, and the next resume must not skip.
	c.enqueueDispatch(sess.seq, "RESUMED", plain([]byte(`{"_trace":["discordsim"]}`)))
	sess.mu.Unlock()
	if old != nil && old != c {
		old.closeWith(CloseUnknownError, "Session resumed on another connection")
	}
	s.stats.resumes.Add(1)
	s.logSession(SessionResumed, sess, *d.Seq, "")
	c.log.Info("session resumed", slog.String("session_id", sess.id), slog.Int("from_seq", *d.Seq), slog.Int("replayed", len(missed)))
}

// refuseResume answers a RESUME that cannot be honoured with op 9 false,
// and logs why (the cause of the session's end, when it was ended).
func (s *Server) refuseResume(c *gwConn, id string, seq int) {
	s.stats.resumesFailed.Add(1)
	e := SessionEvent{Index: uint64(s.gt.len()), Time: s.clock.Now(), Kind: SessionResumeRefused, SessionID: id, Shard: -1, Seq: seq, Cause: "unknown_session"}
	if end, ok := s.sessLog.ended(id); ok {
		e.Shard, e.Cause = end.Shard, end.Cause
	} else if sess := s.hub.get(id); sess != nil {
		e.Shard, e.Cause = sess.shardID, "not_replayable"
	}
	s.sessLog.add(e)
	c.sendRaw(frameInvalidFalse)
}

// invalidateSession ends a session: it can no longer be resumed. cause is
// one of the Cause* constants.
func (s *Server) invalidateSession(sess *session, cause string) {
	sess.mu.Lock()
	sess.dead = true
	last := sess.seq
	sess.mu.Unlock()
	s.logSession(SessionInvalidated, sess, last, cause) // before a RESUME can find it gone
	s.hub.remove(sess)
	s.signalWritten() // a generator waiting for it to resume stops waiting
}

// expireSessions removes sessions detached for longer than SessionTTL.
func (s *Server) expireSessions(now time.Time) {
	for _, sess := range s.hub.all() {
		sess.mu.Lock()
		expired := sess.conn == nil && !sess.detachedAt.IsZero() && now.Sub(sess.detachedAt) > s.cfg.SessionTTL
		sess.mu.Unlock()
		if expired {
			s.invalidateSession(sess, CauseExpired)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("discordsim: encoding %T: %v", v, err)) // only our own types reach here
	}
	return b
}
