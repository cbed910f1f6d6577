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
// by, the registered condition and effect types, and example documents
// (the Classic preset's rules).
type Catalog struct {
	Triggers   []string   `json:"triggers"`
	Conditions []TypeInfo `json:"conditions"`
	Effects    []TypeInfo `json:"effects"`
	Examples   []Document `json:"examples"`
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
	for _, id := range r.ConditionIDs() {
		c.Conditions = append(c.Conditions, TypeInfo{ID: id, Summary: r.conditions[id].Summary})
	}
	for _, id := range r.EffectIDs() {
		c.Effects = append(c.Effects, TypeInfo{ID: id, Summary: r.effects[id].Summary})
	}
	c.Examples = Classic().Rules
	return c
}
