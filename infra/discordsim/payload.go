package discordsim

import "sync"

// payload is an encoded dispatch as sessions keep it for RESUME. Most
// are b alone; a message, reaction or voice state has its user and member
// objects (their biggest part, the same for every event of that member)
// cut out of b and spliced back in when written, kept once in an intern
// table. A load test keeps every dispatch for replay, and those objects
// were a third of the bytes.
type payload struct {
	b   []byte
	ins *[2]splice // ascending at; s "" when unused
}

// splice is s inserted at offset at of payload.b.
type splice struct {
	at int
	s  string
}

func plain(d []byte) payload { return payload{b: d} }

// appendTo appends the payload's bytes.
func (p payload) appendTo(dst []byte) []byte {
	if p.ins == nil {
		return append(dst, p.b...)
	}
	from := 0
	for _, in := range p.ins {
		if in.s == "" {
			continue
		}
		dst = append(dst, p.b[from:in.at]...)
		dst = append(dst, in.s...)
		from = in.at
	}
	return append(dst, p.b[from:]...)
}

// bytes is the payload in one piece (tests, blanking).
func (p payload) bytes() []byte {
	if p.ins == nil {
		return p.b
	}
	return p.appendTo(make([]byte, 0, p.len()))
}

func (p payload) len() int {
	n := len(p.b)
	if p.ins != nil {
		n += len(p.ins[0].s) + len(p.ins[1].s)
	}
	return n
}

// maxInterned bounds the intern table: past it the table starts over
// (payloads keep what they hold).
const maxInterned = 1 << 16

// interner keeps one copy of each user and member object encoded.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

func (in *interner) get(b []byte) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string, 1024)
	}
	s := string(b)
	in.m[s] = s
	return s
}

// cutPayload copies d out of the encoder's scratch buffer with the spans
// cut (at most two, ascending, not overlapping; [0,0] for none) interned.
func (s *Server) cutPayload(d []byte, cuts [2][2]int) payload {
	if cuts[0][1] == 0 && cuts[1][1] == 0 {
		return payload{b: clone(d)}
	}
	ins := new([2]splice)
	b := make([]byte, 0, len(d)-(cuts[0][1]-cuts[0][0])-(cuts[1][1]-cuts[1][0]))
	from := 0
	for i, c := range cuts {
		if c[1] == 0 {
			continue
		}
		b = append(b, d[from:c[0]]...)
		ins[i] = splice{at: len(b), s: s.interned.get(d[c[0]:c[1]])}
		from = c[1]
	}
	return payload{b: append(b, d[from:]...), ins: ins}
}

func clone(d []byte) []byte {
	out := make([]byte, len(d))
	copy(out, d)
	return out
}
