package milestones

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/infra/postgres"
)

// RoleSource tells which roles a member holds. By default a check reads
// the roles stored on the member's row (members.roles, kept current by the
// gateway worker) in its one round trip; a RoleSource, when set, replaces
// them (tests, or a caller fresher than the gateway).
type RoleSource interface {
	Roles(ctx context.Context, tenantID, guildID, userID int64) ([]int64, error)
}

// Service is the platform-level entry point; it hands out milestone stores
// bound to one tenant and keeps the compiled templates of each guild.
type Service struct {
	db     *postgres.DB
	ledger *ledger.Service
	logger *slog.Logger
	env    *cel.Env
	// Roles replaces the stored roles for role requirements; optional.
	Roles RoleSource

	mu    sync.Mutex
	sets  map[[2]int64]*guildSet // (tenant, guild) → compiled templates
	zones sync.Map               // time zone name → *time.Location
	// decoded keeps members' decoded counter caches (see decodedCacheSize).
	decoded map[[3]int64]*counterCache
}

// New wraps the database and the ledger; logger may be nil (discarded).
func New(db *postgres.DB, led *ledger.Service, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	env, err := newCELEnv()
	if err != nil {
		panic(fmt.Sprintf("milestones: CEL environment: %v", err)) // a programming error: the declarations are static
	}
	return &Service{db: db, ledger: led, logger: logger, env: env, sets: map[[2]int64]*guildSet{}, decoded: map[[3]int64]*counterCache{}}
}

// ForTenant returns the milestones of one tenant: every query filters on it.
func (s *Service) ForTenant(tenantID int64) *Milestones {
	return &Milestones{svc: s, db: s.db, led: s.ledger.ForTenant(tenantID), tenantID: tenantID,
		logger: s.logger.With("tenant_id", tenantID)}
}

// Milestones is one tenant's templates and awards.
type Milestones struct {
	svc      *Service
	db       *postgres.DB
	led      *ledger.Ledger
	tenantID int64
	logger   *slog.Logger
}

// TenantID is the tenant this store is bound to.
func (m *Milestones) TenantID() int64 { return m.tenantID }
