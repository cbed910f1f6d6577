package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/google/cel-go/cel"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Compiler validates and compiles rule documents. Validation is compilation:
// a document that validates is exactly one that compiles.
type Compiler struct {
	reg       *Registry
	env       *cel.Env
	costLimit uint64
}

// CompilerOptions tune a Compiler; zero values take defaults.
type CompilerOptions struct {
	CostLimit uint64 // per CEL evaluation; default DefaultCostLimit
}

// NewCompiler builds the CEL environment once for every rule compiled.
func NewCompiler(reg *Registry, o CompilerOptions) (*Compiler, error) {
	env, err := newCELEnv()
	if err != nil {
		return nil, fmt.Errorf("rules: cel environment: %w", err)
	}
	if o.CostLimit == 0 {
		o.CostLimit = DefaultCostLimit
	}
	return &Compiler{reg: reg, env: env, costLimit: o.CostLimit}, nil
}

// compileCtx is what condition and effect types see while compiling.
type compileCtx struct {
	c        *Compiler
	triggers []string
	// currencies collects currencies the rule credits, for zone warm-up.
	currencies []string
	caps       []*capCondition
	zoneRefs   []zoneRef
	// currencyRefs are the currencies credit and debit effects name, and
	// where, so a store can check the guild has them.
	currencyRefs []zoneRef
	// needsFacts is set by the conditions and effects that read the acting
	// member's facts (CEL reading member, wallet or counters included).
	needsFacts bool
	// needsCounters: some CEL reads counters (a part of the facts).
	needsCounters bool
}

// zoneRef is a zone (or currency) a document names, and where.
type zoneRef struct {
	name, path string
}

// cel compiles an expression, reporting problems at path.
func (cc *compileCtx) cel(src, path string, kind celKind) (*celProgram, error) {
	p, err := compileCEL(cc.c.env, src, kind, cc.c.costLimit)
	if err != nil {
		return nil, apperr.Invalid(path, "%s", err.Error())
	}
	cc.needsFacts = cc.needsFacts || p.facts
	cc.needsCounters = cc.needsCounters || p.counters
	return p, nil
}

// requireTriggers refuses a type on a rule triggered by anything outside allowed.
func (cc *compileCtx) requireTriggers(path, what string, allowed ...string) error {
	for _, t := range cc.triggers {
		ok := false
		for _, a := range allowed {
			ok = ok || t == a
		}
		if !ok {
			return apperr.Invalid(path, "%s only applies to %s events, not %s", what, strings.Join(allowed, "/"), t)
		}
	}
	return nil
}

// CompiledRule is one rule version ready to evaluate. It is immutable except
// for its failure counter, and shared by every rule set that holds this version.
type CompiledRule struct {
	ID       int64
	Version  int
	Key      string
	Name     string
	Module   string
	Group    string
	Priority int
	Enabled  bool

	triggers   []string
	stateless  []Condition
	stateful   []Condition
	condTypes  []string // by index in the document, for traces
	condIndex  []int    // document index of stateless then stateful conditions
	caps       []*capCondition
	effects    []effectPlan
	currencies []string

	keyPrefix     string // "r<id>.v<version>.", the rule's part of idempotency keys
	chance0       uint64 // HashChance{}'s FNV state after keyPrefix (see chancePrefix); 0: not kept
	zoneRefs      []zoneRef
	curRefs       []zoneRef
	needsFacts    bool // some condition or effect reads the acting member's facts
	needsCounters bool // ... and among them its counters

	failures    atomic.Int32 // consecutive run-time failures in this process
	sinkFailing atomic.Int32 // the Sink whose refusal last counted, 0: none (see EffectOutcomes)
	disabled    atomic.Bool  // auto-disable already requested
}

// Validate reports the first problem in a document at its JSON path
// (*apperr.ValidationError), or nil.
func (c *Compiler) Validate(doc Document) error {
	_, err := c.compile(0, 0, doc)
	return err
}

