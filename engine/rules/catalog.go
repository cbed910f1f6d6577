package rules

import (
	"sort"

	"github.com/synapsehq/synapse/engine/lake"
)

// TypeInfo describes a condition or effect type for rule editors.
type TypeInfo struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

// Catalog is what a rule editor offers: the events a rule can be triggered
// by (TriggerInfo says when each internal one fires and what it carries),
// the registered condition and effect types, and example documents (the
// Classic preset's rules).
type Catalog struct {
	Triggers    []string   `json:"triggers"`
	TriggerInfo []TypeInfo `json:"trigger_info"`
	Conditions  []TypeInfo `json:"conditions"`
	Effects     []TypeInfo `json:"effects"`
	Examples    []Document `json:"examples"`
}

// internalTriggerInfo is what the editor tells about each internal
// trigger: when the workers produce it, who its actor is, what
// event.data holds.
var internalTriggerInfo = map[string]string{
	EventLedgerCredited: "a rule credited a member (the actor); data.currency, data.amount. " +
		"The crediting rule does not fire on it again.",
	EventLevelUp: "a rule's credit took a member (the actor) across a level of a currency that has a level curve; " +
		"data.currency, data.old_level, data.new_level (one event per credit, however many levels it crossed).",
	EventMilestoneAwarded: "a member (the actor) earned a milestone, through a milestone_check effect or the hourly sweep; " +
		"data.milestone (its key), data.award_id, data.award_no, data.rarity, and data.<currency> for each currency reward. " +
		"A rule on this trigger that credits a reward's currency pays that reward instead of the milestone " +
		"(as the Classic \"Stars for milestones\" does); otherwise the milestone pays it.",
	EventScheduleDaily: "every day at 00:00 UTC: one event per guild that has rules on it, with no actor and no channel " +
		"(effects on a member do nothing; send_message must name its channel); data.period is the day (YYYY-MM-DD).",
	EventScheduleWeekly: "every Monday at 00:00 UTC: one event per guild that has rules on it, with no actor and no channel " +
		"(effects on a member do nothing; send_message must name its channel); data.period is the Monday (YYYY-MM-DD).",
}

// Catalog lists the registry's types, sorted by id.
func (r *Registry) Catalog() Catalog {
	var c Catalog
	for _, t := range lake.Types {
		c.Triggers = append(c.Triggers, t.String())
	}
	internal := make([]string, 0, len(internalEvents))
	for name := range internalEvents {
		internal = append(internal, name)
	}
	sort.Strings(internal)
	c.Triggers = append(c.Triggers, internal...)
	for _, name := range internal {
		c.TriggerInfo = append(c.TriggerInfo, TypeInfo{ID: name, Summary: internalTriggerInfo[name]})
	}
	for _, id := range r.ConditionIDs() {
		c.Conditions = append(c.Conditions, TypeInfo{ID: id, Summary: r.conditions[id].Summary})
	}
	for _, id := range r.EffectIDs() {
		c.Effects = append(c.Effects, TypeInfo{ID: id, Summary: r.effects[id].Summary})
	}
	c.Examples = Classic().Rules
	return c
}
