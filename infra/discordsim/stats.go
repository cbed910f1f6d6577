package discordsim

import (
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of the simulator's counters.
type Stats struct {
	Dispatches map[string]uint64 `json:"dispatches"`
	Deliveries uint64            `json:"deliveries"`
	Sessions   int               `json:"sessions"`
	// SessionsPerShard counts live sessions by "shard_id/shard_count".
	SessionsPerShard map[string]int `json:"sessions_per_shard"`
	LiveConnections  int            `json:"live_connections"`
	Identifies       IdentifyStats  `json:"identifies"`
	Resumes          uint64         `json:"resumes"`
	ResumesFailed    uint64         `json:"resumes_failed"`
	Heartbeats       uint64         `json:"heartbeats"`
	ClosesSent       map[int]uint64 `json:"closes_sent"`
	Connects         uint64         `json:"connects"`
	RefusedConnects  uint64         `json:"refused_connects"`
	RESTRequests     uint64         `json:"rest_requests"`
	REST429s         uint64         `json:"rest_429s"`
}

type stats struct {
	mu         sync.Mutex
	dispatches map[string]uint64
	closes     map[int]uint64

	deliveries    atomic.Uint64
	resumes       atomic.Uint64
	resumesFailed atomic.Uint64
	heartbeats    atomic.Uint64
	connects      atomic.Uint64
	refused       atomic.Uint64
	rest          atomic.Uint64
	rest429       atomic.Uint64
}

func newStats() *stats {
	return &stats{dispatches: map[string]uint64{}, closes: map[int]uint64{}}
}

func (s *stats) dispatched(typ string, deliveries int) {
	s.mu.Lock()
	s.dispatches[typ]++
	s.mu.Unlock()
	s.deliveries.Add(uint64(deliveries))
}

func (s *stats) closeSent(code int) {
	s.mu.Lock()
	s.closes[code]++
	s.mu.Unlock()
}

func (s *stats) heartbeat() { s.heartbeats.Add(1) }

func (s *stats) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Dispatches: map[string]uint64{}, ClosesSent: map[int]uint64{}}
	for k, v := range s.dispatches {
		out.Dispatches[k] = v
	}
	for k, v := range s.closes {
		out.ClosesSent[k] = v
	}
	out.Deliveries = s.deliveries.Load()
	out.Resumes = s.resumes.Load()
	out.ResumesFailed = s.resumesFailed.Load()
	out.Heartbeats = s.heartbeats.Load()
	out.Connects = s.connects.Load()
	out.RefusedConnects = s.refused.Load()
	out.RESTRequests = s.rest.Load()
	out.REST429s = s.rest429.Load()
	return out
}
