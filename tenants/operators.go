package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Tenant-wide roles, strongest first.
var OperatorRoles = []string{"owner", "admin", "moderator", "viewer"}

// Operator is a Discord user who operates a tenant.
type Operator struct {
	bun.BaseModel `bun:"table:tenant_members"`

	TenantID  int64     `bun:"tenant_id,pk" json:"-"`
	UserID    int64     `bun:"user_id,pk" json:"user_id,string"`
	Role      string    `bun:"role" json:"role"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()" json:"created_at"`
}

// OperatorStore manages who operates one tenant.
type OperatorStore struct {
	db       bun.IDB
	tenantID int64
}

// Set gives a user a role in this tenant, auditing the change.
func (s *OperatorStore) Set(ctx context.Context, actor Actor, userID int64, role string) error {
	valid := false
	for _, r := range OperatorRoles {
		valid = valid || r == role
	}
	if !valid {
		return apperr.Invalid("role", "must be one of owner, admin, moderator, viewer")
	}
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		var before []Operator
		if err := tx.NewSelect().Model(&before).Where("tenant_id = ? AND user_id = ?", s.tenantID, userID).Scan(ctx); err != nil {
			return fmt.Errorf("read operator: %w", err)
		}
		if len(before) == 1 && before[0].Role == "owner" && role != "owner" {
			if err := s.keepsAnOwner(ctx, tx, userID); err != nil {
				return err
			}
		}
		op := Operator{TenantID: s.tenantID, UserID: userID, Role: role}
		if _, err := tx.NewInsert().Model(&op).On("CONFLICT (tenant_id, user_id) DO UPDATE").
			Set("role = EXCLUDED.role").Exec(ctx); err != nil {
			return fmt.Errorf("set operator: %w", err)
		}
		if role == "owner" {
			// A tenant with an owner is claimed: its guild admins are no
			// longer offered to claim it.
			if _, err := tx.NewUpdate().Table("tenants").Set("status = ?, updated_at = now()", StatusActive).
				Where("id = ? AND status = ?", s.tenantID, StatusUnclaimed).Exec(ctx); err != nil {
				return fmt.Errorf("claim tenant: %w", err)
			}
		}
		entry := AuditEntry{Actor: actor.ID, RequestID: actor.RequestID, Action: "tenant.operator.set",
			Target: fmt.Sprintf("user:%d", userID), After: mustJSON(map[string]string{"role": role})}
		if len(before) == 1 {
			entry.Before = mustJSON(map[string]string{"role": before[0].Role})
		}
		return (&AuditStore{db: tx, tenantID: s.tenantID}).Record(ctx, entry)
	})
}

// Role returns the user's role in this tenant, or ErrNotFound.
func (s *OperatorStore) Role(ctx context.Context, userID int64) (string, error) {
	var role string
	err := s.db.NewSelect().Table("tenant_members").Column("role").
		Where("tenant_id = ? AND user_id = ?", s.tenantID, userID).Scan(ctx, &role)
	if err != nil {
		return "", notFound(err, "operator")
	}
	return role, nil
}

// Remove takes a user's tenant role away, audited. The last owner cannot
// be removed (ErrConflict): a tenant nobody owns cannot be billed or
// handed on.
func (s *OperatorStore) Remove(ctx context.Context, actor Actor, userID int64) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		var ops []Operator
		// Locks the tenant's operators: two owners removing each other
		// at once must leave one.
		if err := tx.NewSelect().Model(&ops).Where("tenant_id = ?", s.tenantID).For("UPDATE").Scan(ctx); err != nil {
			return fmt.Errorf("read operators: %w", err)
		}
		var role string
		for _, o := range ops {
			if o.UserID == userID {
				role = o.Role
			}
		}
		if role == "" {
			return apperr.NotFound("operator")
		}
		if role == "owner" {
			if err := s.keepsAnOwner(ctx, tx, userID); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Model((*Operator)(nil)).Where("tenant_id = ? AND user_id = ?", s.tenantID, userID).Exec(ctx); err != nil {
			return fmt.Errorf("remove operator: %w", err)
		}
		return (&AuditStore{db: tx, tenantID: s.tenantID}).Record(ctx, AuditEntry{Actor: actor.ID, RequestID: actor.RequestID,
			Action: "tenant.operator.remove", Target: fmt.Sprintf("user:%d", userID),
			Before: mustJSON(map[string]string{"role": role}), After: json.RawMessage("null")})
	})
}

// keepsAnOwner refuses (ErrConflict) a change that leaves the tenant with
// no owner but userID, the operators locked so that two owners demoting
// each other at once leave one.
func (s *OperatorStore) keepsAnOwner(ctx context.Context, tx bun.IDB, userID int64) error {
	var owners []int64
	if err := tx.NewSelect().Table("tenant_members").Column("user_id").Where("tenant_id = ? AND role = 'owner'", s.tenantID).
		For("UPDATE").Scan(ctx, &owners); err != nil {
		return fmt.Errorf("read owners: %w", err)
	}
	for _, o := range owners {
		if o != userID {
			return nil
		}
	}
	return fmt.Errorf("the tenant's last owner cannot stop being one: make someone else owner first: %w", apperr.ErrConflict)
}
