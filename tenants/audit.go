package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Actor is who made an admin change: a Discord user id, "system", or
// "token:<id>", and the request it came in with.
type Actor struct {
	ID        string
	RequestID string
}

// AuditEntry is one admin change with the state before and after it.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID        int64           `bun:"id,pk,autoincrement" json:"id"`
	TenantID  int64           `bun:"tenant_id" json:"tenant_id"`
	GuildID   *int64          `bun:"guild_id" json:"guild_id,string,omitempty"`
	Actor     string          `bun:"actor" json:"actor"`
	Action    string          `bun:"action" json:"action"`
	Target    string          `bun:"target" json:"target"`
	Before    json.RawMessage `bun:"before,type:jsonb" json:"before"`
	After     json.RawMessage `bun:"after,type:jsonb" json:"after"`
	RequestID string          `bun:"request_id" json:"request_id"`
	At        time.Time       `bun:"at,nullzero,default:now()" json:"at"`
}

// AuditStore appends to and reads one tenant's audit log.
type AuditStore struct {
	db       bun.IDB
	tenantID int64
}

// Record appends an entry; the tenant comes from the store, never the entry.
func (s *AuditStore) Record(ctx context.Context, e AuditEntry) error {
	e.TenantID = s.tenantID
	if e.Actor == "" {
		e.Actor = "system"
	}
	if _, err := s.db.NewInsert().Model(&e).Exec(ctx); err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// AuditFilter narrows a listing; BeforeID pages backwards from newest.
type AuditFilter struct {
	GuildID  *int64
	BeforeID int64
	Limit    int
}

// List returns entries newest first.
func (s *AuditStore) List(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := s.db.NewSelect().Model((*AuditEntry)(nil)).Where("tenant_id = ?", s.tenantID)
	if f.GuildID != nil {
		q = q.Where("guild_id = ?", *f.GuildID)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []AuditEntry
	if err := q.Order("id DESC").Limit(int64(f.Limit)).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return out, nil
}
