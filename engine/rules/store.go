package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// NotifyChannel is the Postgres channel every rule or zone change is
// announced on, payload "<tenant_id>:<guild_id>", sent in the changing
// transaction (so delivered only on commit).
const NotifyChannel = "synapse_rules"

// Store is the entry point to rule storage; ForTenant binds it to a tenant.
type Store struct {
	db       bun.IDB
	compiler *Compiler
}

// NewStore wraps a bun handle; the compiler validates documents before
// anything is written.
func NewStore(db bun.IDB, compiler *Compiler) *Store { return &Store{db: db, compiler: compiler} }

// ForTenant returns the rule store bound to one tenant.
func (s *Store) ForTenant(tenantID int64) *TenantStore {
	return &TenantStore{db: s.db, tenantID: tenantID, compiler: s.compiler}
}

// AutoDisable implements Disabler for the engine.
func (s *Store) AutoDisable(ctx context.Context, tenantID, guildID, ruleID int64, version int, reason string) error {
	return s.ForTenant(tenantID).AutoDisable(ctx, guildID, ruleID, version, reason)
}

// LoadGuild implements Loader for the cache.
func (s *Store) LoadGuild(ctx context.Context, tenantID, guildID int64) ([]Rule, []Zone, error) {
	ts := s.ForTenant(tenantID)
	rs, err := ts.ListRules(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	zs, err := ts.ListZones(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	return rs, zs, nil
}

// TenantStore reads and writes one tenant's rules and zones; every query
// filters on the tenant.
type TenantStore struct {
	db       bun.IDB
	tenantID int64
	compiler *Compiler
}

type ruleRow struct {
	bun.BaseModel `bun:"table:rules,alias:r"`

	TenantID       int64           `bun:"tenant_id,pk"`
	ID             int64           `bun:"id,pk,autoincrement"`
	GuildID        int64           `bun:"guild_id"`
	Key            *string         `bun:"key"`
	Version        int             `bun:"version"`
	Name           string          `bun:"name"`
	Module         string          `bun:"module"`
	Group          string          `bun:"rule_group"`
	Priority       int             `bun:"priority"`
	Enabled        bool            `bun:"enabled"`
	DisabledReason string          `bun:"disabled_reason"`
	Document       json.RawMessage `bun:"document,type:jsonb"`
	CreatedAt      time.Time       `bun:"created_at,nullzero,default:now()"`
	UpdatedAt      time.Time       `bun:"updated_at,nullzero,default:now()"`
}

type versionRow struct {
	bun.BaseModel `bun:"table:rule_versions,alias:v"`

	TenantID  int64           `bun:"tenant_id,pk"`
	RuleID    int64           `bun:"rule_id,pk"`
	Version   int             `bun:"version,pk"`
	Document  json.RawMessage `bun:"document,type:jsonb"`
	CreatedBy string          `bun:"created_by"`
	CreatedAt time.Time       `bun:"created_at,nullzero,default:now()"`
}

func (r *ruleRow) rule() (Rule, error) {
	out := Rule{ID: r.ID, GuildID: r.GuildID, Version: r.Version, Name: r.Name, Module: r.Module, Group: r.Group,
		Priority: r.Priority, Enabled: r.Enabled, DisabledReason: r.DisabledReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.Key != nil {
		out.Key = *r.Key
	}
	if err := json.Unmarshal(r.Document, &out.Document); err != nil {
		return Rule{}, fmt.Errorf("rule %d: stored document: %w", r.ID, err)
	}
	return out, nil
}

// normalise fills a row's columns from a validated document.
func (r *ruleRow) setDocument(doc Document) error {
	doc.Enabled = nil // the head's enabled flag is the truth after creation
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode rule document: %w", err)
	}
	r.Document, r.Name, r.Module, r.Group, r.Priority = b, doc.Name, doc.Module, doc.Group, doc.Priority
	r.Key = nil
	if doc.Key != "" {
		k := doc.Key
		r.Key = &k
	}
	return nil
}

// CreateRule validates and stores a new rule as version 1. An invalid
// document is refused with a *apperr.ValidationError naming the JSON path
// and nothing is written.
func (s *TenantStore) CreateRule(ctx context.Context, actor tenants.Actor, guildID int64, doc Document) (Rule, error) {
	if err := s.compiler.Validate(doc); err != nil {
		return Rule{}, err
	}
	var out Rule
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		if err := s.validateIn(ctx, tx, guildID, doc); err != nil {
			return err
		}
		row := &ruleRow{TenantID: s.tenantID, GuildID: guildID, Version: 1, Enabled: doc.enabledOr(true)}
		if err := row.setDocument(doc); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(row).ExcludeColumn("id").Returning("*").Exec(ctx); err != nil {
			return dbError(err, "rule")
		}
		if err := s.insertVersion(ctx, tx, row, actor); err != nil {
			return err
		}
		r, err := row.rule()
		if err != nil {
			return err
		}
		out = r
		return s.changed(ctx, tx, actor, guildID, "rule.create", "rule:"+strconv.FormatInt(row.ID, 10), nil, r)
	})
	return out, err
}

