package discordsim

import (
	"sync"
	"time"
)

// bufferedEvent is a dispatch kept for replay; d is shared, never copied.
type bufferedEvent struct {
	seq int
	typ string
	d   payload
}

// session is a gateway session: it outlives connections until it is
// invalidated or stays detached longer than Config.SessionTTL.
type session struct {
	id             string
	shardID        int
	shardCount     int
	intents        int
	largeThreshold int
	// gtIndex is the session's id in ground truth, once recorded; both
	// are guarded by the server's dispatch lock.
	gtIndex  uint32
	recorded bool

	mu         sync.Mutex
	seq        int
	buf        []bufferedEvent // ascending seq, at most cap entries
	cap        int
	conn       *gwConn
	dead       bool
	detachedAt time.Time
	// detachedSeq is seq when the last connection detached: the events
	// since are what a resume will replay (see Server.awaitClients).
	detachedSeq int
}

func (s *session) ownsGuild(guildID ID) bool {
	return ShardFor(guildID, s.shardCount) == s.shardID
}

// pushLocked assigns the next sequence number, buffers the event for resume
// and hands it to the live connection, if any.
func (s *session) pushLocked(typ string, d payload) int {
	s.seq++
	if len(s.buf) >= 2*s.cap {
		// Compact in bulk so trimming is amortised O(1) per event.
		n := copy(s.buf, s.buf[len(s.buf)-s.cap:])
		clear(s.buf[n:])
		s.buf = s.buf[:n]
	}
	s.buf = append(s.buf, bufferedEvent{seq: s.seq, typ: typ, d: d})
	if s.conn != nil {
		s.conn.enqueueDispatch(s.seq, typ, d)
	}
	return s.seq
}

// replayableLocked reports whether every event after seq is still buffered.
func (s *session) replayableLocked(seq int) bool {
	if seq > s.seq || seq < 0 {
		return false
	}
	if seq == s.seq {
		return true
	}
	first := s.seq - len(s.buf) + 1 // seq of the oldest kept event
	return seq+1 >= first
}

// eventsAfterLocked returns buffered events with seq > after, in order.
func (s *session) eventsAfterLocked(after int) []bufferedEvent {
	if len(s.buf) == 0 {
		return nil
	}
	i := after - s.buf[0].seq + 1
	if i < 0 {
		i = 0
	}
	if i >= len(s.buf) {
		return nil
	}
	return s.buf[i:]
}

type shardKey struct{ count, id int }

// sessionHub indexes live sessions by id and by (shard count, shard id).
type sessionHub struct {
	mu      sync.RWMutex
	byID    map[string]*session
	byShard map[shardKey][]*session
	counts  map[int]int // shard count -> sessions using it, to route dispatches
}

func newSessionHub() *sessionHub {
	return &sessionHub{byID: map[string]*session{}, byShard: map[shardKey][]*session{}, counts: map[int]int{}}
}

func (h *sessionHub) add(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.byID[s.id] = s
	k := shardKey{s.shardCount, s.shardID}
	h.byShard[k] = append(h.byShard[k], s)
	h.counts[s.shardCount]++
}

func (h *sessionHub) get(id string) *session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.byID[id]
}

func (h *sessionHub) remove(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byID[s.id] != s {
		return
	}
	delete(h.byID, s.id)
	k := shardKey{s.shardCount, s.shardID}
	list := h.byShard[k]
	for i, x := range list {
		if x == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(h.byShard, k)
	} else {
		h.byShard[k] = list
	}
	if h.counts[s.shardCount]--; h.counts[s.shardCount] == 0 {
		delete(h.counts, s.shardCount)
	}
}

// awaitedAway reports whether a session whose connection is gone has
// backlog dispatches to replay while no other session of its shard is
// connected: its client is expected back (a worker that closed to resume
// later, or one taken over after dying), and a resume replays all of it.
// The generator's wait for it ends when it resumes, is invalidated or
// expires (those signal written too). It runs before every generated
// event: no allocation, one pass under the hub's read lock.
func (h *sessionHub) awaitedAway(backlog int) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, list := range h.byShard {
		connected, behind := false, false
		for _, s := range list {
			s.mu.Lock()
			connected = connected || s.conn != nil
			behind = behind || (!s.dead && s.conn == nil && !s.detachedAt.IsZero() && s.seq-s.detachedSeq >= backlog)
			s.mu.Unlock()
		}
		if behind && !connected {
			return true
		}
	}
	return false
}

// forGuild calls fn for every session whose shard owns guildID.
func (h *sessionHub) forGuild(guildID ID, fn func(*session)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for count := range h.counts {
		for _, s := range h.byShard[shardKey{count, ShardFor(guildID, count)}] {
			fn(s)
		}
	}
}

// forShard calls fn for every session with the given shard id (any count).
func (h *sessionHub) forShard(shardID int, fn func(*session)) {
	h.mu.RLock()
	list := make([]*session, 0, 4)
	for k, ss := range h.byShard {
		if k.id == shardID {
			list = append(list, ss...)
		}
	}
	h.mu.RUnlock()
	for _, s := range list {
		fn(s)
	}
}

func (h *sessionHub) all() []*session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*session, 0, len(h.byID))
	for _, s := range h.byID {
		out = append(out, s)
	}
	return out
}
