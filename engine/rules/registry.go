package rules

import (
	"fmt"
	"sort"
)

// Condition is a compiled condition of one rule version.
type Condition interface {
	Eval(ec *evalCtx) (bool, error)
}

// statefulCondition reads or writes State; such conditions run after every
// stateless one has passed, so a message refused for being too short does
// not start a cooldown. appendOps is Eval as State calls, for an event
// whose calls go to State together (batchState).
type statefulCondition interface {
	Condition
	appendOps(ec *evalCtx, ops []stateOp) []stateOp
}

// effectPlan is a compiled effect: it turns an evaluation into a planned
// Effect, or nil when there is nothing to do (a zero amount, an opted-out DM).
type effectPlan interface {
	plan(ec *evalCtx, o *Origin) (Effect, error)
}

// ConditionType is a registered condition: its stable id and how to compile
// its params (validation and compilation are one step, so what validates
// is exactly what runs).
type ConditionType struct {
	ID      string
	Summary string
	Compile func(cc *compileCtx, params []byte, path string) (Condition, error)
}

// EffectType is a registered effect.
type EffectType struct {
	ID      string
	Summary string
	Compile func(cc *compileCtx, params []byte, path string) (effectPlan, error)
}

// Registry holds the condition and effect types rules may use. Built-ins are
// added by NewRegistry; modules add theirs explicitly at start-up.
type Registry struct {
	conditions map[string]ConditionType
	effects    map[string]EffectType
	// aliases maps retired ids to current ones, so stored rules keep working
	// after a type is renamed in code.
	aliases map[string]string
}

// NewRegistry returns a registry holding every built-in type.
func NewRegistry() *Registry {
	r := &Registry{conditions: map[string]ConditionType{}, effects: map[string]EffectType{}, aliases: map[string]string{}}
	for _, c := range builtinConditions() {
		r.MustRegisterCondition(c)
	}
	for _, e := range builtinEffects() {
		r.MustRegisterEffect(e)
	}
	return r
}

// RegisterCondition adds a condition type; ids are unique.
func (r *Registry) RegisterCondition(c ConditionType) error {
	if _, dup := r.conditions[c.ID]; dup || c.ID == "" || c.Compile == nil {
		return fmt.Errorf("condition type %q: empty, incomplete or already registered", c.ID)
	}
	r.conditions[c.ID] = c
	return nil
}

// RegisterEffect adds an effect type; ids are unique.
func (r *Registry) RegisterEffect(e EffectType) error {
	if _, dup := r.effects[e.ID]; dup || e.ID == "" || e.Compile == nil {
		return fmt.Errorf("effect type %q: empty, incomplete or already registered", e.ID)
	}
	r.effects[e.ID] = e
	return nil
}

// MustRegisterCondition is RegisterCondition for start-up code.
func (r *Registry) MustRegisterCondition(c ConditionType) {
	if err := r.RegisterCondition(c); err != nil {
		panic(err)
	}
}

// MustRegisterEffect is RegisterEffect for start-up code.
func (r *Registry) MustRegisterEffect(e EffectType) {
	if err := r.RegisterEffect(e); err != nil {
		panic(err)
	}
}

// Alias makes a retired id resolve to a current one.
func (r *Registry) Alias(old, current string) { r.aliases[old] = current }

func (r *Registry) condition(id string) (ConditionType, bool) {
	if a, ok := r.aliases[id]; ok {
		id = a
	}
	c, ok := r.conditions[id]
	return c, ok
}

func (r *Registry) effect(id string) (EffectType, bool) {
	if a, ok := r.aliases[id]; ok {
		id = a
	}
	e, ok := r.effects[id]
	return e, ok
}

// ConditionIDs lists registered condition ids, sorted.
func (r *Registry) ConditionIDs() []string { return sortedKeys(r.conditions) }

// EffectIDs lists registered effect ids, sorted.
func (r *Registry) EffectIDs() []string { return sortedKeys(r.effects) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