// UpdateRule validates a new document and stores it as the next version.
// expectVersion > 0 makes the update conditional (optimistic locking):
// a rule changed since is refused with ErrConflict.
func (s *TenantStore) UpdateRule(ctx context.Context, actor tenants.Actor, guildID, ruleID int64, doc Document, expectVersion int) (Rule, error) {
	if err := s.compiler.Validate(doc); err != nil {
		return Rule{}, err
	}
	var out Rule
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		before, row, err := s.lock(ctx, tx, guildID, ruleID)
		if err != nil {
			return err
		}
		if err := s.validateIn(ctx, tx, guildID, doc); err != nil {
			return err
		}
		if expectVersion > 0 && row.Version != expectVersion {
			return fmt.Errorf("rule %d is at version %d, not %d: %w", ruleID, row.Version, expectVersion, apperr.ErrConflict)
		}
		row.Version++
		if err := row.setDocument(doc); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(row).Column("key", "version", "name", "module", "rule_group", "priority", "document").
			Set("updated_at = now()").Where("tenant_id = ? AND id = ?", s.tenantID, ruleID).Returning("*").Exec(ctx); err != nil {
			return dbError(err, "rule")
		}
		if err := s.insertVersion(ctx, tx, row, actor); err != nil {
			return err
		}
		if out, err = row.rule(); err != nil {
			return err
		}
		return s.changed(ctx, tx, actor, guildID, "rule.update", "rule:"+strconv.FormatInt(ruleID, 10), &before, out)
	})
	return out, err
}

// SetRuleEnabled switches a rule on or off without a new version.
func (s *TenantStore) SetRuleEnabled(ctx context.Context, actor tenants.Actor, guildID, ruleID int64, enabled bool) (Rule, error) {
	action := "rule.disable"
	if enabled {
		action = "rule.enable"
	}
	return s.setEnabled(ctx, actor, guildID, ruleID, enabled, "", 0, action)
}

// AutoDisable switches off a rule that kept failing at run time, with the
// reason in the audit log. It does nothing if the rule has moved past
// version (an operator already changed it) or is already disabled.
func (s *TenantStore) AutoDisable(ctx context.Context, guildID, ruleID int64, version int, reason string) error {
	_, err := s.setEnabled(ctx, tenants.Actor{ID: "system"}, guildID, ruleID, false, reason, version, "rule.auto_disable")
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

var errSkip = errors.New("nothing to change")

func (s *TenantStore) setEnabled(ctx context.Context, actor tenants.Actor, guildID, ruleID int64, enabled bool, reason string, onlyVersion int, action string) (Rule, error) {
	var out Rule
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		before, row, err := s.lock(ctx, tx, guildID, ruleID)
		if err != nil {
			return err
		}
		if onlyVersion > 0 && (row.Version != onlyVersion || !row.Enabled) {
			return errSkip
		}
		row.Enabled, row.DisabledReason = enabled, reason
		if _, err := tx.NewUpdate().Model(row).Column("enabled", "disabled_reason").Set("updated_at = now()").
			Where("tenant_id = ? AND id = ?", s.tenantID, ruleID).Returning("*").Exec(ctx); err != nil {
			return dbError(err, "rule")
		}
		if out, err = row.rule(); err != nil {
			return err
		}
		return s.changed(ctx, tx, actor, guildID, action, "rule:"+strconv.FormatInt(ruleID, 10), &before, out)
	})
	return out, err
}

// DeleteRule removes a rule and its versions; the audit entry keeps the
// last state.
func (s *TenantStore) DeleteRule(ctx context.Context, actor tenants.Actor, guildID, ruleID int64) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		before, _, err := s.lock(ctx, tx, guildID, ruleID)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*ruleRow)(nil)).Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, ruleID).Exec(ctx); err != nil {
			return dbError(err, "rule")
		}
		return s.changed(ctx, tx, actor, guildID, "rule.delete", "rule:"+strconv.FormatInt(ruleID, 10), &before, nil)
	})
}

