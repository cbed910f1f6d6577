package discordsim

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"time"
)

// Delivery is one session's copy of a recorded dispatch: the sequence number
// it was assigned there. A client that saw (SessionID, Seq) got the event.
type Delivery struct {
	SessionID string `json:"session_id"`
	Seq       int    `json:"seq"`
}

// Record is the ground truth of one dispatched event, or of one read of a
// guild channel's history (Type RecordHistoryRead). Index orders all
// records of the server; Key is the event's natural key (see doc.go).
type Record struct {
	Index   uint64    `json:"index"`
	Time    time.Time `json:"time"`
	GuildID ID        `json:"guild_id"`
	Shard   int       `json:"shard"`
	Type    string    `json:"type"`
	Key     string    `json:"key"`
	Repeat  bool      `json:"repeat,omitempty"`
	// ChannelID is the channel of a MESSAGE_CREATE, a MESSAGE_DELETE or a
	// history read.
	ChannelID ID `json:"channel_id,omitempty"`
	// After and Before bound a history read: it returned every message
	// of the channel with After < id < Before (0: unbounded) that
	// existed at its Index. See Covers.
	After      ID         `json:"after,omitempty"`
	Before     ID         `json:"before,omitempty"`
	Deliveries []Delivery `json:"deliveries"`
}

// RecordHistoryRead is the Type of a Record that is no dispatch: a GET
// /channels/{id}/messages of a guild channel (Key and ChannelID: the
// channel; no deliveries). Message creates and deletes change history and
// are recorded in one step, as reads are, so the order of the records is
// the order history saw them in: a read returned a message if and only if
// it Covers it, comes after its MESSAGE_CREATE and before its MESSAGE_DELETE
// (and history kept it: see Config.MaxHistoryPerChannel).
const RecordHistoryRead = "HISTORY_READ"

// IsDispatch reports whether r is a dispatched event rather than a history
// read: only dispatches are events a session can receive.
func (r *Record) IsDispatch() bool { return r.Type != RecordHistoryRead }

// Covers reports whether the history read r returned message id, if the
// message existed then.
func (r *Record) Covers(id ID) bool {
	return r.Type == RecordHistoryRead && id > r.After && (r.Before == 0 || id < r.Before)
}

// gtChunk is the ground-truth block size: records live in fixed blocks so
// recording never copies the history (a single growing slice did, and it
// dominated the dispatch profile).
const gtChunk = 4096

// gtDelivery is a Delivery as kept: the session by its index in
// groundTruth.sessions.
type gtDelivery struct {
	seq  int64
	sess uint32
}

// gtRec is a Record as kept in memory, a third of its size and without
// pointers, so the collector never scans the chunks (a load test keeps
// millions): the type, session ids and key texts are interned, the key
// is kept in parts and spelled out by since.
type gtRec struct {
	at    int64 // Time in Unix ns; the simulated clock is UTC without monotonic reading
	guild ID
	a, b  uint64     // key parts (recKey)
	first gtDelivery // valid if n > 0
	// more: the deliveries after the first start at gtBlock.more[more];
	// for a history read (gtRead, no deliveries), its bounds are
	// gtBlock.reads[more]. Reads are rare: a field of their own would
	// grow every record.
	more  uint32
	n     uint32 // deliveries
	str   uint32 // key text, an index in groundTruth.strs
	typ   uint16 // an index in groundTruth.types
	form  keyForm
	flags uint8 // gtRepeat, gtMute, gtDeaf, gtRead
}

const (
	gtRepeat = 1 << iota
	gtMute
	gtDeaf
	gtRead
)

type gtBlock struct {
	recs  []gtRec
	more  []gtDelivery
	reads []gtSpan
}

// gtSpan is what a history read covered: ids strictly between after and
// before (0: unbounded).
type gtSpan struct{ after, before ID }

// groundTruth keeps recent records in memory and optionally appends NDJSON to a file.
type groundTruth struct {
	mu      sync.Mutex
	blocks  []*gtBlock
	total   uint64 // records ever added; the last Index
	events  uint64 // dispatches among them (total less history reads)
	dropped uint64 // records trimmed from the front, a multiple of gtChunk
	limit   int
	shards  int // Record.Shard is derived from the guild

	types, strs, sessions []string
	typeIdx, strIdx       map[string]uint32

	file *os.File
	w    *bufio.Writer
	enc  *json.Encoder
}

func newGroundTruth(path string, limit, shards int) (*groundTruth, error) {
	gt := &groundTruth{limit: limit, shards: shards, strs: []string{""},
		typeIdx: map[string]uint32{}, strIdx: map[string]uint32{"": 0}}
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

// addSession interns a session id for deliveries; the caller holds the
// server's dispatch lock and keeps the index in the session.
func (g *groundTruth) addSession(id string) uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sessions = append(g.sessions, id)
	return uint32(len(g.sessions) - 1)
}

func intern(list *[]string, idx map[string]uint32, s string) uint32 {
	if i, ok := idx[s]; ok {
		return i
	}
	*list = append(*list, s)
	i := uint32(len(*list) - 1)
	idx[s] = i
	return i
}

