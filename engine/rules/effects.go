package rules

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
)

// Effect is one planned effect: what a rule decided should happen. The
// engine never applies effects itself; see Dispatcher.
type Effect interface {
	// Meta says which rule version planned it for which event.
	Meta() Origin
	// Kind is the effect type id (EffectCredit, ...).
	Kind() string
}

// Origin identifies a planned effect: the rule (id, version) and effect
// index that planned it, and the source event (trigger name and id) it was
// planned for. Its IdempotencyKey is derived from them: the same rule
// version evaluated against the same event plans the same key, however
// often the task runs, so sinks apply it once.
//
// The key is built when a sink asks for it, not by the engine: evaluation
// plans ~10 effects per event, and their key strings were most of what it
// allocated (and so most of its GC cycles, which set its latency tail).
type Origin struct {
	RuleID      int64  `json:"rule_id,string"`
	RuleVersion int    `json:"rule_version"`
	Index       int    `json:"index"`
	GuildID     int64  `json:"guild_id,string"`
	Event       string `json:"event,omitempty"`
	SourceID    int64  `json:"source_id,string,omitempty"`
	// FixedKey is the idempotency key of an effect no rule planned for an
	// event (a milestone's announcement, say); empty for rule effects.
	FixedKey string  `json:"fixed_key,omitempty"`
	Chain    []int64 `json:"chain,omitempty"`
}

// Meta implements Effect for every type embedding Origin.
func (o Origin) Meta() Origin { return o }

// IdempotencyKey is FixedKey when set, else the rule effect's key
// "r<rule>.v<version>.<event>.<source>.e<index>"; empty for an Origin
// that has neither (sinks refuse an empty key: the ledger does).
func (o Origin) IdempotencyKey() string {
	switch {
	case o.FixedKey != "":
		return o.FixedKey
	case o.Event == "":
		return ""
	}
	return idempotencyKey(o.RuleID, o.RuleVersion, o.Event, o.SourceID, o.Index)
}

// idempotencyKey is "r<rule>.v<version>.<event>.<source>.e<index>". The
// event name is part of it because a thread and its starter message share
// a snowflake.
func idempotencyKey(ruleID int64, version int, event string, sourceID int64, index int) string {
	b := make([]byte, 0, 64)
	b = append(b, 'r')
	b = strconv.AppendInt(b, ruleID, 10)
	b = append(b, ".v"...)
	b = strconv.AppendInt(b, int64(version), 10)
	b = append(b, '.')
	return string(appendKeyTail(b, event, sourceID, index))
}

// appendKeyTail appends an idempotency key's event part,
// "<event>.<source>.e<index>", to b holding a rule's "r<rule>.v<version>.".
func appendKeyTail(b []byte, event string, sourceID int64, index int) []byte {
	b = append(b, event...)
	b = append(b, '.')
	b = strconv.AppendInt(b, sourceID, 10)
	b = append(b, ".e"...)
	return strconv.AppendInt(b, int64(index), 10)
}

// derivedID is a stable positive source id for an internal event produced
// by the effect with the given key.
func derivedID(key string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return int64(h.Sum64() >> 1)
}

// Credit adds Amount of Currency to UserID's wallet. It is an Effect by
// pointer (*Credit): credits are the effect nearly every reward plans, so
// the engine carves them from reusable storage instead of boxing each one
// (see slab); a Credit value is not an Effect, so a type switch on
// `Credit` does not compile.
type Credit struct {
	Origin
	UserID   int64  `json:"user_id,string"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// Debit removes Amount of Currency from UserID's wallet.
type Debit struct {
	Origin
	UserID   int64  `json:"user_id,string"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// GrantRole gives a role; with ExpiresAt set the action queue removes it then.
type GrantRole struct {
	Origin
	UserID    int64      `json:"user_id,string"`
	RoleID    int64      `json:"role_id,string"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// RemoveRole takes a role away.
type RemoveRole struct {
	Origin
	UserID int64 `json:"user_id,string"`
	RoleID int64 `json:"role_id,string"`
}

// Embed is a rendered Discord embed.
type Embed struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Color       int    `json:"color,omitempty"`
}

// SendMessage posts rendered content and/or an embed to a channel.
type SendMessage struct {
	Origin
	ChannelID int64  `json:"channel_id,string"`
	Content   string `json:"content,omitempty"`
	Embed     *Embed `json:"embed,omitempty"`
}

// DM sends a direct message; planned only for members who did not opt out.
type DM struct {
	Origin
	UserID  int64  `json:"user_id,string"`
	Content string `json:"content,omitempty"`
	Embed   *Embed `json:"embed,omitempty"`
}

// Emit is an internal event a rule emitted; the engine evaluates it in the
// same pass (chaining) and reports it so callers can record it.
type Emit struct {
	Origin
	Event Event `json:"-"`
}

// MilestoneCheck asks the milestone engine to check UserID's milestones
// (one milestone key, or all when empty).
type MilestoneCheck struct {
	Origin
	UserID    int64  `json:"user_id,string"`
	Milestone string `json:"milestone,omitempty"`
}

func (*Credit) Kind() string        { return EffectCredit }
func (Debit) Kind() string          { return EffectDebit }
func (GrantRole) Kind() string      { return EffectGrantRole }
func (RemoveRole) Kind() string     { return EffectRemoveRole }
func (SendMessage) Kind() string    { return EffectSendMessage }
func (DM) Kind() string             { return EffectDM }
func (Emit) Kind() string           { return EffectEmit }
func (MilestoneCheck) Kind() string { return EffectMilestoneCheck }

// Describe renders an effect on one line (golden files, dry-run output).
func Describe(e Effect) string {
	o := e.Meta()
	var s string
	switch v := e.(type) {
	case *Credit:
		s = fmt.Sprintf("credit %d %s to %d", v.Amount, v.Currency, v.UserID)
	case Debit:
		s = fmt.Sprintf("debit %d %s from %d", v.Amount, v.Currency, v.UserID)
	case GrantRole:
		s = fmt.Sprintf("grant role %d to %d", v.RoleID, v.UserID)
		if v.ExpiresAt != nil {
			s += " until " + v.ExpiresAt.UTC().Format(time.RFC3339)
		}
	case RemoveRole:
		s = fmt.Sprintf("remove role %d from %d", v.RoleID, v.UserID)
	case SendMessage:
		s = fmt.Sprintf("send to channel %d: %q", v.ChannelID, v.Content)
		if v.Embed != nil {
			s += fmt.Sprintf(" embed %q/%q", v.Embed.Title, v.Embed.Description)
		}
	case DM:
		s = fmt.Sprintf("dm %d: %q", v.UserID, v.Content)
		if v.Embed != nil {
			s += fmt.Sprintf(" embed %q/%q", v.Embed.Title, v.Embed.Description)
		}
	case Emit:
		s = fmt.Sprintf("emit %s for %d", v.Event.Name, v.Event.UserID)
	case MilestoneCheck:
		s = fmt.Sprintf("milestone check %q for %d", v.Milestone, v.UserID)
	default:
		s = e.Kind()
	}
	return s + " [" + o.IdempotencyKey() + "]"
}
