package tenants

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
)

// How onboarding left a guild's tenant (see Onboard).
const (
	OnboardCreated = "created" // the guild had no tenant: one was made, owned by the user
	OnboardClaimed = "claimed" // the guild's unclaimed tenant is the user's now
	OnboardManaged = "managed" // another operator already runs it: nothing changed
	OnboardMember  = "member"  // the user already has a role in its tenant: nothing changed
)

// Onboarded says what Onboard did.
type Onboarded struct {
	TenantID int64  `json:"tenant_id,string"`
	Outcome  string `json:"outcome"`
}

// Onboard gives a user who can manage a Discord guild (they added the bot
// to it, or Discord reports their Manage Server) the guild's tenant:
//   - a guild Synapse has not registered yet gets a tenant of its own,
//     owned by the user (the gateway registers it into that tenant when
//     its GUILD_CREATE arrives);
//   - the unclaimed tenant the gateway made when the bot joined becomes
//     active, owned by the user;
//   - a tenant some operator already runs is left alone: the user keeps
//     what Discord gives them (guild admin), and its owners decide more;
//   - with the user's own invite pending (InviteGuild), a guild not yet
//     registered joins the inviting tenant instead (OnboardAdded).
//
// The caller vouches for the user's right to manage the guild. It is
// audited either way it changes something, and safe against the gateway
// registering the same guild at the same moment.
func (s *Store) Onboard(ctx context.Context, actor Actor, userID, guildID int64, guildName string, now time.Time) (Onboarded, error) {
	for attempt := 0; ; attempt++ {
		out, err := s.onboardOnce(ctx, actor, userID, guildID, guildName, now)
		if errors.Is(err, apperr.ErrConflict) && attempt == 0 {
			continue // the gateway registered the guild meanwhile: claim its tenant instead
		}
		return out, err
	}
}

func (s *Store) onboardOnce(ctx context.Context, actor Actor, userID, guildID int64, guildName string, now time.Time) (Onboarded, error) {
	var out Onboarded
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		st := NewStore(tx)
		invTenant, invUser, invited, err := pendingInvite(ctx, tx, guildID, now)
		if err != nil {
			return err
		}
		invited = invited && invUser == userID // another operator's invite is theirs to finish
		tenantID, err := st.TenantOfGuild(ctx, guildID)
		switch {
		case errors.Is(err, apperr.ErrNotFound) && invited:
			out = Onboarded{TenantID: invTenant, Outcome: OnboardAdded}
			return addInvited(ctx, tx, actor, invTenant, userID, guildID, guildName, now, time.Time{})
		case err == nil && invited && tenantID == invTenant: // the gateway registered it first, as invited
			out = Onboarded{TenantID: tenantID, Outcome: OnboardAdded}
			return nil
		case errors.Is(err, apperr.ErrNotFound):
			name := guildName
			if name == "" || len(name) > 100 {
				name = "guild " + strconv.FormatInt(guildID, 10)
			}
			t, err := st.Create(ctx, Tenant{Name: name, Status: StatusActive})
			if err != nil {
				return err
			}
			// Capture begins when the gateway's GUILD_CREATE arrives.
			if _, err := st.ForTenant(t.ID).Guilds().Upsert(ctx, guildID, guildName, now, time.Time{}); err != nil {
				return err
			}
			out = Onboarded{TenantID: t.ID, Outcome: OnboardCreated}
			return st.ForTenant(t.ID).own(ctx, actor, userID, guildID, "tenant.created_by_invite", nil)
		case err != nil:
			return err
		}
		out = Onboarded{TenantID: tenantID, Outcome: OnboardManaged}
		if _, err := st.ForTenant(tenantID).Operators().Role(ctx, userID); err == nil {
			out.Outcome = OnboardMember
			return nil
		}
		var status string
		if err := tx.NewSelect().Table("tenants").Column("status").Where("id = ?", tenantID).For("UPDATE").Scan(ctx, &status); err != nil {
			return fmt.Errorf("onboard: tenant: %w", err)
		}
		if status != StatusUnclaimed {
			return nil
		}
		// Operators granted on it (say by the platform operator) run it,
		// even with no owner among them: not a guild admin's to take.
		if n, err := tx.NewSelect().Table("tenant_members").Where("tenant_id = ?", tenantID).Count(ctx); err != nil {
			return fmt.Errorf("onboard: operators: %w", err)
		} else if n > 0 {
			return nil
		}
		if _, err := tx.NewUpdate().Table("tenants").Set("status = ?, updated_at = now()", StatusActive).Where("id = ?", tenantID).Exec(ctx); err != nil {
			return fmt.Errorf("onboard: claim: %w", err)
		}
		out.Outcome = OnboardClaimed
		return st.ForTenant(tenantID).own(ctx, actor, userID, guildID, "tenant.claimed", map[string]string{"status": StatusUnclaimed})
	})
	return out, err
}

// own makes userID the tenant's owner and audits how it came to be.
func (s *Scope) own(ctx context.Context, actor Actor, userID, guildID int64, action string, before map[string]string) error {
	if err := s.Operators().Set(ctx, actor, userID, "owner"); err != nil {
		return err
	}
	return s.Audit().Record(ctx, AuditEntry{GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID, Action: action,
		Target: "tenant:" + strconv.FormatInt(s.tenantID, 10), Before: mustJSON(before),
		After: mustJSON(map[string]string{"status": StatusActive, "owner": strconv.FormatInt(userID, 10)})})
}

// Unclaimed returns which of the tenants no operator has claimed yet.
func (s *Store) Unclaimed(ctx context.Context, tenantIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(tenantIDs) == 0 {
		return out, nil
	}
	var ids []int64
	if err := s.db.NewSelect().Table("tenants").Column("id").Where("id IN (?) AND status = ?", bun.List(tenantIDs), StatusUnclaimed).
		Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("unclaimed tenants: %w", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
