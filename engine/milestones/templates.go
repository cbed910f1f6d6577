package milestones

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// templateRow is the stored form of a Template.
type templateRow struct {
	bun.BaseModel `bun:"table:milestone_templates"`

	TenantID    int64           `bun:"tenant_id,pk"`
	ID          int64           `bun:"id,pk,autoincrement"`
	GuildID     int64           `bun:"guild_id"`
	Key         string          `bun:"key"`
	Version     int             `bun:"version"`
	Name        string          `bun:"name"`
	Description string          `bun:"description"`
	Emoji       string          `bun:"emoji"`
	IconURL     string          `bun:"icon_url"`
	Rarity      string          `bun:"rarity"`
	Hidden      bool            `bun:"hidden"`
	Repeatable  bool            `bun:"repeatable"`
	MaxAwards   int             `bun:"max_awards"`
	Scope       string          `bun:"scope"`
	Enabled     bool            `bun:"enabled"`
	Requirement json.RawMessage `bun:"requirement,type:jsonb"`
	Rewards     json.RawMessage `bun:"rewards,type:jsonb"`
	CreatedAt   time.Time       `bun:"created_at,nullzero,default:now()"`
	UpdatedAt   time.Time       `bun:"updated_at,nullzero,default:now()"`
}

func (r *templateRow) template() (Template, error) {
	t := Template{ID: r.ID, GuildID: r.GuildID, Key: r.Key, Version: r.Version, Name: r.Name, Description: r.Description,
		Emoji: r.Emoji, IconURL: r.IconURL, Rarity: r.Rarity, Hidden: r.Hidden, Repeatable: r.Repeatable,
		MaxAwards: r.MaxAwards, Scope: r.Scope, Disabled: !r.Enabled, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Requirement, &t.Requirement); err != nil {
		return Template{}, fmt.Errorf("template %d requirement: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Rewards, &t.Rewards); err != nil {
		return Template{}, fmt.Errorf("template %d rewards: %w", r.ID, err)
	}
	return t, nil
}

func rowOf(tenantID int64, t Template) templateRow {
	rewards := t.Rewards
	if rewards == nil {
		rewards = []Reward{}
	}
	return templateRow{TenantID: tenantID, ID: t.ID, GuildID: t.GuildID, Key: t.Key, Version: t.Version, Name: t.Name,
		Description: t.Description, Emoji: t.Emoji, IconURL: t.IconURL, Rarity: t.Rarity, Hidden: t.Hidden,
		Repeatable: t.Repeatable, MaxAwards: t.MaxAwards, Scope: t.Scope, Enabled: !t.Disabled,
		Requirement: mustJSON(t.Requirement), Rewards: mustJSON(rewards)}
}

func (t Template) target() string { return "milestone:" + strconv.FormatInt(t.ID, 10) }

// validateFull checks a template against its guild: fields, the tree (with
// JSON paths under "requirement") and reward currencies.
func (m *Milestones) validateFull(ctx context.Context, t *Template) error {
	if err := t.validate(); err != nil {
		return err
	}
	env, err := m.compileEnv(ctx, t.GuildID)
	if err != nil {
		return err
	}
	if _, err := env.compile(t.Requirement, "requirement", 0); err != nil {
		return err
	}
	for i, r := range t.Rewards {
		if r.Type == RewardCurrency {
			if _, ok := env.currencies[r.Currency]; !ok {
				return apperr.Invalid(fmt.Sprintf("rewards[%d].currency", i), "unknown currency %q in this guild", r.Currency)
			}
		}
	}
	return nil
}

// Create adds a template; audited.
func (m *Milestones) Create(ctx context.Context, actor tenants.Actor, t Template) (Template, error) {
	t.ID, t.Version = 0, 1
	if err := m.validateFull(ctx, &t); err != nil {
		return Template{}, err
	}
	row := rowOf(m.tenantID, t)
	err := m.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&row).ExcludeColumn("id").Returning("*").Exec(ctx); err != nil {
			return dbError(err, "milestone template")
		}
		out, err := row.template()
		if err != nil {
			return err
		}
		t = out
		if err := bumpRevision(ctx, tx, m.tenantID, t.GuildID); err != nil {
			return err
		}
		return m.audit(ctx, tx, actor, t.GuildID, "milestones.template.create", t.target(), nil, t)
	})
	if err != nil {
		return Template{}, err
	}
	m.svc.forget(m.tenantID, t.GuildID)
	return t, nil
}

