package lake

import (
	"encoding/binary"
	"errors"
	"time"
)

// EncodeEvents packs events of one tenant and guild for the outbox and the
// rules tasks: varints, about 40 bytes an event instead of ~300 as JSON.
func EncodeEvents(events []Event) []byte {
	buf := make([]byte, 0, 8+len(events)*48)
	buf = binary.AppendUvarint(buf, uint64(len(events)))
	for i := range events {
		e := &events[i]
		buf = binary.AppendVarint(buf, e.TenantID)
		buf = binary.AppendVarint(buf, e.GuildID)
		buf = binary.AppendVarint(buf, e.OccurredAt.UnixMicro())
		buf = binary.AppendVarint(buf, e.SourceID)
		buf = binary.AppendVarint(buf, int64(e.Type))
		buf = binary.AppendVarint(buf, e.UserID)
		buf = binary.AppendVarint(buf, e.ChannelID)
		buf = binary.AppendVarint(buf, e.TargetID)
		buf = binary.AppendUvarint(buf, uint64(e.Counts))
		buf = binary.AppendVarint(buf, int64(e.Magnitude))
		buf = binary.AppendVarint(buf, int64(e.Flags))
	}
	return buf
}

var errCorrupt = errors.New("lake: corrupt event encoding")

// DecodeEvents is the inverse of EncodeEvents.
func DecodeEvents(b []byte) ([]Event, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	b = b[k:]
	out := make([]Event, n)
	next := func() (int64, bool) {
		v, k := binary.Varint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return v, true
	}
	for i := range out {
		var f [11]int64
		for j := range f {
			if j == 8 { // counts is unsigned
				v, k := binary.Uvarint(b)
				if k <= 0 {
					return nil, errCorrupt
				}
				b = b[k:]
				f[j] = int64(v)
				continue
			}
			v, ok := next()
			if !ok {
				return nil, errCorrupt
			}
			f[j] = v
		}
		out[i] = Event{TenantID: f[0], GuildID: f[1], OccurredAt: time.UnixMicro(f[2]).UTC(), SourceID: f[3], Type: Type(f[4]),
			UserID: f[5], ChannelID: f[6], TargetID: f[7], Counts: Counts(f[8]), Magnitude: int32(f[9]), Flags: Flags(f[10])}
	}
	if len(b) != 0 {
		return nil, errCorrupt
	}
	return out, nil
}
