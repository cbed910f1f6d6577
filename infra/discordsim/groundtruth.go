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

// gtChunk is the ground-truth block size: records live in fixed blocks so
// recording never copies the history (a single growing slice did, and it
// dominated the dispatch profile).
const gtChunk = 4096

// groundTruth keeps recent records in memory and optionally appends NDJSON to a file.
type groundTruth struct {
	mu      sync.Mutex
	chunks  [][]Record
	total   uint64 // records ever added; the last Index
	dropped uint64 // records trimmed from the front, a multiple of gtChunk
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
	g.total++
	r.Index = g.total
	if n := len(g.chunks); n == 0 || len(g.chunks[n-1]) == gtChunk {
		g.chunks = append(g.chunks, make([]Record, 0, gtChunk))
	}
	last := len(g.chunks) - 1
	g.chunks[last] = append(g.chunks[last], r)
	if g.limit > 0 && g.total-g.dropped > uint64(g.limit)+gtChunk {
		g.chunks[0] = nil
		g.chunks = g.chunks[1:]
		g.dropped += gtChunk
	}
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
	start := max(after, g.dropped)
	if start >= g.total {
		return []Record{}
	}
	n := g.total - start
	if limit > 0 && uint64(limit) < n {
		n = uint64(limit)
	}
	out := make([]Record, 0, n)
	idx := start - g.dropped
	for ci := idx / gtChunk; ci < uint64(len(g.chunks)) && uint64(len(out)) < n; ci++ {
		chunk := g.chunks[ci]
		if ci == idx/gtChunk {
			chunk = chunk[idx%gtChunk:]
		}
		out = append(out, chunk[:min(uint64(len(chunk)), n-uint64(len(out)))]...)
	}
	return out
}

// len is the number of records ever added (the last Index).
func (g *groundTruth) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int(g.total)
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
