// Package lake is the Event Lake: normalised, tenant-scoped records of what
// happens in a guild (metadata only, never message text), stored in a
// day-partitioned Postgres table with per-day counters kept in step.
package lake

import (
	"fmt"
	"time"
)

// Type is an event type as stored (a smallint: two bytes a row).
type Type int16

// The event types the lake captures. Values are stored: never renumber.
const (
	MessageCreate  Type = 1
	ReactionAdd    Type = 2
	ReactionRemove Type = 3
	ThreadCreate   Type = 4
	VoiceJoin      Type = 5
	VoiceLeave     Type = 6
	VoiceMove      Type = 7
	MemberJoin     Type = 8
	MemberLeave    Type = 9
	// ReactionReceived exists only in event_counters: each reaction_add
	// counted again for the author of the reacted message ("reactions
	// received" milestones), never stored as a lake row.
	ReactionReceived Type = 10
	// VoiceActive exists only in event_counters (and member_active_days):
	// each voice_leave and voice_move whose stretch was not AFK, counted
	// for its member on the channel the stretch was in, magnitude = its
	// seconds. Non-AFK voice minutes are its magnitude; the AFK flag of
	// the lake row is otherwise lost in the counters.
	VoiceActive Type = 11
)

// Types lists every type stored as lake rows, in a stable order.
var Types = []Type{MessageCreate, ReactionAdd, ReactionRemove, ThreadCreate, VoiceJoin, VoiceLeave, VoiceMove, MemberJoin, MemberLeave}

// DerivedTypes are counted from stored rows but are not rows themselves.
var DerivedTypes = []Type{ReactionReceived, VoiceActive}

// CounterTypes lists every type event_counters holds: the stored ones and
// those derived from them.
var CounterTypes = append(append([]Type(nil), Types...), DerivedTypes...)

var typeNames = map[Type]string{
	MessageCreate: "message_create", ReactionAdd: "reaction_add", ReactionRemove: "reaction_remove",
	ThreadCreate: "thread_create", VoiceJoin: "voice_join", VoiceLeave: "voice_leave", VoiceMove: "voice_move",
	MemberJoin: "member_join", MemberLeave: "member_leave", ReactionReceived: "reaction_received",
	VoiceActive: "voice_active",
}

func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type_%d", int16(t))
}

// ParseType is the inverse of String.
func ParseType(s string) (Type, error) {
	for t, n := range typeNames {
		if n == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown event type %q", s)
}

// Flags are per-event booleans packed in a smallint.
type Flags int16

const (
	FlagReply      Flags = 1 << 0 // message replies to another message
	FlagInThread   Flags = 1 << 1 // message posted in a thread
	FlagAFK        Flags = 1 << 2 // voice session was AFK (AFK channel, excluded channel, or muted+deafened throughout)
	FlagBot        Flags = 1 << 3 // the acting user is a bot
	FlagSynthetic  Flags = 1 << 4 // derived by Synapse (voice leave at shutdown), not seen on the gateway
	FlagBackfilled Flags = 1 << 5 // recovered from REST history after a gap
	FlagEmbeds     Flags = 1 << 6 // message carries embeds
	FlagSticker    Flags = 1 << 7 // message carries stickers
	FlagMutedDeaf  Flags = 1 << 8 // voice join/move: self-muted and self-deafened as the stretch began
)

// Event is one lake row. What "target" and "magnitude" mean depends on type:
//
//	message_create: Target = replied-to message author (0 if none), Magnitude = length in characters
//	reaction_*:     Target = author of the reacted message, Magnitude = 0
//	thread_create:  Channel = parent channel, Target = the thread
//	voice_join:     Channel = joined channel
//	voice_move:     Channel = new channel, Target = previous channel, Magnitude = seconds in the previous one
//	voice_leave:    Channel = left channel, Magnitude = session duration in seconds
//	member_*:       Magnitude = 0
type Event struct {
	TenantID   int64
	GuildID    int64
	OccurredAt time.Time
	// SourceID is the natural id: the Discord snowflake of the message or
	// thread, or for events without one a snowflake minted from the
	// occurrence time and the gateway (session, sequence) that carried it.
	SourceID  int64
	Type      Type
	UserID    int64
	ChannelID int64
	TargetID  int64
	Counts    Counts
	Magnitude int32
	Flags     Flags
	// MessageID is the reacted message of a reaction_*, for the rules (a
	// member removing and re-adding a reaction must not earn twice). It
	// travels with the event to the rules (EncodeEvents) but is not a
	// lake column: eight more bytes on every row for one rule condition.
	MessageID int64
	// ParentID is the parent channel when the event happened in a thread
	// (ChannelID is the thread), for the rules' zones; carried and not
	// stored like MessageID. 0 outside threads, or in a thread the gateway
	// has not seen created.
	ParentID int64
	// StaysInVoice marks a synthetic voice_leave written when a shard
	// stops: the stretch so far is closed but the member is still in voice,
	// so the open session continues from that moment. A synthetic leave
	// without it (GUILD_CREATE shows the member is no longer in voice)
	// ends the session. Not stored.
	StaysInVoice bool
}

// Counts packs a message's quality counts into 32 bits: code blocks (4
// bits), links (6), emoji (6), attachments (4), mentions (6). Each count
// saturates at its field's maximum: beyond it, "many" is all a rule needs.
type Counts uint32

const (
	shiftCode, bitsCode     = 0, 4
	shiftLinks, bitsLinks   = 4, 6
	shiftEmoji, bitsEmoji   = 10, 6
	shiftAttach, bitsAttach = 16, 4
	shiftMent, bitsMent     = 20, 6
)

// PackCounts saturates each count into its field.
func PackCounts(codeBlocks, links, emoji, attachments, mentions int) Counts {
	put := func(v, shift, bits int) Counts {
		if v < 0 {
			v = 0
		}
		if max := 1<<bits - 1; v > max {
			v = max
		}
		return Counts(v) << shift
	}
	return put(codeBlocks, shiftCode, bitsCode) | put(links, shiftLinks, bitsLinks) |
		put(emoji, shiftEmoji, bitsEmoji) | put(attachments, shiftAttach, bitsAttach) | put(mentions, shiftMent, bitsMent)
}

func (c Counts) get(shift, bits int) int { return int(c>>shift) & (1<<bits - 1) }

func (c Counts) CodeBlocks() int  { return c.get(shiftCode, bitsCode) }
func (c Counts) Links() int       { return c.get(shiftLinks, bitsLinks) }
func (c Counts) Emoji() int       { return c.get(shiftEmoji, bitsEmoji) }
func (c Counts) Attachments() int { return c.get(shiftAttach, bitsAttach) }
func (c Counts) Mentions() int    { return c.get(shiftMent, bitsMent) }

// DiscordEpochMS is the first millisecond of 2015, Discord's snowflake epoch.
const DiscordEpochMS = 1420070400000

// SnowflakeTime is when a snowflake was minted.
func SnowflakeTime(id int64) time.Time {
	return time.UnixMilli(id>>22 + DiscordEpochMS).UTC()
}

// MintSnowflake makes a snowflake for an event Discord gives no id: the
// time in the high bits keeps it time-ordered like real ids; low carries
// 22 bits that make it unique among events of the same millisecond.
func MintSnowflake(at time.Time, low uint64) int64 {
	return (at.UnixMilli()-DiscordEpochMS)<<22 | int64(low&(1<<22-1))
}
