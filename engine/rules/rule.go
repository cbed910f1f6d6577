package rules

import (
	"encoding/json"
	"fmt"
	"time"
)

// Document is a rule as an operator writes it: what the API accepts, what
// is stored (jsonb) in each version row, and what presets are made of.
type Document struct {
	// Key is an optional stable name unique in the guild ("classic.message_xp");
	// presets use it to install idempotently.
	Key      string `json:"key,omitempty"`
	Name     string `json:"name"`
	Module   string `json:"module,omitempty"`
	Group    string `json:"group,omitempty"`
	Priority int    `json:"priority,omitempty"`
	// Enabled is the initial state when a rule is created; afterwards the
	// rule's enabled flag is toggled on its own (SetEnabled), without a new
	// version.
	Enabled    *bool           `json:"enabled,omitempty"`
	Trigger    Trigger         `json:"trigger"`
	Conditions []ConditionSpec `json:"conditions,omitempty"`
	Effects    []EffectSpec    `json:"effects"`
}

// Trigger lists the events that start the rule: lake event types
// ("message_create") and internal events ("ledger.credited", "custom.*").
type Trigger struct {
	Events []string `json:"events"`
}

// ConditionSpec is one condition: a registered type id and its params,
// written flat in JSON: {"type": "cooldown", "seconds": 60}.
type ConditionSpec struct {
	Type   string
	Params json.RawMessage // a JSON object without "type"
}

// EffectSpec is one effect, written flat like a condition:
// {"type": "credit", "currency": "xp", "amount": "base * quality"}.
type EffectSpec struct {
	Type   string
	Params json.RawMessage
}

func (c ConditionSpec) MarshalJSON() ([]byte, error)  { return marshalFlat(c.Type, c.Params) }
func (c *ConditionSpec) UnmarshalJSON(b []byte) error { return unmarshalFlat(b, &c.Type, &c.Params) }
func (e EffectSpec) MarshalJSON() ([]byte, error)     { return marshalFlat(e.Type, e.Params) }
func (e *EffectSpec) UnmarshalJSON(b []byte) error    { return unmarshalFlat(b, &e.Type, &e.Params) }

func marshalFlat(typ string, params json.RawMessage) ([]byte, error) {
	m := map[string]json.RawMessage{}
	if len(params) > 0 && string(params) != "null" {
		if err := json.Unmarshal(params, &m); err != nil {
			return nil, fmt.Errorf("params of %q: %w", typ, err)
		}
	}
	t, _ := json.Marshal(typ)
	m["type"] = t
	return json.Marshal(m)
}

func unmarshalFlat(b []byte, typ *string, params *json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if t, ok := m["type"]; ok {
		if err := json.Unmarshal(t, typ); err != nil {
			return fmt.Errorf("type: %w", err)
		}
		delete(m, "type")
	}
	*params = nil
	if len(m) > 0 {
		p, err := json.Marshal(m)
		if err != nil {
			return err
		}
		*params = p
	}
	return nil
}

// Rule is a stored rule: the head of its version history.
type Rule struct {
	ID             int64     `json:"id,string"`
	GuildID        int64     `json:"guild_id,string"`
	Key            string    `json:"key,omitempty"`
	Version        int       `json:"version"`
	Name           string    `json:"name"`
	Module         string    `json:"module"`
	Group          string    `json:"group"`
	Priority       int       `json:"priority"`
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	Document       Document  `json:"document"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// RuleVersion is one immutable version of a rule's document.
type RuleVersion struct {
	RuleID    int64     `json:"rule_id,string"`
	Version   int       `json:"version"`
	Document  Document  `json:"document"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// enabledOr is the document's initial enabled state (default true).
func (d Document) enabledOr(def bool) bool {
	if d.Enabled == nil {
		return def
	}
	return *d.Enabled
}
