package lake

import (
	"encoding/binary"
	"errors"
	"time"
)

// The outbox and rules-task encoding: varints, about 40 bytes an event
// instead of ~300 as JSON. Version 2 adds each event's MessageID and
// ParentID, which the lake table does not store; it opens with a zero byte and the
// version, which no version-1 payload does except an empty one (a lone
// zero), so payloads written before an upgrade still decode.
const codecVersion = 2

// EncodeEvents packs events of one tenant and guild for the outbox and the
// rules tasks.
func EncodeEvents(events []Event) []byte {
	buf := make([]byte, 0, 10+len(events)*48)
	buf = append(buf, 0, codecVersion)
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
		buf = binary.AppendVarint(buf, e.MessageID)
		buf = binary.AppendVarint(buf, e.ParentID)
	}
	return buf
}

var errCorrupt = errors.New("lake: corrupt event encoding")

// DecodeEvents is the inverse of EncodeEvents; it also reads version 1.
func DecodeEvents(b []byte) ([]Event, error) {
	fields := 11 // version 1
	if len(b) >= 2 && b[0] == 0 {
		if b[1] != codecVersion {
			return nil, errCorrupt
		}
		b, fields = b[2:], 13
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	b = b[k:]
	out := make([]Event, n)
	for i := range out {
		var f [13]int64
		for j := 0; j < fields; j++ {
			var v int64
			var k int
			if j == 8 { // counts is unsigned
				var u uint64
				u, k = binary.Uvarint(b)
				v = int64(u)
			} else {
				v, k = binary.Varint(b)
			}
			if k <= 0 {
				return nil, errCorrupt
			}
			b, f[j] = b[k:], v
		}
		out[i] = Event{TenantID: f[0], GuildID: f[1], OccurredAt: time.UnixMicro(f[2]).UTC(), SourceID: f[3], Type: Type(f[4]),
			UserID: f[5], ChannelID: f[6], TargetID: f[7], Counts: Counts(f[8]), Magnitude: int32(f[9]), Flags: Flags(f[10]),
			MessageID: f[11], ParentID: f[12]}
	}
	if len(b) != 0 {
		return nil, errCorrupt
	}
	return out, nil
}