// ValidateIn is Validate plus checks against the guild: every zone the
// document names must exist among zones.
func (c *Compiler) ValidateIn(doc Document, zones []Zone) error {
	cr, err := c.compile(0, 0, doc)
	if err != nil {
		return err
	}
	for _, ref := range cr.zoneRefs {
		if !hasZone(zones, ref.name) {
			return apperr.Invalid(ref.path, "no zone named %q in this guild", ref.name)
		}
	}
	return nil
}

// ValidateInGuild is ValidateIn plus: every currency a credit or debit
// names must be one of the guild's currency codes. The API holds what
// operators write to it; presets are not, as they install their
// currencies.
func (c *Compiler) ValidateInGuild(doc Document, zones []Zone, currencies []string) error {
	if err := c.ValidateIn(doc, zones); err != nil {
		return err
	}
	cr, err := c.compile(0, 0, doc)
	if err != nil {
		return err
	}
	for _, ref := range cr.curRefs {
		if !contains(currencies, ref.name) {
			return apperr.Invalid(ref.path, "no currency %q in this guild (create it first)", ref.name)
		}
	}
	return nil
}

// Compile compiles a stored rule's current version.
func (c *Compiler) Compile(r Rule) (*CompiledRule, error) {
	cr, err := c.compile(r.ID, r.Version, r.Document)
	if err != nil {
		return nil, err
	}
	cr.Enabled = r.Enabled
	return cr, nil
}

