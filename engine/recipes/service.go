package recipes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// Service exports and imports recipes through the engines' own stores,
// so that everything an import creates is validated and audited as if an
// operator had created it by hand.
type Service struct {
	db         bun.IDB
	ledger     *ledger.Service
	rules      *rules.Store
	milestones *milestones.Service
}

// New builds the service over the engines.
func New(db bun.IDB, led *ledger.Service, rs *rules.Store, ms *milestones.Service) *Service {
	return &Service{db: db, ledger: led, rules: rs, milestones: ms}
}

// current is a guild's configuration in recipe form, with what an import
// matches on.
type current struct {
	recipe   Recipe
	ruleKeys map[string]bool // rules that have a key
	channels map[string]bool // the guild's channels
}

// Export returns the guild's configuration as a recipe named name. A rule
// without a key gets one from its name, for the recipe only: importing
// the recipe back into this guild matches it by name.
func (s *Service) Export(ctx context.Context, tenantID, guildID int64, name string) (Recipe, error) {
	cur, err := s.current(ctx, tenantID, guildID)
	if err != nil {
		return Recipe{}, err
	}
	r := cur.recipe
	r.Name = name
	return r, nil
}

func (s *Service) current(ctx context.Context, tenantID, guildID int64) (current, error) {
	cur := current{recipe: Recipe{Format: FormatVersion, Currencies: []Currency{}, Zones: []Zone{}, Rules: []Rule{}, Milestones: []Milestone{}},
		ruleKeys: map[string]bool{}, channels: map[string]bool{}}
	cs, err := s.ledger.ForTenant(tenantID).Currencies(ctx, guildID)
	if err != nil {
		return cur, err
	}
	for _, c := range cs {
		cur.recipe.Currencies = append(cur.recipe.Currencies, currencyOf(c))
	}
	rs := s.rules.ForTenant(tenantID)
	zs, err := rs.ListZones(ctx, guildID)
	if err != nil {
		return cur, err
	}
	for _, z := range zs {
		out := Zone{Name: z.Name, Multipliers: z.Multipliers}
		for _, ch := range z.Channels {
			out.Channels = append(out.Channels, strconv.FormatInt(int64(ch), 10))
		}
		cur.recipe.Zones = append(cur.recipe.Zones, out)
	}
	list, err := rs.ListRules(ctx, guildID)
	if err != nil {
		return cur, err
	}
	used := map[string]bool{}
	for _, r := range list {
		used[r.Key] = r.Key != ""
	}
	for _, r := range list {
		d := r.Document
		enabled := r.Enabled
		d.Enabled = &enabled
		if r.Key != "" {
			cur.ruleKeys[r.Key] = true
		} else {
			d.Key = uniqueKey(slug(r.Name), used)
		}
		cur.recipe.Rules = append(cur.recipe.Rules, d)
	}
	ts, err := s.milestones.ForTenant(tenantID).List(ctx, guildID)
	if err != nil {
		return cur, err
	}
	for _, t := range ts {
		cur.recipe.Milestones = append(cur.recipe.Milestones, milestoneOf(t))
	}
	terms, err := tenants.NewStore(s.db).ForTenant(tenantID).Guilds().Taxonomy(ctx, guildID)
	if err != nil {
		return cur, err
	}
	for _, t := range terms {
		if t.Label != t.Default {
			if cur.recipe.Taxonomy == nil {
				cur.recipe.Taxonomy = map[string]tenants.Label{}
			}
			cur.recipe.Taxonomy[t.Term] = t.Label
		}
	}
	chs, err := tenants.NewStore(s.db).ForTenant(tenantID).Directory().Channels(ctx, guildID)
	if err != nil {
		return cur, err
	}
	for _, ch := range chs {
		if !ch.Deleted {
			cur.channels[strconv.FormatInt(ch.ID, 10)] = true
		}
	}
	return cur, nil
}

// Section is what an import does to one kind of thing, by key (code for
// currencies, name for zones).
type Section struct {
	Create  []string `json:"create"`
	Same    []string `json:"same"`    // present as the recipe has it
	Differs []string `json:"differs"` // present, not as the recipe has it: kept as it is
}

// Plan is what importing a recipe does (Preview) or did (Apply).
type Plan struct {
	Currencies Section  `json:"currencies"`
	Zones      Section  `json:"zones"`
	Rules      Section  `json:"rules"`
	Milestones Section  `json:"milestones"`
	Taxonomy   Section  `json:"taxonomy"` // by term: a label the guild has not renamed is created
	Warnings   []string `json:"warnings"`
	Applied    bool     `json:"applied"`
}

