package rules

import (
	"slices"
	"strings"
	"time"

	"github.com/synapsehq/synapse/engine/lake"
)

// Internal events rules can be triggered by (besides lake event types).
// Custom events emitted by rules are named "custom.<name>".
const (
	EventLedgerCredited   = "ledger.credited"
	EventLevelUp          = "level.up"
	EventMilestoneAwarded = "milestone.awarded"
	EventScheduleDaily    = "schedule.daily"
	EventScheduleWeekly   = "schedule.weekly"
	customPrefix          = "custom."
)

var internalEvents = map[string]bool{
	EventLedgerCredited: true, EventLevelUp: true, EventMilestoneAwarded: true,
	EventScheduleDaily: true, EventScheduleWeekly: true,
}

// validTrigger reports whether name is an event a rule can be triggered by.
func validTrigger(name string) bool {
	if internalEvents[name] {
		return true
	}
	if rest, ok := strings.CutPrefix(name, customPrefix); ok {
		return validIdent(rest)
	}
	t, err := lake.ParseType(name)
	// Counter-only types (reaction_received) never arrive as events.
	return err == nil && slices.Contains(lake.Types, t)
}

// validCurrency matches the ledger's currency codes: ^[a-z][a-z0-9_]{0,31}$.
func validCurrency(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

func validIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r == '-' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// Event is what rules are evaluated against: a lake row or an internal event.
type Event struct {
	// Name is the trigger name: a lake type's String() or an internal event.
	Name     string
	TenantID int64
	GuildID  int64
	// SourceID identifies the event for idempotency: the lake row's SourceID,
	// or for internal events an id derived from what produced them.
	SourceID   int64
	OccurredAt time.Time
	UserID     int64
	ChannelID  int64
	TargetID   int64
	// MessageID is a reaction's message (0 when unknown: the lake table
	// does not keep it, so events replayed from history lack it).
	MessageID int64
	// ParentID is the thread's parent channel for events in a thread (0
	// otherwise; history finds it from the thread's thread_create row, so
	// it is 0 there for a thread created before the lake's retention).
	ParentID  int64
	Magnitude int64
	Counts    lake.Counts
	Flags     lake.Flags
	// Data is an internal event's payload (strings, int64, float64, bool).
	Data map[string]any
	// Chain holds the ids of the rules that led to this event (emit effects,
	// or credits that came back as ledger.credited): a rule already in the
	// chain does not fire again, and len(Chain) is the chaining depth.
	Chain []int64
}

// FromLake converts a lake row into an Event.
func FromLake(e lake.Event) Event {
	return Event{
		Name: e.Type.String(), TenantID: e.TenantID, GuildID: e.GuildID, SourceID: e.SourceID,
		OccurredAt: e.OccurredAt, UserID: e.UserID, ChannelID: e.ChannelID, TargetID: e.TargetID, MessageID: e.MessageID, ParentID: e.ParentID,
		Magnitude: int64(e.Magnitude), Counts: e.Counts, Flags: e.Flags,
	}
}

// CreditedEvent is the ledger.credited event the ledger should feed back
// after applying c, so rules can react to credits; it carries c's chain so
// a credit → ledger.credited → credit loop stops.
func CreditedEvent(c Credit, tenantID int64, at time.Time) Event {
	return Event{
		Name: EventLedgerCredited, TenantID: tenantID, GuildID: c.GuildID,
		SourceID: derivedID(c.IdempotencyKey()), OccurredAt: at, UserID: c.UserID,
		Data:  map[string]any{"currency": c.Currency, "amount": c.Amount},
		Chain: append(append([]int64(nil), c.Chain...), c.RuleID),
	}
}
