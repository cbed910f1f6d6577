package discordsim

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"
	"time"
)

// Delivery is one session's copy of a recorded dispatch: the sequence number
// it was assigned there. A client that saw (SessionID, Seq) got the event.
type Delivery struct {
	SessionID string `json:"session_id"`
	Seq       int    `json:"seq"`
}

// Record is the ground truth of one dispatched event. Index orders all
// events of the server; Key is the event's natural key (see doc.go).
type Record struct {
	Index      uint64     `json:"index"`
	Time       time.Time  `json:"time"`
	GuildID    ID         `json:"guild_id"`
	Shard      int        `json:"shard"`
	Type       string     `json:"type"`
	Key        string     `json:"key"`
	Repeat     bool       `json:"repeat,omitempty"`
	Deliveries []Delivery `json:"deliveries"`
}

// groundTruth keeps every record in memory and optionally appends NDJSON to a file.
type groundTruth struct {
	mu      sync.Mutex
	records []Record
	dropped uint64 // records trimmed from the front; records[0].Index == dropped+1
	limit   int
	file    *os.File
	w       *bufio.Writer
	enc     *json.Encoder
}

func newGroundTruth(path string, limit int) (*groundTruth, error) {
	gt := &groundTruth{limit: limit}
	if path == "" {
		return gt, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	gt.file = f
	gt.w = bufio.NewWriterSize(f, 64<<10)
	gt.enc = json.NewEncoder(gt.w)
	return gt, nil
}

// add appends r; the caller holds the server's dispatch lock, so Index order
// equals the order sessions were assigned sequence numbers.
func (g *groundTruth) add(r Record) {
	g.mu.Lock()
	r.Index = g.dropped + uint64(len(g.records)) + 1
	if g.limit > 0 && len(g.records) >= 2*g.limit {
		// Trim in bulk so recording stays amortised O(1).
		cut := len(g.records) - g.limit
		g.records = append(g.records[:0:0], g.records[cut:]...)
		g.dropped += uint64(cut)
	}
	g.records = append(g.records, r)
	if g.enc != nil {
		_ = g.enc.Encode(r) // best effort: the in-memory copy is authoritative
	}
	g.mu.Unlock()
}

// since returns records with Index > after, at most limit (0 = all). If
// older records were trimmed, the first returned Index is greater than after+1.
func (g *groundTruth) since(after uint64, limit int) []Record {
	g.mu.Lock()
	defer g.mu.Unlock()
	start := uint64(0)
	if after > g.dropped {
		start = after - g.dropped
	}
	if start >= uint64(len(g.records)) {
		return []Record{}
	}
	out := g.records[start:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return append([]Record(nil), out...)
}

// len is the number of records ever added (the last Index).
func (g *groundTruth) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int(g.dropped) + len(g.records)
}

func (g *groundTruth) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.file == nil {
		return nil
	}
	err := g.w.Flush()
	if cerr := g.file.Close(); err == nil {
		err = cerr
	}
	g.file = nil
	g.enc = nil
	return err
}