// Preview compares the recipe with the guild: nothing is written. What
// it would create is checked as its store would check it, the error
// naming the recipe's field.
func (s *Service) Preview(ctx context.Context, tenantID, guildID int64, r Recipe) (Plan, error) {
	cur, err := s.current(ctx, tenantID, guildID)
	if err != nil {
		return Plan{}, err
	}
	p := plan(cur, r)
	return p, s.check(cur, r, p)
}

// check validates the items the plan creates, before anything is
// written: the stores write one kind at a time, so an item refused late
// would leave the earlier kinds created.
func (s *Service) check(cur current, r Recipe, p Plan) error {
	at := func(section string, i int, err error) error {
		var ve *apperr.ValidationError
		if errors.As(err, &ve) {
			return apperr.Invalid(fmt.Sprintf("%s[%d].%s", section, i, ve.Field), "%s", ve.Message)
		}
		return err
	}
	for i, c := range r.Currencies {
		if slices.Contains(p.Currencies.Create, c.Code) {
			if err := ledger.ValidateCurrency(c.ledger(0)); err != nil {
				return at("currencies", i, err)
			}
		}
	}
	for i, z := range r.Zones {
		if slices.Contains(p.Zones.Create, z.Name) {
			if err := rules.ValidateZone(rules.Zone{Name: z.Name, Multipliers: z.Multipliers}); err != nil {
				return at("zones", i, err)
			}
		}
	}
	for i, d := range r.Rules {
		if slices.Contains(p.Rules.Create, d.Key) {
			if err := s.rules.Validate(d); err != nil {
				return at("rules", i, err)
			}
		}
	}
	currencies := map[string]bool{}
	for _, c := range append(cur.recipe.Currencies, r.Currencies...) {
		currencies[c.Code] = true
	}
	for i, m := range r.Milestones {
		if slices.Contains(p.Milestones.Create, m.Key) {
			for j, rw := range m.Rewards {
				if rw.Type == milestones.RewardCurrency && !currencies[rw.Currency] {
					return apperr.Invalid(fmt.Sprintf("milestones[%d].rewards[%d].currency", i, j), "%q is neither in the recipe nor in this server", rw.Currency)
				}
			}
			if err := milestones.ValidateTemplate(m.template(0)); err != nil {
				return at("milestones", i, err)
			}
		}
	}
	return tenants.ValidateLabels("taxonomy", r.Taxonomy)
}

func plan(cur current, r Recipe) Plan {
	p := Plan{Currencies: newSection(), Zones: newSection(), Rules: newSection(), Milestones: newSection(), Taxonomy: newSection(), Warnings: []string{}}
	for _, term := range slices.Sorted(maps.Keys(r.Taxonomy)) {
		have, renamed := cur.recipe.Taxonomy[term]
		switch {
		case !renamed:
			p.Taxonomy.Create = append(p.Taxonomy.Create, term)
		case have == r.Taxonomy[term]:
			p.Taxonomy.Same = append(p.Taxonomy.Same, term)
		default:
			p.Taxonomy.Differs = append(p.Taxonomy.Differs, term)
		}
	}
	compare(&p.Currencies, r.Currencies, cur.recipe.Currencies, func(c Currency) string { return c.Code })
	compare(&p.Zones, r.Zones, cur.recipe.Zones, func(z Zone) string { return z.Name })
	// A rule is the guild's if its key matches, or (keyless in the guild)
	// its name does: that is how an exported keyless rule comes back.
	compare(&p.Rules, r.Rules, cur.recipe.Rules, func(d Rule) string { return d.Key },
		func(d Rule, have Rule) bool { return !cur.ruleKeys[have.Key] && have.Name == d.Name })
	compare(&p.Milestones, r.Milestones, cur.recipe.Milestones, func(m Milestone) string { return m.Key })
	for _, z := range r.Zones {
		for _, ch := range z.Channels {
			if !cur.channels[ch] && slices.Contains(p.Zones.Create, z.Name) {
				p.Warnings = append(p.Warnings, fmt.Sprintf("zone %s: channel %s is not a channel of this server; it is left out", z.Name, ch))
			}
		}
	}
	return p
}

func newSection() Section { return Section{Create: []string{}, Same: []string{}, Differs: []string{}} }

// compare sorts want into the section by whether have holds it (by key,
// or by alsoMatches) and whether their JSON is the same.
func compare[T any](sec *Section, want, have []T, key func(T) string, alsoMatches ...func(want, have T) bool) {
	for _, w := range want {
		var found *T
		for i := range have {
			if key(have[i]) == key(w) {
				found = &have[i]
				break
			}
		}
		for _, m := range alsoMatches {
			for i := range have {
				if found == nil && m(w, have[i]) {
					found = &have[i]
				}
			}
		}
		switch {
		case found == nil:
			sec.Create = append(sec.Create, key(w))
		case sameJSON(w, *found, key(w)):
			sec.Same = append(sec.Same, key(w))
		default:
			sec.Differs = append(sec.Differs, key(w))
		}
	}
}

