package milestones

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// Grant awards a milestone by hand (/grant-achievement). A once-only
// milestone the member holds is ErrConflict; one that was revoked is
// reinstated; a repeatable one gets its next award. The award bypasses
// the requirement; seasonal milestones need a running season. Audited.
func (m *Milestones) Grant(ctx context.Context, actor tenants.Actor, guildID, userID int64, key string) (Award, error) {
	var out Award
	err := m.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, season, err := m.lockTemplate(ctx, tx, guildID, key)
		if err != nil {
			return err
		}
		var last struct {
			ID      int64      `bun:"id"`
			AwardNo int        `bun:"award_no"`
			Revoked *time.Time `bun:"revoked_at"`
		}
		err = tx.NewSelect().Table("milestone_awards").Column("id", "award_no", "revoked_at").
			Where("tenant_id = ? AND guild_id = ? AND template_id = ? AND user_id = ? AND season_id IS NOT DISTINCT FROM ?",
				m.tenantID, guildID, t.ID, userID, season).
			OrderExpr("award_no DESC").Limit(1).Scan(ctx, &last)
		found := err == nil
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("milestones: grant: %w", err)
		}
		source := "admin:" + actorID(actor)
		switch {
		case found && last.Revoked != nil:
			if _, err := tx.ExecContext(ctx, `UPDATE milestone_awards SET revoked_at = NULL, source = ?, awarded_at = now()
				WHERE tenant_id = ? AND id = ?`, source, m.tenantID, last.ID); err != nil {
				return fmt.Errorf("milestones: grant: %w", err)
			}
			out.ID, out.AwardNo = last.ID, last.AwardNo
		case found && !t.Repeatable:
			return fmt.Errorf("member already holds %s: %w", key, apperr.ErrConflict)
		default:
			no := 1
			if found {
				no = last.AwardNo + 1
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO milestone_awards (tenant_id, guild_id, template_id, user_id, award_no, season_id, source)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, m.tenantID, guildID, t.ID, userID, no, season, source).Scan(&out.ID); err != nil {
				return dbError(err, "milestone award")
			}
			out.AwardNo = no
		}
		out.GuildID, out.TemplateID, out.TemplateKey, out.UserID, out.SeasonID, out.Source = guildID, t.ID, t.Key, userID, season, source
		out.AwardedAt, out.Rewards = time.Now(), t.Rewards
		return m.audit(ctx, tx, actor, guildID, "milestones.award.grant", awardTarget(out.ID), nil, out)
	})
	if err != nil {
		return Award{}, err
	}
	return out, nil
}

// Revoke takes back a member's latest active award of a milestone
// (/revoke-achievement). The slot stays taken, so the checker does not
// award it again on its own; Grant reinstates it. Audited.
func (m *Milestones) Revoke(ctx context.Context, actor tenants.Actor, guildID, userID int64, key string) (Award, error) {
	var out Award
	err := m.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		t, season, err := m.lockTemplate(ctx, tx, guildID, key)
		if err != nil {
			return err
		}
		var revokedAt time.Time
		err = tx.QueryRowContext(ctx, `UPDATE milestone_awards SET revoked_at = now()
			WHERE tenant_id = ? AND id = (SELECT id FROM milestone_awards WHERE tenant_id = ? AND guild_id = ? AND template_id = ?
				AND user_id = ? AND season_id IS NOT DISTINCT FROM ? AND revoked_at IS NULL ORDER BY award_no DESC LIMIT 1)
			RETURNING id, award_no, source, awarded_at, revoked_at`, m.tenantID, m.tenantID, guildID, t.ID, userID, season).
			Scan(&out.ID, &out.AwardNo, &out.Source, &out.AwardedAt, &revokedAt)
		if err != nil {
			return dbError(err, "milestone award")
		}
		out.GuildID, out.TemplateID, out.TemplateKey, out.UserID, out.SeasonID = guildID, t.ID, t.Key, userID, season
		before := out
		out.RevokedAt = &revokedAt
		return m.audit(ctx, tx, actor, guildID, "milestones.award.revoke", awardTarget(out.ID), before, out)
	})
	if err != nil {
		return Award{}, err
	}
	return out, nil
}

// lockTemplate reads a template by key with the running season when it is
// seasonal, locking the template row so grants and revokes of it serialise.
func (m *Milestones) lockTemplate(ctx context.Context, tx bun.Tx, guildID int64, key string) (Template, *int64, error) {
	var row templateRow
	err := tx.NewSelect().Model(&row).Where("tenant_id = ? AND guild_id = ? AND key = ?", m.tenantID, guildID, key).
		For("UPDATE").Scan(ctx)
	if err != nil {
		return Template{}, nil, dbError(err, "milestone "+key)
	}
	t, err := row.template()
	if err != nil {
		return Template{}, nil, err
	}
	if t.Scope != ScopeSeasonal {
		return t, nil, nil
	}
	var season int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM ledger_seasons WHERE tenant_id = ? AND guild_id = ? AND ended_at IS NULL`,
		m.tenantID, guildID).Scan(&season)
	if err != nil {
		if isNotFound(err) {
			return Template{}, nil, apperr.Invalid("key", "%s is seasonal and no season is running", key)
		}
		return Template{}, nil, fmt.Errorf("milestones: season: %w", err)
	}
	return t, &season, nil
}

func awardTarget(id int64) string { return fmt.Sprintf("milestone_award:%d", id) }

func actorID(a tenants.Actor) string {
	if a.ID == "" {
		return "system"
	}
	return a.ID
}