func (c *Compiler) compile(id int64, version int, doc Document) (*CompiledRule, error) {
	if s := strings.TrimSpace(doc.Name); s == "" || len(doc.Name) > 100 {
		return nil, apperr.Invalid("name", "must be 1 to 100 characters")
	}
	if doc.Key != "" && !validIdent(doc.Key) {
		return nil, apperr.Invalid("key", "must be lowercase letters, digits, '.', '_' or '-', at most 64")
	}
	if len(doc.Module) > 64 {
		return nil, apperr.Invalid("module", "must be at most 64 characters")
	}
	if len(doc.Group) > 64 {
		return nil, apperr.Invalid("group", "must be at most 64 characters")
	}
	if doc.Priority < -1000 || doc.Priority > 1000 {
		return nil, apperr.Invalid("priority", "must be between -1000 and 1000")
	}
	if len(doc.Trigger.Events) == 0 {
		return nil, apperr.Invalid("trigger.events", "must list at least one event")
	}
	seen := map[string]bool{}
	for i, ev := range doc.Trigger.Events {
		if !validTrigger(ev) {
			return nil, apperr.Invalid(idx("trigger.events", i), "unknown event %q", ev)
		}
		if seen[ev] {
			return nil, apperr.Invalid(idx("trigger.events", i), "lists %q twice", ev)
		}
		seen[ev] = true
	}
	if len(doc.Conditions) > 32 {
		return nil, apperr.Invalid("conditions", "must hold at most 32 conditions")
	}
	if len(doc.Effects) == 0 || len(doc.Effects) > 16 {
		return nil, apperr.Invalid("effects", "must hold 1 to 16 effects")
	}
	cc := &compileCtx{c: c, triggers: doc.Trigger.Events}
	cr := &CompiledRule{
		ID: id, Version: version, Key: doc.Key, Name: doc.Name, Module: doc.Module, Group: doc.Group,
		Priority: doc.Priority, Enabled: doc.enabledOr(true), triggers: doc.Trigger.Events,
		keyPrefix: "r" + strconv.FormatInt(id, 10) + ".v" + strconv.Itoa(version) + ".",
	}
	cr.chance0 = fnvBytes(fnvSeed(0), cr.keyPrefix)
	var statefulIdx []int
	for i, cs := range doc.Conditions {
		path := idx("conditions", i)
		ct, ok := c.reg.condition(cs.Type)
		if !ok {
			return nil, apperr.Invalid(path+".type", "unknown condition type %q", cs.Type)
		}
		cond, err := ct.Compile(cc, cs.Params, path)
		if err != nil {
			return nil, err
		}
		cr.condTypes = append(cr.condTypes, ct.ID)
		if _, ok := cond.(statefulCondition); ok {
			cr.stateful = append(cr.stateful, cond)
			statefulIdx = append(statefulIdx, i)
		} else {
			cr.stateless = append(cr.stateless, cond)
			cr.condIndex = append(cr.condIndex, i)
		}
	}
	cr.condIndex = append(cr.condIndex, statefulIdx...)
	for i, es := range doc.Effects {
		path := idx("effects", i)
		et, ok := c.reg.effect(es.Type)
		if !ok {
			return nil, apperr.Invalid(path+".type", "unknown effect type %q", es.Type)
		}
		plan, err := et.Compile(cc, es.Params, path)
		if err != nil {
			return nil, err
		}
		cr.effects = append(cr.effects, plan)
	}
	for _, cp := range cc.caps {
		if !contains(cc.currencies, cp.Currency) {
			return nil, apperr.Invalid(cp.path+".currency", "no effect of this rule credits %q", cp.Currency)
		}
	}
	cr.caps = cc.caps
	cr.needsFacts = cc.needsFacts
	cr.needsCounters = cc.needsCounters
	cr.currencies = cc.currencies
	cr.zoneRefs = cc.zoneRefs
	cr.curRefs = cc.currencyRefs
	return cr, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// RuleSet is one guild's compiled rules and zones, immutable once built.
type RuleSet struct {
	TenantID int64
	GuildID  int64
	rules    []*CompiledRule
	byEvent  map[string][]*CompiledRule
	factsFor map[string]bool // events some enabled rule of which reads member facts
	// countersFor: events some enabled rule of which reads the counters
	countersFor map[string]bool
	zones       *zoneIndex
	zoneList    []Zone
}

// NewRuleSet indexes enabled rules by trigger, highest priority first (ties
// by id, so order is stable).
func NewRuleSet(tenantID, guildID int64, rules []*CompiledRule, zones []Zone) *RuleSet {
	rs := &RuleSet{TenantID: tenantID, GuildID: guildID, rules: rules, byEvent: map[string][]*CompiledRule{},
		factsFor: map[string]bool{}, countersFor: map[string]bool{}, zones: newZoneIndex(zones), zoneList: zones}
	sorted := append([]*CompiledRule(nil), rules...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Priority != sorted[j].Priority {
			return sorted[i].Priority > sorted[j].Priority
		}
		return sorted[i].ID < sorted[j].ID
	})
	var currencies []string
	for _, r := range sorted {
		if !r.Enabled {
			continue
		}
		for _, t := range r.triggers {
			rs.byEvent[t] = append(rs.byEvent[t], r)
			rs.factsFor[t] = rs.factsFor[t] || r.needsFacts
			rs.countersFor[t] = rs.countersFor[t] || r.needsCounters
		}
		for _, c := range r.currencies {
			if !contains(currencies, c) {
				currencies = append(currencies, c)
			}
		}
	}
	rs.zones.warm(currencies)
	return rs
}

// Rules lists every rule of the set, enabled or not.
func (rs *RuleSet) Rules() []*CompiledRule { return rs.rules }

// Zones lists the set's zones.
func (rs *RuleSet) Zones() []Zone { return rs.zoneList }

// With returns a copy of the set in which draft replaces the rule with the
// same id (or is added): a draft evaluated against live rules.
func (rs *RuleSet) With(draft *CompiledRule) *RuleSet {
	out := make([]*CompiledRule, 0, len(rs.rules)+1)
	for _, r := range rs.rules {
		if r.ID != draft.ID || draft.ID == 0 {
			out = append(out, r)
		}
	}
	return NewRuleSet(rs.TenantID, rs.GuildID, append(out, draft), rs.zoneList)
}

// Only returns a set holding just the given rules, with the same zones.
func (rs *RuleSet) Only(rules ...*CompiledRule) *RuleSet {
	return NewRuleSet(rs.TenantID, rs.GuildID, rules, rs.zoneList)
}
