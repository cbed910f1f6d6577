package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// Preset is a named set of zones and rules installed in one call.
type Preset struct {
	Key   string
	Name  string
	Zones []Zone // channels empty: operators assign channels to zones
	Rules []Document
}

// InstallReport says what an install did.
type InstallReport struct {
	ZonesCreated []string `json:"zones_created"`
	RulesCreated []string `json:"rules_created"`
	// RulesKept are rules already present under the preset's key; an
	// install never overwrites them (the operator may have tuned them).
	RulesKept []string `json:"rules_kept"`
}

// Changed reports whether the install created anything.
func (r InstallReport) Changed() bool { return len(r.ZonesCreated)+len(r.RulesCreated) > 0 }

// InstallPreset adds a preset's zones and rules to a guild in one
// transaction, audited when it creates something. It is idempotent: zones
// are matched by name and rules by key, and what exists is kept as it is.
// The currencies the rules credit must exist already (a
// *MissingCurrenciesError otherwise); milestones.InstallClassic creates
// the Classic ones.
func (s *TenantStore) InstallPreset(ctx context.Context, actor tenants.Actor, guildID int64, p Preset) (InstallReport, error) {
	var rep InstallReport
	for i, d := range p.Rules {
		if d.Key == "" {
			return rep, fmt.Errorf("preset %s: rule %d has no key", p.Key, i)
		}
		if err := s.compiler.Validate(d); err != nil {
			return rep, fmt.Errorf("preset %s: rule %s: %w", p.Key, d.Key, err)
		}
	}
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		ts := &TenantStore{db: tx, tenantID: s.tenantID, compiler: s.compiler}
		// Serialise concurrent installs into the same guild.
		if _, err := tx.ExecContext(ctx, "SELECT 1 FROM guilds WHERE tenant_id = ? AND id = ? FOR UPDATE", s.tenantID, guildID); err != nil {
			return dbError(err, "guild")
		}
		zones, err := ts.ListZones(ctx, guildID)
		if err != nil {
			return err
		}
		for _, z := range p.Zones {
			if hasZone(zones, z.Name) {
				continue
			}
			z.GuildID, z.ID = guildID, 0
			if _, err := ts.CreateZone(ctx, actor, z); err != nil {
				return fmt.Errorf("zone %s: %w", z.Name, err)
			}
			rep.ZonesCreated = append(rep.ZonesCreated, z.Name)
		}
		rules, err := ts.ListRules(ctx, guildID)
		if err != nil {
			return err
		}
		if err := s.requireCurrencies(ctx, tx, guildID, p, rules); err != nil {
			return err
		}
		for _, d := range p.Rules {
			if hasRuleKey(rules, d.Key) {
				rep.RulesKept = append(rep.RulesKept, d.Key)
				continue
			}
			if _, err := ts.CreateRule(ctx, actor, guildID, d); err != nil {
				return fmt.Errorf("rule %s: %w", d.Key, err)
			}
			rep.RulesCreated = append(rep.RulesCreated, d.Key)
		}
		if !rep.Changed() {
			return nil // nothing to audit
		}
		after, _ := json.Marshal(rep)
		return tenants.NewStore(tx).ForTenant(s.tenantID).Audit().Record(ctx, tenants.AuditEntry{
			GuildID: &guildID, Actor: actorID(actor), RequestID: actor.RequestID,
			Action: "rules.preset.install", Target: "preset:" + p.Key, After: after,
		})
	})
	if err != nil {
		return InstallReport{}, err
	}
	return rep, nil
}

// MissingCurrenciesError refuses a preset whose rules credit or debit
// currencies the guild does not have: installed anyway, each such rule
// would fail at every event until auto-disabled. It is a conflict (409).
type MissingCurrenciesError struct {
	Preset     string
	Currencies []string
}

func (e *MissingCurrenciesError) Error() string {
	return fmt.Sprintf("preset %s credits currencies this guild does not have: %s (create them first)",
		e.Preset, strings.Join(e.Currencies, ", "))
}

func (e *MissingCurrenciesError) Unwrap() error { return apperr.ErrConflict }

// requireCurrencies checks that every currency the preset's rules still to
// be created name exists in the guild. The ledger's table is read here, in
// the install's transaction, as the rules store has no ledger to ask.
func (s *TenantStore) requireCurrencies(ctx context.Context, tx bun.IDB, guildID int64, p Preset, existing []Rule) error {
	var have []string
	if err := tx.NewSelect().Table("ledger_currencies").Column("code").
		Where("tenant_id = ? AND guild_id = ?", s.tenantID, guildID).Scan(ctx, &have); err != nil {
		return fmt.Errorf("read currencies: %w", err)
	}
	var missing []string
	for _, d := range p.Rules {
		if hasRuleKey(existing, d.Key) {
			continue
		}
		cr, err := s.compiler.compile(0, 0, d)
		if err != nil {
			return fmt.Errorf("preset %s: rule %s: %w", p.Key, d.Key, err)
		}
		for _, ref := range cr.curRefs {
			if !contains(have, ref.name) && !contains(missing, ref.name) {
				missing = append(missing, ref.name)
			}
		}
	}
	if len(missing) > 0 {
		return &MissingCurrenciesError{Preset: p.Key, Currencies: missing}
	}
	return nil
}

func hasZone(zs []Zone, name string) bool {
	for _, z := range zs {
		if z.Name == name {
			return true
		}
	}
	return false
}

func hasRuleKey(rs []Rule, key string) bool {
	for _, r := range rs {
		if r.Key == key {
			return true
		}
	}
	return false
}

// CompilePreset compiles a preset without storing it, numbering rules
// 1..n in order (golden tests, previews).
func (c *Compiler) CompilePreset(p Preset) ([]*CompiledRule, error) {
	out := make([]*CompiledRule, 0, len(p.Rules))
	for i, d := range p.Rules {
		cr, err := c.Compile(Rule{ID: int64(i + 1), Version: 1, Enabled: d.enabledOr(true), Document: d})
		if err != nil {
			return nil, fmt.Errorf("preset %s: rule %s: %w", p.Key, d.Key, err)
		}
		out = append(out, cr)
	}
	return out, nil
}
