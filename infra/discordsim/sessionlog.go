package discordsim

import (
	"sync"
	"time"
)

// Session log kinds.
const (
	SessionIdentified    = "identified"
	SessionResumed       = "resumed"
	SessionResumeRefused = "resume_refused"
	SessionInvalidated   = "invalidated"
)

// Why a session was invalidated (SessionEvent.Cause).
const (
	// CauseFault: the server ended it (an injected op 9 false, or a close
	// 4007/4009), as Discord may at any time.
	CauseFault = "fault"
	// CauseClientClose: the client closed with 1000/1001, which ends a
	// session on Discord.
	CauseClientClose = "client_close"
	// CauseHeartbeatTimeout: a connected client sent no heartbeat for two
	// intervals.
	CauseHeartbeatTimeout = "heartbeat_timeout"
	// CauseExpired: no client resumed it within Config.SessionTTL.
	CauseExpired = "expired"
)

// SessionEvent is the ground truth of a session's life. Which dispatches a
// client can still get after losing its connection depends on it: Discord
// replays a session's events after the sequence a RESUME names, and never
// once the session is invalidated.
type SessionEvent struct {
	// Index is the last ground-truth record when it happened.
	Index     uint64    `json:"index"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	SessionID string    `json:"session_id"`
	Shard     int       `json:"shard"`
	// Seq: for a resume (done or refused), the sequence the client asked to
	// resume from (it has every event up to it); for an invalidation, the
	// session's last sequence.
	Seq int `json:"seq"`
	// Cause: for an invalidation, why (Cause* constants); for a refused
	// resume, the cause of the invalidation that ended the session, or
	// "unknown_session" / "not_replayable".
	Cause string `json:"cause,omitempty"`
}

type sessionLog struct {
	mu      sync.Mutex
	events  []SessionEvent
	endedBy map[string]SessionEvent // session id -> its invalidation
}

func newSessionLog() *sessionLog { return &sessionLog{endedBy: map[string]SessionEvent{}} }

func (l *sessionLog) add(e SessionEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Kind == SessionInvalidated {
		if _, done := l.endedBy[e.SessionID]; done {
			return // ended once; later calls change nothing
		}
		l.endedBy[e.SessionID] = e
	}
	l.events = append(l.events, e)
}

// ended returns the invalidation of a session, if it was invalidated.
func (l *sessionLog) ended(id string) (SessionEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.endedBy[id]
	return e, ok
}

func (l *sessionLog) all() []SessionEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]SessionEvent, len(l.events))
	copy(out, l.events)
	return out
}

// SessionLog returns every session's identify, resumes, refused resumes and
// invalidation, in the order they happened.
func (s *Server) SessionLog() []SessionEvent { return s.sessLog.all() }

func (s *Server) logSession(kind string, sess *session, seq int, cause string) {
	s.sessLog.add(SessionEvent{Index: uint64(s.gt.len()), Time: s.clock.Now(), Kind: kind,
		SessionID: sess.id, Shard: sess.shardID, Seq: seq, Cause: cause})
}

// Unreplayed is what a crashed client loses for good: the records whose
// every delivery is on a session after the sequence a client asked to
// resume it from, where the server refused the resume because it had ended
// the session itself (CauseFault). No client can get those events any more:
// the one that read them (if any did) is gone without having kept them, as
// its successor's resume says, and Discord never replays an invalidated
// session. A session ended by the client (a 1000 close), by missed
// heartbeats or by a resume that came too late is the client's doing, and
// its events are not excused here.
//
// WithoutUnreplayed returns records with those deliveries removed (a copy;
// records is not modified), so that they count as undelivered, and how many
// records were left with no delivery by it.
func WithoutUnreplayed(records []Record, log []SessionEvent) ([]Record, int) {
	ended := map[string]bool{}
	from := map[string]int{} // session -> the highest seq a refused resume named
	for _, e := range log {
		switch {
		case e.Kind == SessionInvalidated && e.Cause == CauseFault:
			ended[e.SessionID] = true
		case e.Kind == SessionResumeRefused && e.Cause == CauseFault:
			if seq, ok := from[e.SessionID]; !ok || e.Seq > seq {
				from[e.SessionID] = e.Seq
			}
		}
	}
	out := make([]Record, len(records))
	copy(out, records)
	if len(from) == 0 {
		return out, 0
	}
	n := 0
	for i, r := range out {
		var keep []Delivery
		cut := false
		for _, d := range r.Deliveries {
			if seq, ok := from[d.SessionID]; ok && ended[d.SessionID] && d.Seq > seq {
				cut = true
				continue
			}
			keep = append(keep, d)
		}
		if !cut {
			continue
		}
		if keep == nil {
			keep = []Delivery{}
			n++
		}
		out[i].Deliveries = keep
	}
	return out, n
}
