package tenants

import (
	"context"
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
