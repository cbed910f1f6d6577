// Package tenants owns tenants, their guilds, members and audit log. Every
// store here except Store itself is bound to one tenant and filters on it, so
// a caller cannot forget the tenant boundary.
package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Plans and statuses a tenant can have.
const (
	PlanFree     = "free"
	StatusActive = "active"
	// StatusUnclaimed: created automatically when the bot joined a guild that
	// no operator has claimed yet.
	StatusUnclaimed = "unclaimed"
)

// Tenant is one customer of the hosted service.
type Tenant struct {
	bun.BaseModel `bun:"table:tenants"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	Name      string    `bun:"name" json:"name"`
	Plan      string    `bun:"plan" json:"plan"`
	Status    string    `bun:"status" json:"status"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

// Store is the platform-level entry point: it creates tenants and hands out
// stores bound to one of them.
type Store struct {
	db bun.IDB
}

// NewStore wraps a bun handle (a *bun.DB or a transaction).
func NewStore(db bun.IDB) *Store { return &Store{db: db} }

// Create inserts a tenant; Plan and Status default to free and active.
func (s *Store) Create(ctx context.Context, t Tenant) (Tenant, error) {
	if t.Name == "" || len(t.Name) > 100 {
		return Tenant{}, apperr.Invalid("name", "must be 1 to 100 characters")
	}
	if t.Plan == "" {
		t.Plan = PlanFree
	}
	if t.Status == "" {
		t.Status = StatusActive
	}
	if _, err := s.db.NewInsert().Model(&t).Returning("*").Exec(ctx); err != nil {
		return Tenant{}, fmt.Errorf("create tenant: %w", err)
	}
	return t, nil
}

// Get returns one tenant.
func (s *Store) Get(ctx context.Context, id int64) (Tenant, error) {
	var t Tenant
	err := s.db.NewSelect().Model(&t).Where("id = ?", id).Scan(ctx)
	if err != nil {
		return Tenant{}, notFound(err, "tenant")
	}
	return t, nil
}

// TenantOfGuild finds which tenant a Discord guild belongs to.
func (s *Store) TenantOfGuild(ctx context.Context, guildID int64) (int64, error) {
	var tenantID int64
	err := s.db.NewSelect().Table("guilds").Column("tenant_id").Where("id = ?", guildID).Scan(ctx, &tenantID)
	if err != nil {
		return 0, notFound(err, "guild")
	}
	return tenantID, nil
}

// ForTenant returns the stores bound to one tenant.
func (s *Store) ForTenant(tenantID int64) *Scope {
	return &Scope{db: s.db, tenantID: tenantID}
}

// Scope is every store bound to one tenant.
type Scope struct {
	db       bun.IDB
	tenantID int64
}

// TenantID is the tenant this scope is bound to.
func (s *Scope) TenantID() int64 { return s.tenantID }

func (s *Scope) Guilds() *GuildStore   { return &GuildStore{db: s.db, tenantID: s.tenantID} }
func (s *Scope) Members() *MemberStore { return &MemberStore{db: s.db, tenantID: s.tenantID} }
func (s *Scope) Directory() *DirectoryStore {
	return &DirectoryStore{db: s.db, tenantID: s.tenantID}
}
func (s *Scope) Audit() *AuditStore        { return &AuditStore{db: s.db, tenantID: s.tenantID} }
func (s *Scope) Operators() *OperatorStore { return &OperatorStore{db: s.db, tenantID: s.tenantID} }

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound(what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// GuildRef names a guild and its tenant.
type GuildRef struct {
	TenantID int64 `bun:"tenant_id"`
	GuildID  int64 `bun:"id"`
}

// ActiveGuilds lists every guild the bot is in, across tenants, for
// platform jobs that visit each guild under its own tenant's stores.
func (s *Store) ActiveGuilds(ctx context.Context) ([]GuildRef, error) {
	var out []GuildRef
	if err := s.db.NewSelect().Table("guilds").Column("tenant_id", "id").Where("bot_left_at IS NULL").Order("tenant_id", "id").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("active guilds: %w", err)
	}
	return out, nil
}