// Update replaces a template's definition (its key stays); expectVersion,
// when non-zero, refuses a stale edit with ErrConflict. Audited.
func (m *Milestones) Update(ctx context.Context, actor tenants.Actor, t Template, expectVersion int) (Template, error) {
	if err := m.validateFull(ctx, &t); err != nil {
		return Template{}, err
	}
	var before Template
	err := m.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var cur templateRow
		err := tx.NewSelect().Model(&cur).Where("tenant_id = ? AND guild_id = ? AND id = ?", m.tenantID, t.GuildID, t.ID).
			For("UPDATE").Scan(ctx)
		if err != nil {
			return dbError(err, "milestone template")
		}
		if expectVersion != 0 && cur.Version != expectVersion {
			return fmt.Errorf("milestone template is at version %d, not %d: %w", cur.Version, expectVersion, apperr.ErrConflict)
		}
		if before, err = cur.template(); err != nil {
			return err
		}
		t.Key, t.Version = cur.Key, cur.Version+1
		row := rowOf(m.tenantID, t)
		row.CreatedAt = cur.CreatedAt
		row.UpdatedAt = time.Now()
		if _, err := tx.NewUpdate().Model(&row).ExcludeColumn("created_at").
			Where("tenant_id = ? AND id = ?", m.tenantID, t.ID).Returning("*").Exec(ctx); err != nil {
			return dbError(err, "milestone template")
		}
		if t, err = row.template(); err != nil {
			return err
		}
		if err := bumpRevision(ctx, tx, m.tenantID, t.GuildID); err != nil {
			return err
		}
		return m.audit(ctx, tx, actor, t.GuildID, "milestones.template.update", t.target(), before, t)
	})
	if err != nil {
		return Template{}, err
	}
	m.svc.forget(m.tenantID, t.GuildID)
	return t, nil
}

// Delete removes a template and its awards; audited.
func (m *Milestones) Delete(ctx context.Context, actor tenants.Actor, guildID, id int64) error {
	err := m.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var cur templateRow
		err := tx.NewDelete().Model(&cur).Where("tenant_id = ? AND guild_id = ? AND id = ?", m.tenantID, guildID, id).
			Returning("*").Scan(ctx)
		if err != nil {
			return dbError(err, "milestone template")
		}
		before, err := cur.template()
		if err != nil {
			return err
		}
		if err := bumpRevision(ctx, tx, m.tenantID, guildID); err != nil {
			return err
		}
		return m.audit(ctx, tx, actor, guildID, "milestones.template.delete", before.target(), before, nil)
	})
	if err == nil {
		m.svc.forget(m.tenantID, guildID)
	}
	return err
}

// Get returns one template of this tenant's guild.
func (m *Milestones) Get(ctx context.Context, guildID, id int64) (Template, error) {
	var row templateRow
	err := m.db.Bun.NewSelect().Model(&row).Where("tenant_id = ? AND guild_id = ? AND id = ?", m.tenantID, guildID, id).Scan(ctx)
	if err != nil {
		return Template{}, dbError(err, "milestone template")
	}
	return row.template()
}

// GetMany returns templates of this tenant's guild by id, in one query;
// ids that name none are absent.
func (m *Milestones) GetMany(ctx context.Context, guildID int64, ids []int64) (map[int64]Template, error) {
	out := make(map[int64]Template, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []templateRow
	err := m.db.Bun.NewSelect().Model(&rows).
		Where("tenant_id = ? AND guild_id = ? AND id = ANY(?)", m.tenantID, guildID, pgdialect.Array(ids)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("milestone templates: %w", err)
	}
	for i := range rows {
		t, err := rows[i].template()
		if err != nil {
			return nil, err
		}
		out[t.ID] = t
	}
	return out, nil
}

// GetByKey returns one template by key.
func (m *Milestones) GetByKey(ctx context.Context, guildID int64, key string) (Template, error) {
	var row templateRow
	err := m.db.Bun.NewSelect().Model(&row).Where("tenant_id = ? AND guild_id = ? AND key = ?", m.tenantID, guildID, key).Scan(ctx)
	if err != nil {
		return Template{}, dbError(err, "milestone template")
	}
	return row.template()
}

// List returns a guild's templates by rarity then key.
func (m *Milestones) List(ctx context.Context, guildID int64) ([]Template, error) {
	var rows []templateRow
	err := m.db.Bun.NewSelect().Model(&rows).Where("tenant_id = ? AND guild_id = ?", m.tenantID, guildID).
		OrderExpr("array_position(ARRAY['common','uncommon','rare','epic','legendary'], rarity), key").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list milestone templates: %w", err)
	}
	out := make([]Template, 0, len(rows))
	for i := range rows {
		t, err := rows[i].template()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (m *Milestones) audit(ctx context.Context, tx bun.IDB, actor tenants.Actor, guildID int64, action, target string, before, after any) error {
	e := tenants.AuditEntry{GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID, Action: action, Target: target}
	if before != nil {
		e.Before = mustJSON(before)
	}
	if after != nil {
		e.After = mustJSON(after)
	}
	return tenants.NewStore(tx).ForTenant(m.tenantID).Audit().Record(ctx, e)
}

// dbError maps driver errors to domain errors.
func dbError(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound(what)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23503":
			return apperr.NotFound("guild")
		case "23505":
			return fmt.Errorf("%s: %s: %w", what, pg.ConstraintName, apperr.ErrConflict)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isNotFound(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// bumpRevision marks the guild's templates changed, for every checker's
// cache (see stampExpr).
func bumpRevision(ctx context.Context, tx bun.IDB, tenantID, guildID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO milestone_guild_revisions (tenant_id, guild_id) VALUES (?, ?)
		ON CONFLICT (tenant_id, guild_id) DO UPDATE SET revision = milestone_guild_revisions.revision + 1`, tenantID, guildID)
	if err != nil {
		return dbError(err, "milestone revision")
	}
	return nil
}
