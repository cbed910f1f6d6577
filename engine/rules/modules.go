package rules

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// NoModule names the rules of no module ("custom" in the dashboard).
const NoModule = ""

// Module is a set of a guild's rules switched on and off together (a
// preset's rules share its module: "classic").
type Module struct {
	Module   string   `json:"module"`
	Rules    int      `json:"rules"`
	Enabled  int      `json:"enabled"`
	RuleKeys []string `json:"rule_keys"` // the rules' keys, or names for keyless rules
}

// Modules lists the guild's modules by name, the rules of no module last.
func (s *TenantStore) Modules(ctx context.Context, guildID int64) ([]Module, error) {
	rules, err := s.ListRules(ctx, guildID)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Module{}
	for _, r := range rules {
		m := byName[r.Module]
		if m == nil {
			m = &Module{Module: r.Module, RuleKeys: []string{}}
			byName[r.Module] = m
		}
		m.Rules++
		if r.Enabled {
			m.Enabled++
		}
		m.RuleKeys = append(m.RuleKeys, ruleLabel(r))
	}
	out := make([]Module, 0, len(byName))
	for _, m := range byName {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Module) int {
		switch {
		case a.Module == b.Module:
			return 0
		case a.Module == NoModule:
			return 1
		case b.Module == NoModule:
			return -1
		case a.Module < b.Module:
			return -1
		}
		return 1
	})
	return out, nil
}

// SetModuleEnabled switches every rule of a module on or off in one
// transaction: each rule's change is audited as a toggle would be, and
// the module's in one entry listing them. It returns the rules changed
// (those already in that state are left alone).
func (s *TenantStore) SetModuleEnabled(ctx context.Context, actor tenants.Actor, guildID int64, module string, enabled bool) ([]Rule, error) {
	changed := []Rule{}
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		ts := &TenantStore{db: tx, tenantID: s.tenantID, compiler: s.compiler}
		rules, err := ts.ListRules(ctx, guildID)
		if err != nil {
			return err
		}
		found := false
		for _, r := range rules {
			if r.Module != module {
				continue
			}
			found = true
			if r.Enabled == enabled {
				continue
			}
			out, err := ts.SetRuleEnabled(ctx, actor, guildID, r.ID, enabled)
			if err != nil {
				return err
			}
			changed = append(changed, out)
		}
		if !found {
			return apperr.NotFound("module")
		}
		if len(changed) == 0 {
			return nil
		}
		keys := make([]string, len(changed))
		for i, r := range changed {
			keys[i] = ruleLabel(r)
		}
		after, _ := json.Marshal(map[string]any{"enabled": enabled, "rules": keys})
		return tenants.NewStore(tx).ForTenant(s.tenantID).Audit().Record(ctx, tenants.AuditEntry{
			GuildID: &guildID, Actor: actorID(actor), RequestID: actor.RequestID,
			Action: "rules.module.set_enabled", Target: "module:" + module, After: after})
	})
	return changed, err
}

func ruleLabel(r Rule) string {
	if r.Key != "" {
		return r.Key
	}
	return r.Name
}
