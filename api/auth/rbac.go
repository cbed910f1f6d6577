package auth

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The RBAC model: a subject has roles per domain ("tenant:T", "guild:G", or
// "*" for the platform), and a role's permissions are defined once for every
// domain (p rows with domain "*"). Objects are dotted names matched with
// keyMatch ("guild.*"); actions are read, write or "*".
const modelText = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == "*" || p.dom == r.dom) && keyMatch(r.obj, p.obj) && (p.act == "*" || r.act == p.act)
`

// Roles.
const (
	RolePlatform   = "role:platform"
	RoleOwner      = "role:owner"
	RoleAdmin      = "role:admin"
	RoleGuildAdmin = "role:guild_admin"
	RoleModerator  = "role:moderator"
	RoleViewer     = "role:viewer"

	// PlatformDomain is the domain of platform-wide grants.
	PlatformDomain = "*"
	// OperatorSubject is the platform operator (the operator token).
	OperatorSubject = "platform:operator"
)

// RolePolicies is what each role may do, in any domain it holds.
var RolePolicies = [][]string{
	{RolePlatform, "*", "*", "*"},
	{RoleOwner, "*", "*", "*"},
	{RoleAdmin, "*", "guild.*", "*"},
	{RoleAdmin, "*", "tenant.*", "read"},
	{RoleGuildAdmin, "*", "guild.*", "*"},
	{RoleModerator, "*", "guild.*", "read"},
	{RoleModerator, "*", "guild.awards", "write"},
	{RoleViewer, "*", "guild.*", "read"},
}

// UserSubject is a user's casbin subject.
func UserSubject(userID int64) string { return "user:" + strconv.FormatInt(userID, 10) }

// TenantDomain and GuildDomain name casbin domains.
func TenantDomain(id int64) string { return "tenant:" + strconv.FormatInt(id, 10) }
func GuildDomain(id int64) string  { return "guild:" + strconv.FormatInt(id, 10) }

// Authorizer is the casbin enforcer over the Postgres policy table. Writes
// made through it apply at once; writes made by other API processes are
// picked up when the policy is older than MaxAge.
type Authorizer struct {
	e      *casbin.SyncedEnforcer
	maxAge time.Duration

	mu       sync.Mutex
	loadedAt time.Time
}

// NewAuthorizer loads the policy and makes sure the role definitions are
// stored.
func NewAuthorizer(pool *pgxpool.Pool, maxAge time.Duration) (*Authorizer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, NewAdapter(pool))
	if err != nil {
		return nil, fmt.Errorf("casbin enforcer: %w", err)
	}
	for _, p := range RolePolicies {
		if ok, _ := e.HasPolicy(p); !ok {
			if _, err := e.AddPolicy(p); err != nil {
				return nil, fmt.Errorf("store role policy: %w", err)
			}
		}
	}
	if ok, _ := e.HasGroupingPolicy(OperatorSubject, RolePlatform, PlatformDomain); !ok {
		if _, err := e.AddGroupingPolicy(OperatorSubject, RolePlatform, PlatformDomain); err != nil {
			return nil, fmt.Errorf("store operator grant: %w", err)
		}
	}
	return &Authorizer{e: e, maxAge: maxAge, loadedAt: time.Now()}, nil
}

// Refresh reloads the policy when it is older than MaxAge.
func (a *Authorizer) Refresh(_ context.Context) error {
	if a.maxAge <= 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if time.Since(a.loadedAt) < a.maxAge {
		return nil
	}
	if err := a.e.LoadPolicy(); err != nil {
		return fmt.Errorf("reload policy: %w", err)
	}
	a.loadedAt = time.Now()
	return nil
}

// Decision is the outcome of a check.
type Decision int

// Allowed: go on; Denied: the subject holds a role in the domain but not
// this permission (403); Stranger: the subject holds no role in any of the
// domains (404, indistinguishable from a missing object).
const (
	Allowed Decision = iota
	Denied
	Stranger
)

// Check asks casbin whether sub may act on obj in any of doms (the most
// specific first, e.g. guild, its tenant, the platform).
func (a *Authorizer) Check(sub string, doms []string, obj, act string) (Decision, error) {
	known := false
	for _, dom := range doms {
		ok, err := a.e.Enforce(sub, dom, obj, act)
		if err != nil {
			return Denied, fmt.Errorf("enforce: %w", err)
		}
		if ok {
			return Allowed, nil
		}
		if dom != PlatformDomain && len(a.e.GetRolesForUserInDomain(sub, dom)) > 0 {
			known = true
		}
	}
	if known {
		return Denied, nil
	}
	return Stranger, nil
}

// RolesIn lists sub's roles in a domain.
func (a *Authorizer) RolesIn(sub, dom string) []string { return a.e.GetRolesForUserInDomain(sub, dom) }

// SetRole replaces sub's roles in one domain with role ("" removes them).
func (a *Authorizer) SetRole(_ context.Context, sub, dom, role string) error {
	for _, r := range a.e.GetRolesForUserInDomain(sub, dom) {
		if r == role {
			continue
		}
		if _, err := a.e.RemoveGroupingPolicy(sub, r, dom); err != nil {
			return fmt.Errorf("remove role: %w", err)
		}
	}
	if role == "" {
		return nil
	}
	if _, err := a.e.AddGroupingPolicy(sub, role, dom); err != nil {
		return fmt.Errorf("add role: %w", err)
	}
	return nil
}

// SyncUser makes sub's grants in domains with prefix ("tenant:" or
// "guild:") exactly want (domain → role).
func (a *Authorizer) SyncUser(ctx context.Context, sub, prefix string, want map[string]string) error {
	rules, err := a.e.GetFilteredGroupingPolicy(0, sub)
	if err != nil {
		return fmt.Errorf("read grants: %w", err)
	}
	for _, r := range rules {
		if len(r) < 3 || !strings.HasPrefix(r[2], prefix) {
			continue
		}
		if want[r[2]] != r[1] {
			if _, err := a.e.RemoveGroupingPolicy(r[0], r[1], r[2]); err != nil {
				return fmt.Errorf("remove grant: %w", err)
			}
		}
	}
	for dom, role := range want {
		if err := a.SetRole(ctx, sub, dom, role); err != nil {
			return err
		}
	}
	return nil
}

// Domains lists the domains (with prefix) in which sub holds a role.
func (a *Authorizer) Domains(sub, prefix string) map[string][]string {
	out := map[string][]string{}
	rules, _ := a.e.GetFilteredGroupingPolicy(0, sub)
	for _, r := range rules {
		if len(r) >= 3 && strings.HasPrefix(r[2], prefix) {
			out[r[2]] = append(out[r[2]], r[1])
		}
	}
	return out
}
