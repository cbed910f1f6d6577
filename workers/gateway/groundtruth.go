package gateway

import (
	"strconv"
	"strings"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/discordsim"
)

// Expected is what the lake should hold after capturing a simulator's
// dispatches: the exact count per event type and the message ids.
type Expected struct {
	ByType   map[lake.Type]int
	Messages map[int64]bool
	// Items are the expected non-message rows with the record that
	// produced each, for naming what was lost (type, guild, user).
	Items []ExpectedItem
	// Undeliverable counts records no session received (other than
	// messages, which capture backfills): Discord would not send them to
	// anyone either.
	Undeliverable int
	// GoneInGap counts the messages among them that no session received
	// and that were deleted before their shard had a session again.
	GoneInGap int
}

// ExpectedItem is one expected non-message lake row.
type ExpectedItem struct {
	Type    lake.Type
	GuildID int64
	UserID  int64
	Record  discordsim.Record
}

// Total is the number of lake rows expected.
func (e Expected) Total() int {
	n := 0
	for _, c := range e.ByType {
		n += c
	}
	return n
}

// ExpectFromGroundTruth derives the expected lake contents from the
// simulator's record of what it dispatched, applying the same semantics as
// capture (a repeated member add is not a join; voice updates pair into
// joins, moves and leaves).
//
// Records that no session received (dispatched while a shard had no live
// session, e.g. between an invalidated session and the next READY) are not
// expected, except messages, which capture backfills from channel history.
// They still move the voice state: the next session's GUILD_CREATE shows
// who is in voice after the gap, and capture reconciles with it through
// synthetic rows, which the lake counts leave out. Pairing only the
// delivered updates would expect a move where capture rightly sees a join.
//
// A message that no session received is not expected either if channel
// history no longer had it when capture could first read it back (see
// goneInGap), as on Discord. History reads are records too (no
// dispatches: they are skipped here but for goneInGap).
func ExpectFromGroundTruth(records []discordsim.Record) Expected {
	exp := Expected{ByType: map[lake.Type]int{}, Messages: map[int64]bool{}}
	gone := goneInGap(records)
	voice := map[string]string{}    // guild:user -> channel
	missedJoin := map[string]bool{} // guild:user -> the last join reached no session
	add := func(t lake.Type, r discordsim.Record, user string) {
		exp.ByType[t]++
		u, _ := strconv.ParseInt(user, 10, 64)
		exp.Items = append(exp.Items, ExpectedItem{Type: t, GuildID: int64(r.GuildID), UserID: u, Record: r})
	}
	for _, r := range records {
		if !r.IsDispatch() {
			continue
		}
		delivered := len(r.Deliveries) > 0
		if !delivered && r.Type != "MESSAGE_CREATE" {
			exp.Undeliverable++
		}
		switch r.Type {
		case "MESSAGE_CREATE":
			if gone[r.Index] {
				exp.Undeliverable++
				exp.GoneInGap++
				continue
			}
			id, _ := strconv.ParseInt(r.Key, 10, 64)
			if !exp.Messages[id] {
				exp.Messages[id] = true
				exp.ByType[lake.MessageCreate]++
			}
		case "MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE":
			if !delivered {
				continue
			}
			t := lake.ReactionAdd
			if r.Type == "MESSAGE_REACTION_REMOVE" {
				t = lake.ReactionRemove
			}
			parts := strings.Split(r.Key, ":") // message:user:emoji
			if len(parts) < 2 {
				continue
			}
			add(t, r, parts[1])
		case "THREAD_CREATE":
			if delivered {
				add(lake.ThreadCreate, r, "0")
			}
		case "GUILD_MEMBER_ADD":
			// A repeated add is not a join, unless the join itself fell in
			// a gap: then the repeat (same joined_at, same minted id) is
			// the first capture sees of it, and rightly records the join.
			switch {
			case !r.Repeat:
				missedJoin[r.Key] = !delivered
				if delivered {
					add(lake.MemberJoin, r, r.Key[strings.LastIndexByte(r.Key, ':')+1:])
				}
			case delivered && missedJoin[r.Key]:
				missedJoin[r.Key] = false
				add(lake.MemberJoin, r, r.Key[strings.LastIndexByte(r.Key, ':')+1:])
			}
		case "GUILD_MEMBER_REMOVE":
			if delivered {
				add(lake.MemberLeave, r, r.Key[strings.LastIndexByte(r.Key, ':')+1:])
			}
		case "VOICE_STATE_UPDATE":
			parts := strings.Split(r.Key, ":") // user:channel|none:mute:deaf
			if len(parts) < 2 {
				continue
			}
			k := r.GuildID.String() + ":" + parts[0]
			prev, in := voice[k]
			var t lake.Type
			switch ch := parts[1]; {
			case !in && ch != "none":
				voice[k] = ch
				t = lake.VoiceJoin
			case in && ch == "none":
				delete(voice, k)
				t = lake.VoiceLeave
			case in && ch != prev:
				voice[k] = ch
				t = lake.VoiceMove
			}
			if t != 0 && delivered {
				add(t, r, parts[0])
			}
		}
	}
	return exp
}