// sameJSON compares two things by their JSON, the key set aside (a
// keyless rule matched by name carries an exported key).
func sameJSON(a, b any, key string) bool {
	norm := func(v any) string {
		raw, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		if m["key"] != nil {
			m["key"] = key
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	return norm(a) == norm(b)
}

// Counts is how many of each an import creates, for plan limits.
func (p Plan) Counts() (currencies, rules, milestones int) {
	return len(p.Currencies.Create), len(p.Rules.Create), len(p.Milestones.Create)
}

// Apply creates what the guild lacks of the recipe, each through its
// store (validated, audited), and records the import in the audit log.
// Currencies first, as rules and milestone rewards name them. It is
// idempotent: applying the same recipe again creates nothing.
func (s *Service) Apply(ctx context.Context, actor tenants.Actor, tenantID, guildID int64, r Recipe) (Plan, error) {
	cur, err := s.current(ctx, tenantID, guildID)
	if err != nil {
		return Plan{}, err
	}
	p := plan(cur, r)
	if err := s.check(cur, r, p); err != nil {
		return p, err
	}
	led := s.ledger.ForTenant(tenantID)
	for _, c := range r.Currencies {
		if !slices.Contains(p.Currencies.Create, c.Code) {
			continue
		}
		_, err := led.CreateCurrency(ctx, actor, c.ledger(guildID))
		if err != nil {
			return p, fmt.Errorf("currency %s: %w", c.Code, err)
		}
	}
	preset := rules.Preset{Key: "recipe", Name: r.Name}
	for _, z := range r.Zones {
		if !slices.Contains(p.Zones.Create, z.Name) {
			continue
		}
		zone := rules.Zone{Name: z.Name, Multipliers: z.Multipliers, Channels: []rules.Snowflake{}}
		for _, ch := range z.Channels {
			if id, err := strconv.ParseInt(ch, 10, 64); err == nil && cur.channels[ch] {
				zone.Channels = append(zone.Channels, rules.Snowflake(id))
			}
		}
		preset.Zones = append(preset.Zones, zone)
	}
	for _, d := range r.Rules {
		if slices.Contains(p.Rules.Create, d.Key) {
			preset.Rules = append(preset.Rules, d)
		}
	}
	if len(preset.Zones)+len(preset.Rules) > 0 {
		if _, err := s.rules.ForTenant(tenantID).InstallPreset(ctx, actor, guildID, preset); err != nil {
			return p, err
		}
	}
	ms := s.milestones.ForTenant(tenantID)
	for _, m := range r.Milestones {
		if !slices.Contains(p.Milestones.Create, m.Key) {
			continue
		}
		_, err := ms.Create(ctx, actor, m.template(guildID))
		if err != nil && !errors.Is(err, apperr.ErrConflict) { // a concurrent import made it
			return p, fmt.Errorf("milestone %s: %w", m.Key, err)
		}
	}
	if len(p.Taxonomy.Create) > 0 {
		labels := maps.Clone(cur.recipe.Taxonomy)
		if labels == nil {
			labels = map[string]tenants.Label{}
		}
		for _, term := range p.Taxonomy.Create {
			labels[term] = r.Taxonomy[term]
		}
		if _, err := tenants.NewStore(s.db).ForTenant(tenantID).Guilds().SetTaxonomy(ctx, actor, guildID, labels); err != nil {
			return p, fmt.Errorf("taxonomy: %w", err)
		}
	}
	p.Applied = true
	after, _ := json.Marshal(map[string]any{"recipe": r.Name, "plan": p})
	err = tenants.NewStore(s.db).ForTenant(tenantID).Audit().Record(ctx, tenants.AuditEntry{GuildID: &guildID, Actor: actor.ID,
		RequestID: actor.RequestID, Action: "recipe.applied", Target: "recipe:" + r.Name, Before: []byte("null"), After: after})
	return p, err
}

var nonSlug = regexp.MustCompile(`[^a-z0-9_.-]+`)

// slug makes a rule key from a name.
func slug(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 56 {
		s = s[:56]
	}
	if s == "" {
		s = "rule"
	}
	return s
}

func uniqueKey(base string, used map[string]bool) string {
	k := base
	for i := 2; used[k]; i++ {
		k = base + "-" + strconv.Itoa(i)
	}
	used[k] = true
	return k
}