// GetRule returns one rule of a guild.
func (s *TenantStore) GetRule(ctx context.Context, guildID, ruleID int64) (Rule, error) {
	var row ruleRow
	if err := s.db.NewSelect().Model(&row).Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, ruleID).Scan(ctx); err != nil {
		return Rule{}, dbError(err, "rule")
	}
	return row.rule()
}

// ListRules returns a guild's rules, highest priority first.
func (s *TenantStore) ListRules(ctx context.Context, guildID int64) ([]Rule, error) {
	var rows []ruleRow
	if err := s.db.NewSelect().Model(&rows).Where("tenant_id = ? AND guild_id = ?", s.tenantID, guildID).
		Order("priority DESC", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	out := make([]Rule, 0, len(rows))
	for i := range rows {
		r, err := rows[i].rule()
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// LiveSet compiles the guild's stored rules and zones as the workers' cache
// does, for dry runs against the live set. A stored rule that no longer
// compiles is left out, as the workers leave it out; leftOut names them.
func (s *TenantStore) LiveSet(ctx context.Context, guildID int64) (set *RuleSet, leftOut []RuleRef, err error) {
	rs, err := s.ListRules(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	zs, err := s.ListZones(ctx, guildID)
	if err != nil {
		return nil, nil, err
	}
	list := make([]*CompiledRule, 0, len(rs))
	for _, r := range rs {
		cr, err := s.compiler.Compile(r)
		if err != nil {
			leftOut = append(leftOut, RuleRef{ID: r.ID, Name: r.Name})
			continue
		}
		list = append(list, cr)
	}
	return NewRuleSet(s.tenantID, guildID, list, zs), leftOut, nil
}

// RuleVersions returns a rule's versions, newest first.
func (s *TenantStore) RuleVersions(ctx context.Context, guildID, ruleID int64) ([]RuleVersion, error) {
	if _, err := s.GetRule(ctx, guildID, ruleID); err != nil {
		return nil, err
	}
	var rows []versionRow
	if err := s.db.NewSelect().Model(&rows).Where("tenant_id = ? AND rule_id = ?", s.tenantID, ruleID).
		Order("version DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list rule versions: %w", err)
	}
	out := make([]RuleVersion, 0, len(rows))
	for _, v := range rows {
		rv := RuleVersion{RuleID: v.RuleID, Version: v.Version, CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt}
		if err := json.Unmarshal(v.Document, &rv.Document); err != nil {
			return nil, fmt.Errorf("rule %d v%d: stored document: %w", ruleID, v.Version, err)
		}
		out = append(out, rv)
	}
	return out, nil
}

// validateIn checks a valid document against the guild (zones it names).
// The zones are read FOR SHARE: a zone being deleted or renamed is waited
// for (and then missing), and one read here cannot be deleted or renamed
// before this rule commits (DeleteZone would miss the rule naming it).
func (s *TenantStore) validateIn(ctx context.Context, tx bun.IDB, guildID int64, doc Document) error {
	var rows []zoneRow
	if err := tx.NewSelect().Model(&rows).Where("tenant_id = ? AND guild_id = ?", s.tenantID, guildID).
		For("SHARE").Scan(ctx); err != nil {
		return fmt.Errorf("list zones: %w", err)
	}
	zones := make([]Zone, 0, len(rows))
	for i := range rows {
		z, err := rows[i].zone()
		if err != nil {
			return err
		}
		zones = append(zones, z)
	}
	return s.compiler.ValidateIn(doc, zones)
}

func (s *TenantStore) lock(ctx context.Context, tx bun.IDB, guildID, ruleID int64) (Rule, *ruleRow, error) {
	row := &ruleRow{}
	if err := tx.NewSelect().Model(row).Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, ruleID).
		For("UPDATE").Scan(ctx); err != nil {
		return Rule{}, nil, dbError(err, "rule")
	}
	before, err := row.rule()
	return before, row, err
}

func (s *TenantStore) insertVersion(ctx context.Context, tx bun.IDB, row *ruleRow, actor tenants.Actor) error {
	v := &versionRow{TenantID: s.tenantID, RuleID: row.ID, Version: row.Version, Document: row.Document, CreatedBy: actorID(actor)}
	if _, err := tx.NewInsert().Model(v).Exec(ctx); err != nil {
		return fmt.Errorf("insert rule version: %w", err)
	}
	return nil
}

// Validate checks a rule document as CreateRule would, without the
// guild's zones and currencies.
func (s *Store) Validate(doc Document) error { return s.compiler.Validate(doc) }