// goneInGap returns the indexes of MESSAGE_CREATEs that no session
// received and that channel history no longer had when capture could read
// them back from it:
//   - deleted before any event of their shard reached a session again (a
//     backfill needs a session), or
//   - deleted before the first read of their channel's history, after
//     their creation, that covered them (discordsim.Record.Covers): the
//     backfill read after the new session's start but found them gone.
//
// A gap message deleted after its shard had a session again, with no
// covering read before the delete, stays expected unless a covering read
// after the delete shows it gone: without one, capture never looked for
// it while it was there, and its loss is capture's (a backfill that never
// reads the channel shows its losses). A message never deleted is always
// expected.
func goneInGap(records []discordsim.Record) map[uint64]bool {
	g := gapMessages{byID: map[string]*gapMessage{}, inGap: map[int][]*gapMessage{},
		byChannel: map[discordsim.ID][]*gapMessage{}, gone: map[uint64]bool{}}
	for i := range records {
		g.see(&records[i])
	}
	return g.gone
}

// gapMessage is a message no session received, until it is known to be
// either in history when read back or gone.
type gapMessage struct {
	create  uint64 // its record's Index
	id      discordsim.ID
	back    bool // an event of its shard reached a session since its creation
	deleted bool
	settled bool
}

type gapMessages struct {
	byID      map[string]*gapMessage // by Key, settled ones too
	inGap     map[int][]*gapMessage  // shard -> messages while it has no session
	byChannel map[discordsim.ID][]*gapMessage
	gone      map[uint64]bool
}

func (g *gapMessages) see(r *discordsim.Record) {
	switch {
	case r.Type == discordsim.RecordHistoryRead:
		g.read(r)
	case len(r.Deliveries) > 0:
		for _, m := range g.inGap[r.Shard] {
			m.back = true // a session exists again: backfill can see what is left
		}
		delete(g.inGap, r.Shard)
	case r.Type == "MESSAGE_CREATE":
		id, _ := strconv.ParseUint(r.Key, 10, 64)
		m := &gapMessage{create: r.Index, id: discordsim.ID(id)}
		g.byID[r.Key] = m
		g.inGap[r.Shard] = append(g.inGap[r.Shard], m)
		g.byChannel[r.ChannelID] = append(g.byChannel[r.ChannelID], m)
	}
	if r.Type == "MESSAGE_DELETE" {
		if m := g.byID[r.Key]; m != nil && !m.settled {
			m.deleted = true
			if !m.back {
				g.settle(m, true)
			}
		}
	}
}

// read settles the unsettled messages of r's channel that r covered: those
// deleted before it are gone, the others were returned.
func (g *gapMessages) read(r *discordsim.Record) {
	ms := g.byChannel[r.ChannelID]
	kept := ms[:0]
	for _, m := range ms {
		if !m.settled && r.Covers(m.id) {
			g.settle(m, m.deleted)
		}
		if !m.settled {
			kept = append(kept, m)
		}
	}
	g.byChannel[r.ChannelID] = kept
}

func (g *gapMessages) settle(m *gapMessage, gone bool) {
	m.settled = true
	if gone {
		g.gone[m.create] = true
	}
}
