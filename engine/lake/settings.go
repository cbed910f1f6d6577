package lake

import (
	"encoding/json"
	"strconv"
)

// DefaultRetentionDays is how long a tenant's lake rows are kept unless
// its settings say otherwise.
const DefaultRetentionDays = 90

// CaptureSettings are the Data Sources choices an operator makes per guild,
// read from the "capture" object of the guild's settings:
//
//	{"capture": {"disabled": ["voice_join"], "afk_channels": ["123"], "retention_days": 30}}
//
// Everything is captured unless disabled.
type CaptureSettings struct {
	Disabled      map[Type]bool
	AFKChannels   map[int64]bool // counted as AFK like the guild's own AFK channel
	RetentionDays int
}

type captureJSON struct {
	Capture struct {
		Disabled      []string `json:"disabled"`
		AFKChannels   []string `json:"afk_channels"`
		RetentionDays int      `json:"retention_days"`
	} `json:"capture"`
}

// ParseCaptureSettings reads a guild's settings document. Unknown event
// types and malformed ids are ignored rather than stopping capture.
func ParseCaptureSettings(settings []byte) CaptureSettings {
	cs := CaptureSettings{Disabled: map[Type]bool{}, AFKChannels: map[int64]bool{}, RetentionDays: DefaultRetentionDays}
	var doc captureJSON
	if len(settings) == 0 || json.Unmarshal(settings, &doc) != nil {
		return cs
	}
	for _, name := range doc.Capture.Disabled {
		if t, err := ParseType(name); err == nil {
			cs.Disabled[t] = true
		}
	}
	for _, id := range doc.Capture.AFKChannels {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			cs.AFKChannels[n] = true
		}
	}
	if d := doc.Capture.RetentionDays; d > 0 {
		cs.RetentionDays = d
	}
	return cs
}

// Captures reports whether events of type t are to be stored.
func (c CaptureSettings) Captures(t Type) bool { return !c.Disabled[t] }
