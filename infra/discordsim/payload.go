package discordsim

// payload is an encoded dispatch as sessions keep it for RESUME. Most
// are b alone; a message, reaction or voice state has its user and member
// objects (their biggest part, the same for every event of that member)
// cut out of b and spliced back in when written, kept once on the
// user or member record (see share). A load test keeps every dispatch for replay, and those objects
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

// cut is a span of the encoder's buffer to share, with memo, the field
// of the user or member record it was encoded from that holds the shared
// copy (nil: not shared).
type cut struct {
	start, end int
	memo       *string
}

// share returns *memo if it holds b, else makes *memo a copy of b. A
// record encodes the same until it changes, so a compare replaces hashing
// into a shared table; the caller holds the world lock that guards memo.
func share(memo *string, b []byte) string {
	if *memo != string(b) {
		*memo = string(b)
	}
	return *memo
}

// cutPayload copies d out of the encoder's scratch buffer with the spans
// cut (at most two, ascending, not overlapping) shared.
func cutPayload(d []byte, cuts *[2]cut) payload {
	if cuts[0].memo == nil && cuts[1].memo == nil {
		return payload{b: clone(d)}
	}
	n := len(d)
	for _, c := range cuts {
		if c.memo != nil {
			n -= c.end - c.start
		}
	}
	ins := new([2]splice)
	b := make([]byte, 0, n)
	from := 0
	for i, c := range cuts {
		if c.memo == nil {
			continue
		}
		b = append(b, d[from:c.start]...)
		ins[i] = splice{at: len(b), s: share(c.memo, d[c.start:c.end])}
		from = c.end
	}
	return payload{b: append(b, d[from:]...), ins: ins}
}

func clone(d []byte) []byte {
	out := make([]byte, len(d))
	copy(out, d)
	return out
}
