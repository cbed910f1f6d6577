// Package recipes exports a guild's configuration (currencies, zones,
// rules, milestones) as a Recipe document, JSON or YAML, and imports one:
// a preview says what would be created, what is already there as the
// recipe has it and what differs, and applying creates only what is
// missing, as presets do (an operator's tuned rule is never overwritten).
package recipes

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/goccy/go-yaml"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/ledger/levels"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// FormatVersion is the recipe format this code writes and reads.
const FormatVersion = 1

// Recipe is a guild's configuration, free of the guild's ids except the
// zones' channels (kept for restoring into the same guild; dropped with a
// warning where the target guild has no such channel).
type Recipe struct {
	Format      int         `json:"synapse_recipe"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Currencies  []Currency  `json:"currencies"`
	Zones       []Zone      `json:"zones"`
	Rules       []Rule      `json:"rules"`
	Milestones  []Milestone `json:"milestones"`
	// Taxonomy is what the community calls Synapse's terms (only those it
	// renamed).
	Taxonomy map[string]tenants.Label `json:"taxonomy,omitempty"`
}

// Currency is a currency's definition.
type Currency struct {
	Code          string        `json:"code"`
	Name          string        `json:"name"`
	Symbol        string        `json:"symbol,omitempty"`
	Decimals      int16         `json:"decimals,omitempty"`
	Transferable  bool          `json:"transferable,omitempty"`
	Spendable     bool          `json:"spendable,omitempty"`
	AllowNegative bool          `json:"allow_negative,omitempty"`
	Seasonal      bool          `json:"seasonal,omitempty"`
	Primary       bool          `json:"primary,omitempty"`
	LevelCurve    *levels.Curve `json:"level_curve,omitempty"`
}

// Zone is a zone: its name, channels and multipliers.
type Zone struct {
	Name        string             `json:"name"`
	Channels    []string           `json:"channels,omitempty"`
	Multipliers map[string]float64 `json:"multipliers,omitempty"`
}

// Rule is a rule's document; its key is what an import matches on.
type Rule = rules.Document

// Milestone is a milestone template without its guild's ids.
type Milestone struct {
	Key         string                 `json:"key"`
	Name        string                 `json:"name"`
	Description string                 `json:"description,omitempty"`
	Emoji       string                 `json:"emoji,omitempty"`
	IconURL     string                 `json:"icon_url,omitempty"`
	Rarity      string                 `json:"rarity"`
	Hidden      bool                   `json:"hidden,omitempty"`
	Repeatable  bool                   `json:"repeatable,omitempty"`
	MaxAwards   int                    `json:"max_awards,omitempty"`
	Scope       string                 `json:"scope"`
	Disabled    bool                   `json:"disabled,omitempty"`
	Requirement milestones.Requirement `json:"requirement"`
	Rewards     []milestones.Reward    `json:"rewards,omitempty"`
}

// currencyOf is a guild's currency in recipe form.
func currencyOf(c ledger.Currency) Currency {
	return Currency{Code: c.Code, Name: c.Name, Symbol: c.Symbol, Decimals: c.Decimals, Transferable: c.Transferable,
		Spendable: c.Spendable, AllowNegative: c.AllowNegative, Seasonal: c.Seasonal, Primary: c.Primary, LevelCurve: c.LevelCurve}
}

// ledger is the currency to create in guildID.
func (c Currency) ledger(guildID int64) ledger.Currency {
	return ledger.Currency{GuildID: guildID, Code: c.Code, Name: c.Name, Symbol: c.Symbol, Decimals: c.Decimals,
		Transferable: c.Transferable, Spendable: c.Spendable, AllowNegative: c.AllowNegative, Seasonal: c.Seasonal,
		Primary: c.Primary, LevelCurve: c.LevelCurve}
}

// milestoneOf is a guild's milestone template in recipe form.
func milestoneOf(t milestones.Template) Milestone {
	return Milestone{Key: t.Key, Name: t.Name, Description: t.Description, Emoji: t.Emoji, IconURL: t.IconURL, Rarity: t.Rarity,
		Hidden: t.Hidden, Repeatable: t.Repeatable, MaxAwards: t.MaxAwards, Scope: t.Scope, Disabled: t.Disabled,
		Requirement: t.Requirement, Rewards: t.Rewards}
}

// template is the milestone template to create in guildID.
func (m Milestone) template(guildID int64) milestones.Template {
	return milestones.Template{GuildID: guildID, Key: m.Key, Name: m.Name, Description: m.Description, Emoji: m.Emoji,
		IconURL: m.IconURL, Rarity: m.Rarity, Hidden: m.Hidden, Repeatable: m.Repeatable, MaxAwards: m.MaxAwards, Scope: m.Scope,
		Disabled: m.Disabled, Requirement: m.Requirement, Rewards: m.Rewards}
}

// FromPreset is a preset as a recipe (its shop items aside), to preview
// what installing it would add.
func FromPreset(name string, cs []ledger.Currency, docs []rules.Document, ts []milestones.Template) Recipe {
	r := Recipe{Format: FormatVersion, Name: name, Rules: docs}
	for _, c := range cs {
		r.Currencies = append(r.Currencies, currencyOf(c))
	}
	for _, t := range ts {
		r.Milestones = append(r.Milestones, milestoneOf(t))
	}
	return r
}

// Encode writes the recipe as JSON or YAML ("yaml"); both read back alike.
func Encode(r Recipe, format string) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("recipe: encode: %w", err)
	}
	if format != "yaml" {
		return b, nil
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		return nil, fmt.Errorf("recipe: encode yaml: %w", err)
	}
	return y, nil
}

// Decode reads a recipe in JSON or YAML (a document that starts with "{"
// is JSON). Unknown fields are refused, naming them: a typo in a recipe
// must not be dropped silently.
func Decode(doc []byte) (Recipe, error) {
	raw := bytes.TrimSpace(doc)
	if len(raw) == 0 {
		return Recipe{}, apperr.Invalid("recipe", "is empty")
	}
	if raw[0] != '{' {
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return Recipe{}, apperr.Invalid("recipe", "is neither JSON nor YAML: %v", err)
		}
		raw = j
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var r Recipe
	if err := dec.Decode(&r); err != nil {
		return Recipe{}, apperr.Invalid("recipe", "%v", err)
	}
	if r.Format != FormatVersion {
		return Recipe{}, apperr.Invalid("synapse_recipe", "must be %d (this recipe says %d)", FormatVersion, r.Format)
	}
	return r, r.validate()
}

// validate checks what the stores would not: names and keys present and
// unique within the recipe.
func (r Recipe) validate() error {
	seen := map[string]bool{}
	unique := func(field, section string, i int, key string) error {
		if key == "" {
			return apperr.Invalid(fmt.Sprintf("%s[%d].%s", section, i, field), "is required")
		}
		if seen[section+"/"+key] {
			return apperr.Invalid(fmt.Sprintf("%s[%d].%s", section, i, field), "%q appears twice", key)
		}
		seen[section+"/"+key] = true
		return nil
	}
	for i, c := range r.Currencies {
		if err := unique("code", "currencies", i, c.Code); err != nil {
			return err
		}
	}
	for i, z := range r.Zones {
		if err := unique("name", "zones", i, z.Name); err != nil {
			return err
		}
	}
	for i, d := range r.Rules {
		if err := unique("key", "rules", i, d.Key); err != nil {
			return err
		}
	}
	for i, m := range r.Milestones {
		if err := unique("key", "milestones", i, m.Key); err != nil {
			return err
		}
	}
	return nil
}
