package rules

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
)

// EventJSON is an event as pasted into a dry run and as written in golden
// files: lake fields by name, counts unpacked, flags by name.
type EventJSON struct {
	Type        string         `json:"type"`
	SourceID    Snowflake      `json:"source_id,omitempty"`
	OccurredAt  time.Time      `json:"occurred_at"`
	UserID      Snowflake      `json:"user_id,omitempty"`
	ChannelID   Snowflake      `json:"channel_id,omitempty"`
	TargetID    Snowflake      `json:"target_id,omitempty"`
	MessageID   Snowflake      `json:"message_id,omitempty"`
	ParentID    Snowflake      `json:"parent_id,omitempty"`
	Magnitude   int64          `json:"magnitude,omitempty"`
	CodeBlocks  int            `json:"code_blocks,omitempty"`
	Links       int            `json:"links,omitempty"`
	Emoji       int            `json:"emoji,omitempty"`
	Attachments int            `json:"attachments,omitempty"`
	Mentions    int            `json:"mentions,omitempty"`
	Flags       []string       `json:"flags,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
}

var flagNames = []struct {
	name string
	flag lake.Flags
}{
	{"reply", lake.FlagReply}, {"in_thread", lake.FlagInThread}, {"afk", lake.FlagAFK}, {"bot", lake.FlagBot},
	{"synthetic", lake.FlagSynthetic}, {"backfilled", lake.FlagBackfilled}, {"embeds", lake.FlagEmbeds}, {"sticker", lake.FlagSticker},
}

// ParseEvent reads a pasted event for a guild; problems are reported at
// their JSON path.
func ParseEvent(tenantID, guildID int64, raw []byte) (Event, error) {
	var j EventJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return Event{}, decodeParams(raw, &EventJSON{}, "event")
	}
	return j.Event(tenantID, guildID)
}

// Event converts to an evaluable event.
func (j EventJSON) Event(tenantID, guildID int64) (Event, error) {
	if !validTrigger(j.Type) {
		return Event{}, apperr.Invalid("event.type", "unknown event %q", j.Type)
	}
	if j.OccurredAt.IsZero() {
		return Event{}, apperr.Invalid("event.occurred_at", "must be an RFC 3339 time")
	}
	ev := Event{Name: j.Type, TenantID: tenantID, GuildID: guildID, SourceID: int64(j.SourceID), OccurredAt: j.OccurredAt,
		UserID: int64(j.UserID), ChannelID: int64(j.ChannelID), TargetID: int64(j.TargetID), MessageID: int64(j.MessageID), ParentID: int64(j.ParentID), Magnitude: j.Magnitude,
		Counts: lake.PackCounts(j.CodeBlocks, j.Links, j.Emoji, j.Attachments, j.Mentions)}
	for i, f := range j.Flags {
		found := false
		for _, fn := range flagNames {
			if fn.name == f {
				ev.Flags |= fn.flag
				found = true
			}
		}
		if !found {
			return Event{}, apperr.Invalid(idx("event.flags", i), "unknown flag %q", f)
		}
	}
	if len(j.Data) > 0 {
		ev.Data = make(map[string]any, len(j.Data))
		for k, v := range j.Data {
			if f, ok := v.(float64); ok && f == float64(int64(f)) {
				v = int64(f) // JSON numbers that are whole become ints
			}
			ev.Data[k] = v
		}
	}
	if ev.SourceID == 0 {
		ev.SourceID = lake.MintSnowflake(ev.OccurredAt, uint64(ev.UserID))
	}
	return ev, nil
}

// ToJSON is the inverse of EventJSON.Event.
func ToJSON(ev Event) EventJSON {
	j := EventJSON{Type: ev.Name, SourceID: Snowflake(ev.SourceID), OccurredAt: ev.OccurredAt, UserID: Snowflake(ev.UserID),
		ChannelID: Snowflake(ev.ChannelID), TargetID: Snowflake(ev.TargetID), MessageID: Snowflake(ev.MessageID), ParentID: Snowflake(ev.ParentID), Magnitude: ev.Magnitude,
		CodeBlocks: ev.Counts.CodeBlocks(), Links: ev.Counts.Links(), Emoji: ev.Counts.Emoji(),
		Attachments: ev.Counts.Attachments(), Mentions: ev.Counts.Mentions(), Data: ev.Data}
	for _, fn := range flagNames {
		if ev.Flags&fn.flag != 0 {
			j.Flags = append(j.Flags, fn.name)
		}
	}
	return j
}
