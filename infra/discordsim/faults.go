package discordsim

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault kinds, as used by scenarios and the admin API.
const (
	FaultDrop           = "drop_connection"
	FaultZombie         = "zombie"
	FaultReconnect      = "reconnect"
	FaultInvalidSession = "invalid_session"
	FaultClose          = "close"
	FaultRefuseResume   = "refuse_resume"
	FaultRESTSlow       = "rest_slow"
	FaultREST429        = "rest_429"
	FaultREST5xx        = "rest_5xx"
)

// RESTFault makes matching REST requests slow or fail. A request matches if
// Method (empty: any) and PathPrefix (relative to /api/v10, empty: any) match.
// Count is how many requests it applies to (0: until cleared).
type RESTFault struct {
	Kind       string        `json:"kind"`
	Method     string        `json:"method,omitempty"`
	PathPrefix string        `json:"path_prefix,omitempty"`
	Count      int           `json:"count,omitempty"`
	Delay      time.Duration `json:"delay,omitempty"`
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	Global     bool          `json:"global,omitempty"`
	Status     int           `json:"status,omitempty"`
}

// Faults injects gateway and REST failures. Gateway faults apply to the
// connections live at call time on sessions of the given shard id, and
// return how many connections they hit.
type Faults struct {
	s *Server

	mu           sync.Mutex
	refuseResume int
	rest         []*RESTFault
}

func (f *Faults) liveConns(shard int) []*gwConn {
	var out []*gwConn
	f.s.hub.forShard(shard, func(sess *session) {
		sess.mu.Lock()
		if sess.conn != nil {
			out = append(out, sess.conn)
		}
		sess.mu.Unlock()
	})
	return out
}

// DropConnection closes the TCP connections without a close frame.
func (f *Faults) DropConnection(shard int) int {
	cs := f.liveConns(shard)
	for _, c := range cs {
		c.drop()
	}
	return len(cs)
}

// Zombie stops ACKing heartbeats on the current connections (new
// connections are healthy), so clients must detect the zombie and resume.
func (f *Faults) Zombie(shard int) int {
	cs := f.liveConns(shard)
	for _, c := range cs {
		c.zombie.Store(true)
	}
	return len(cs)
}

// Reconnect sends op 7 RECONNECT.
func (f *Faults) Reconnect(shard int) int {
	cs := f.liveConns(shard)
	for _, c := range cs {
		c.sendRaw(frameReconnect)
	}
	return len(cs)
}

// InvalidSession sends op 9; with resumable false the session is ended first.
func (f *Faults) InvalidSession(shard int, resumable bool) int {
	cs := f.liveConns(shard)
	for _, c := range cs {
		if resumable {
			c.sendRaw(frameInvalidTrue)
			continue
		}
		if sess := c.sess.Load(); sess != nil {
			f.s.invalidateSession(sess, CauseFault)
		}
		c.sendRaw(frameInvalidFalse)
	}
	return len(cs)
}

// Close closes with the given code. Codes that end a session on Discord
// (4007 invalid seq, 4009 session timed out) end it here too.
func (f *Faults) Close(shard int, code int) int {
	cs := f.liveConns(shard)
	for _, c := range cs {
		if code == CloseInvalidSeq || code == CloseSessionTimedOut {
			if sess := c.sess.Load(); sess != nil {
				f.s.invalidateSession(sess, CauseFault)
			}
		}
		c.closeWith(code, "fault injected")
	}
	return len(cs)
}

// RefuseResume makes the next n connection attempts on resume_gateway_url
// fail with HTTP 503 (0 clears it).
func (f *Faults) RefuseResume(n int) {
	f.mu.Lock()
	f.refuseResume = n
	f.mu.Unlock()
}

func (f *Faults) takeRefuseResume() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuseResume > 0 {
		f.refuseResume--
		return true
	}
	return false
}

// AddREST installs a REST fault.
func (f *Faults) AddREST(r RESTFault) {
	f.mu.Lock()
	cp := r
	if cp.Kind == FaultREST5xx && cp.Status == 0 {
		cp.Status = http.StatusBadGateway
	}
	if cp.Kind == FaultREST429 && cp.RetryAfter == 0 {
		cp.RetryAfter = time.Second
	}
	f.rest = append(f.rest, &cp)
	f.mu.Unlock()
}

// ClearREST removes every REST fault.
func (f *Faults) ClearREST() {
	f.mu.Lock()
	f.rest = nil
	f.mu.Unlock()
}

// matchREST returns the faults that apply to this request, consuming counts.
func (f *Faults) matchREST(method, path string) []RESTFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []RESTFault
	kept := f.rest[:0]
	for _, r := range f.rest {
		if (r.Method == "" || strings.EqualFold(r.Method, method)) && strings.HasPrefix(path, r.PathPrefix) {
			out = append(out, *r)
			if r.Count > 0 {
				r.Count--
				if r.Count == 0 {
					continue
				}
			}
		}
		kept = append(kept, r)
	}
	f.rest = kept
	return out
}
