package billing

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Resource is something a plan counts.
type Resource string

const (
	Guilds     Resource = "guilds"
	Currencies Resource = "currencies"
	Rules      Resource = "rules"
	Milestones Resource = "milestones"
)

// LimitError refuses a creation the tenant's plan does not allow. It is
// an apperr.ErrPlanLimit (HTTP 402).
type LimitError struct {
	Plan     string
	Resource Resource
	Limit    int
}

func (e *LimitError) Error() string {
	name, scope := string(e.Resource), "per server"
	if e.Resource == Guilds {
		name, scope = "servers", "per account"
	}
	if e.Limit == 1 {
		name = strings.TrimSuffix(name, "s")
	}
	plan := e.Plan
	if p, ok := PlanByID(e.Plan); ok {
		plan = p.Name
	}
	return fmt.Sprintf("the %s plan allows %d %s %s; upgrade the plan to add more", plan, e.Limit, name, scope)
}

func (e *LimitError) Unwrap() error { return apperr.ErrPlanLimit }

// Limiter checks creations against the tenant's plan in force.
//
// The check counts, then the caller creates: two creations racing for the
// last slot may both pass. A plan limit is a commercial bound, not an
// invariant, and one extra rule is cheaper than serialising every write of
// a tenant on its plan.
type Limiter struct {
	pool    *pgxpool.Pool
	metrics *Metrics // nil: not counted
}

// NewLimiter reads plans and counts through pool; m (optional) counts
// refusals.
func NewLimiter(pool *pgxpool.Pool, m *Metrics) *Limiter { return &Limiter{pool: pool, metrics: m} }

// countSQL counts a resource of one guild (guilds: of the tenant).
var countSQL = map[Resource]string{
	Guilds:     `SELECT count(*) FROM guilds WHERE tenant_id = $1 AND bot_left_at IS NULL`,
	Currencies: `SELECT count(*) FROM ledger_currencies WHERE tenant_id = $1 AND guild_id = $2`,
	Rules:      `SELECT count(*) FROM rules WHERE tenant_id = $1 AND guild_id = $2`,
	Milestones: `SELECT count(*) FROM milestone_templates WHERE tenant_id = $1 AND guild_id = $2`,
}

// Allow returns a LimitError when one more of r in the guild (Guilds: in
// the tenant) would exceed the tenant's plan.
func (l *Limiter) Allow(ctx context.Context, tenantID, guildID int64, r Resource) error {
	return l.AllowAdding(ctx, tenantID, guildID, r, 1)
}

// AllowAdding is Allow for n more at once (an imported recipe); adding
// none is always allowed.
func (l *Limiter) AllowAdding(ctx context.Context, tenantID, guildID int64, r Resource, n int) error {
	if n <= 0 {
		return nil
	}
	plan, err := l.plan(ctx, tenantID)
	if err != nil {
		return err
	}
	limit := plan.Limits.of(r)
	if limit == 0 {
		return nil
	}
	have, err := l.count(ctx, tenantID, guildID, r)
	if err != nil {
		return err
	}
	if have+n > limit {
		l.metrics.limited(r)
		return &LimitError{Plan: plan.ID, Resource: r, Limit: limit}
	}
	return nil
}

// AllowRetention refuses a lake retention longer than the plan allows.
func (l *Limiter) AllowRetention(ctx context.Context, tenantID int64, days int) error {
	plan, err := l.plan(ctx, tenantID)
	if err != nil {
		return err
	}
	if max := plan.Limits.RetentionDays; max > 0 && days > max {
		return apperr.Invalid("capture.retention_days", "the %s plan keeps at most %d days; upgrade the plan to keep more", plan.ID, max)
	}
	return nil
}

// Usage is what a tenant has of each counted resource: guilds in all,
// the others in its fullest guild (the limits are per guild).
type Usage struct {
	Guilds     int `json:"guilds"`
	Currencies int `json:"currencies"`
	Rules      int `json:"rules"`
	Milestones int `json:"milestones"`
}

// Usage reads what the tenant has.
func (l *Limiter) Usage(ctx context.Context, tenantID int64) (Usage, error) {
	var u Usage
	err := l.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM guilds WHERE tenant_id = $1 AND bot_left_at IS NULL),
			coalesce((SELECT max(n) FROM (SELECT count(*) AS n FROM ledger_currencies WHERE tenant_id = $1 GROUP BY guild_id) c), 0),
			coalesce((SELECT max(n) FROM (SELECT count(*) AS n FROM rules WHERE tenant_id = $1 GROUP BY guild_id) r), 0),
			coalesce((SELECT max(n) FROM (SELECT count(*) AS n FROM milestone_templates WHERE tenant_id = $1 GROUP BY guild_id) m), 0)`,
		tenantID).Scan(&u.Guilds, &u.Currencies, &u.Rules, &u.Milestones)
	if err != nil {
		return Usage{}, fmt.Errorf("billing: usage: %w", err)
	}
	return u, nil
}

func (l *Limiter) plan(ctx context.Context, tenantID int64) (Plan, error) {
	var id string
	if err := l.pool.QueryRow(ctx, `SELECT plan FROM tenants WHERE id = $1`, tenantID).Scan(&id); err != nil {
		return Plan{}, fmt.Errorf("billing: tenant plan: %w", err)
	}
	p, ok := PlanByID(id)
	if !ok {
		return Plan{}, fmt.Errorf("billing: tenant %d has unknown plan %q", tenantID, id)
	}
	return p, nil
}

func (l *Limiter) count(ctx context.Context, tenantID, guildID int64, r Resource) (int, error) {
	args := []any{tenantID}
	if r != Guilds {
		args = append(args, guildID)
	}
	var n int
	if err := l.pool.QueryRow(ctx, countSQL[r], args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("billing: count %s: %w", r, err)
	}
	return n, nil
}

func (l Limits) of(r Resource) int {
	switch r {
	case Guilds:
		return l.Guilds
	case Currencies:
		return l.Currencies
	case Rules:
		return l.Rules
	case Milestones:
		return l.Milestones
	}
	return 0
}
