package rules

import (
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/synapsehq/synapse/engine/lake"
)

// The fields of the CEL "event" variable. Ids are ints; measures are
// doubles so amounts can multiply them without conversions.
var eventKeys = []string{
	"type", "user_id", "channel_id", "target_id", "source_id", "zone",
	"length", "duration", "magnitude", "code_blocks", "links", "emoji", "attachments", "mentions",
	"reply", "in_thread", "afk", "bot", "embeds", "sticker", "backfilled",
	"hour", "weekday", "depth", "data",
}

// eventMap is the CEL view of an event; fields are computed when read.
func eventMap(ev *Event, z *Zone) ref.Val {
	zoneName := ""
	if z != nil {
		zoneName = z.Name
	}
	return &lazyMap{keys: eventKeys, get: func(k string) (ref.Val, bool) {
		switch k {
		case "type":
			return types.String(ev.Name), true
		case "user_id":
			return types.Int(ev.UserID), true
		case "channel_id":
			return types.Int(ev.ChannelID), true
		case "target_id":
			return types.Int(ev.TargetID), true
		case "source_id":
			return types.Int(ev.SourceID), true
		case "zone":
			return types.String(zoneName), true
		case "length":
			return types.Double(ev.length()), true
		case "duration":
			return types.Double(ev.duration()), true
		case "magnitude":
			return types.Double(ev.Magnitude), true
		case "code_blocks":
			return types.Double(ev.Counts.CodeBlocks()), true
		case "links":
			return types.Double(ev.Counts.Links()), true
		case "emoji":
			return types.Double(ev.Counts.Emoji()), true
		case "attachments":
			return types.Double(ev.Counts.Attachments()), true
		case "mentions":
			return types.Double(ev.Counts.Mentions()), true
		case "reply":
			return types.Bool(ev.Flags&lake.FlagReply != 0), true
		case "in_thread":
			return types.Bool(ev.Flags&lake.FlagInThread != 0), true
		case "afk":
			return types.Bool(ev.Flags&lake.FlagAFK != 0), true
		case "bot":
			return types.Bool(ev.Flags&lake.FlagBot != 0), true
		case "embeds":
			return types.Bool(ev.Flags&lake.FlagEmbeds != 0), true
		case "sticker":
			return types.Bool(ev.Flags&lake.FlagSticker != 0), true
		case "backfilled":
			return types.Bool(ev.Flags&lake.FlagBackfilled != 0), true
		case "hour":
			return types.Double(ev.OccurredAt.UTC().Hour()), true
		case "weekday":
			return types.Double(ev.OccurredAt.UTC().Weekday()), true
		case "depth":
			return types.Double(len(ev.Chain)), true
		case "data":
			if ev.Data == nil {
				return types.NewStringInterfaceMap(types.DefaultTypeAdapter, map[string]any{}), true
			}
			return types.NewStringInterfaceMap(types.DefaultTypeAdapter, ev.Data), true
		}
		return nil, false
	}}
}

var memberKeys = []string{"user_id", "roles", "bot", "dm_opt_out", "account_age_days", "member_age_days", "joined"}

// memberMap is the CEL view of the acting member, ages measured at the
// event's time.
func memberMap(m *MemberFacts, at time.Time) ref.Val {
	return &lazyMap{keys: memberKeys, get: func(k string) (ref.Val, bool) {
		switch k {
		case "user_id":
			return types.Int(m.UserID), true
		case "roles":
			return types.DefaultTypeAdapter.NativeToValue(m.Roles), true
		case "bot":
			return types.Bool(m.Bot), true
		case "dm_opt_out":
			return types.Bool(m.DMOptOut), true
		case "account_age_days":
			return types.Double(accountAge(m, at).Hours() / 24), true
		case "member_age_days":
			return types.Double(memberAge(m, at).Hours() / 24), true
		case "joined":
			return types.Bool(!m.JoinedAt.IsZero()), true
		}
		return nil, false
	}}
}

// accountAge is how old a Discord account was at t (from its snowflake,
// unless the facts say otherwise).
func accountAge(m *MemberFacts, t time.Time) time.Duration {
	if !m.AccountCreatedAt.IsZero() {
		return t.Sub(m.AccountCreatedAt)
	}
	if m.UserID <= 0 {
		return 0
	}
	return t.Sub(lake.SnowflakeTime(m.UserID))
}

// memberAge is how long the member had been in the guild at t (0 if unknown).
func memberAge(m *MemberFacts, t time.Time) time.Duration {
	if m.JoinedAt.IsZero() {
		return 0
	}
	return t.Sub(m.JoinedAt)
}

// length is event.length: a message's length in characters, else 0.
func (ev *Event) length() float64 {
	if ev.Name == "message_create" {
		return float64(ev.Magnitude)
	}
	return 0
}

// duration is event.duration: the seconds of the voice stretch a leave or
// a move closes, else 0.
func (ev *Event) duration() float64 {
	if ev.Name == "voice_leave" || ev.Name == "voice_move" {
		return float64(ev.Magnitude)
	}
	return 0
}