// add records ev as delivered to ds; the caller holds the server's
// dispatch lock, so Index order equals the order sessions were assigned
// sequence numbers.
func (g *groundTruth) add(ev *event, ds []gtDelivery) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events++
	r := gtRec{at: ev.at.UnixNano(), guild: ev.guildID, a: ev.key.a, b: ev.key.b, form: ev.key.form,
		n: uint32(len(ds)), typ: uint16(intern(&g.types, g.typeIdx, ev.typ))}
	if ev.key.s != "" {
		r.str = intern(&g.strs, g.strIdx, ev.key.s)
	}
	if ev.repeat {
		r.flags |= gtRepeat
	}
	if ev.key.mute {
		r.flags |= gtMute
	}
	if ev.key.deaf {
		r.flags |= gtDeaf
	}
	b := g.block()
	if len(ds) > 0 {
		r.first = ds[0]
		r.more = uint32(len(b.more))
		b.more = append(b.more, ds[1:]...)
	}
	g.push(b, r)
}

// addRead records a read of a guild channel's history that covered the
// ids in sp. The caller holds the dispatch lock and the world's read
// lock, as message creates and deletes change history under the first.
func (g *groundTruth) addRead(at time.Time, guild, channel ID, sp gtSpan) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.block()
	r := gtRec{at: at.UnixNano(), guild: guild, a: uint64(channel), b: uint64(channel), form: keyInChannel,
		typ: uint16(intern(&g.types, g.typeIdx, RecordHistoryRead)), flags: gtRead, more: uint32(len(b.reads))}
	b.reads = append(b.reads, sp)
	g.push(b, r)
}

// block is the block the next record goes to; the caller holds mu.
func (g *groundTruth) block() *gtBlock {
	if n := len(g.blocks); n == 0 || len(g.blocks[n-1].recs) == gtChunk {
		g.blocks = append(g.blocks, &gtBlock{recs: make([]gtRec, 0, gtChunk)})
	}
	return g.blocks[len(g.blocks)-1]
}

// push appends r, the next record, to b (from block), trims the oldest
// block past the limit and writes r to the file; the caller holds mu.
func (g *groundTruth) push(b *gtBlock, r gtRec) {
	g.total++
	b.recs = append(b.recs, r)
	if g.limit > 0 && g.total-g.dropped > uint64(g.limit)+gtChunk {
		g.blocks[0] = nil
		g.blocks = g.blocks[1:]
		g.dropped += gtChunk
	}
	if g.enc != nil {
		rec, _, key := g.spell(g.total, b, &b.recs[len(b.recs)-1], make([]Delivery, 0, r.n), nil)
		rec.Key = string(key)
		_ = g.enc.Encode(rec) // best effort: the in-memory copy is authoritative
	}
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
	// One allocation for every key and one for every delivery, however
	// many records: callers take the whole run at once.
	nd := 0
	g.each(start, n, func(_ *gtBlock, r *gtRec) { nd += int(r.n) })
	ds := make([]Delivery, 0, nd)
	var keys strings.Builder
	var scratch []byte
	ends := make([]int, 0, n)
	g.each(start, n, func(b *gtBlock, r *gtRec) {
		var rec Record
		rec, ds, scratch = g.spell(start+uint64(len(out))+1, b, r, ds, scratch[:0])
		keys.Write(scratch)
		ends = append(ends, keys.Len())
		out = append(out, rec)
	})
	all, from := keys.String(), 0
	for i, end := range ends {
		out[i].Key, from = all[from:end], end
	}
	return out
}

// each calls fn for n records from the one after start (start >= dropped).
func (g *groundTruth) each(start, n uint64, fn func(*gtBlock, *gtRec)) {
	idx := start - g.dropped
	for bi := idx / gtChunk; bi < uint64(len(g.blocks)) && n > 0; bi++ {
		b := g.blocks[bi]
		from := uint64(0)
		if bi == idx/gtChunk {
			from = idx % gtChunk
		}
		for i := from; i < uint64(len(b.recs)) && n > 0; i++ {
			fn(b, &b.recs[i])
			n--
		}
	}
}

// spell expands r, whose Index is index, but for its Key: it appends its
// deliveries to ds (the Record's are a capped slice of it) and its key to key.
func (g *groundTruth) spell(index uint64, b *gtBlock, r *gtRec, ds []Delivery, key []byte) (Record, []Delivery, []byte) {
	k := recKey{a: r.a, b: r.b, s: g.strs[r.str], form: r.form, mute: r.flags&gtMute != 0, deaf: r.flags&gtDeaf != 0}
	from := len(ds)
	if r.n > 0 {
		ds = append(ds, Delivery{SessionID: g.sessions[r.first.sess], Seq: int(r.first.seq)})
		for _, d := range b.more[r.more : r.more+r.n-1] {
			ds = append(ds, Delivery{SessionID: g.sessions[d.sess], Seq: int(d.seq)})
		}
	}
	rec := Record{
		Index: index, Time: time.Unix(0, r.at).UTC(), GuildID: r.guild, Shard: ShardFor(r.guild, g.shards),
		Type: g.types[r.typ], Repeat: r.flags&gtRepeat != 0, Deliveries: ds[from:len(ds):len(ds)],
	}
	if r.form == keyInChannel {
		rec.ChannelID = ID(r.b)
	}
	if r.flags&gtRead != 0 {
		sp := b.reads[r.more]
		rec.After, rec.Before = sp.after, sp.before
	}
	return rec, ds, k.appendTo(key)
}

// len is the number of records ever added (the last Index).
func (g *groundTruth) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int(g.total)
}

// dispatches is the number of dispatch records ever added: len without
// the history reads.
func (g *groundTruth) dispatches() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int(g.events)
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
