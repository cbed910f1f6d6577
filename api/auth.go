package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/api/auth"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// Cookie and header names.
const (
	sessionCookie = "synapse_session"
	csrfCookie    = "synapse_csrf"
	stateCookie   = "synapse_oauth_state"
	csrfHeader    = "X-CSRF-Token"
)

// Context keys set by the authorization middleware.
const (
	ctxPrincipal = "synapse.principal"
	ctxTenant    = "synapse.tenant_id"
	ctxGuild     = "synapse.guild_id"
)

type principalKind int

const (
	kindOperator principalKind = iota + 1
	kindSession
	kindToken
)

// principal is who is calling: the platform operator (operator token), a
// user through a dashboard session, or a user through a personal API token.
type principal struct {
	kind       principalKind
	userID     int64
	sessionRaw string
	session    auth.Session
	token      auth.Token
}

func (p *principal) subject() string {
	if p.kind == kindOperator {
		return auth.OperatorSubject
	}
	return auth.UserSubject(p.userID)
}

// actor is how the audit log names the caller.
func (p *principal) actor(c *gin.Context) tenants.Actor {
	id := strconv.FormatInt(p.userID, 10)
	switch p.kind {
	case kindOperator:
		id = "operator"
	case kindToken:
		id = "token:" + strconv.FormatInt(p.token.ID, 10)
	}
	return tenants.Actor{ID: id, RequestID: requestIDOf(c)}
}

func principalOf(c *gin.Context) *principal {
	p, _ := c.Get(ctxPrincipal)
	pp, _ := p.(*principal)
	return pp
}

// authorize is the one middleware that enforces a route's permission:
// it resolves the principal, refuses cookie-authenticated writes without
// the CSRF token, resolves the route's domain (guild → its tenant, tenant)
// and asks casbin.
func (s *Server) authorize(rt route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if rt.Obj == objPublic {
			c.Next()
			return
		}
		p, err := s.resolvePrincipal(c)
		if err != nil {
			writeError(c, err)
			return
		}
		c.Set(ctxPrincipal, p)
		if p.kind == kindSession && unsafeMethod(c.Request.Method) {
			got := c.GetHeader(csrfHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.session.CSRFToken)) != 1 {
				writeError(c, fmt.Errorf("missing or wrong %s header: %w", csrfHeader, apperr.ErrForbidden))
				return
			}
		}
		if p.kind == kindToken && !scopesAllow(p.token.Scopes, rt.Obj, rt.Act) {
			writeError(c, fmt.Errorf("token scopes do not cover %s:%s: %w", rt.Obj, rt.Act, apperr.ErrForbidden))
			return
		}
		if rt.Obj == objSelf {
			if p.kind == kindOperator {
				writeError(c, fmt.Errorf("the operator token is not a user: %w", apperr.ErrForbidden))
				return
			}
			c.Next()
			return
		}
		doms, what, err := s.domains(c)
		if err != nil {
			writeError(c, err)
			return
		}
		if p.kind == kindToken && p.token.TenantID != nil && c.GetInt64(ctxTenant) != *p.token.TenantID {
			writeError(c, strangerError(what))
			return
		}
		az, err := s.authz()
		if err != nil {
			writeError(c, err)
			return
		}
		if err := az.Refresh(c.Request.Context()); err != nil {
			writeError(c, fmt.Errorf("%v: %w", err, apperr.ErrUnavailable))
			return
		}
		d, err := az.Check(p.subject(), doms, rt.Obj, rt.Act)
		switch {
		case err != nil:
			writeError(c, err)
		case d == auth.Allowed:
			c.Next()
		case d == auth.Stranger:
			writeError(c, strangerError(what))
		default:
			writeError(c, apperr.ErrForbidden)
		}
	}
}

// strangerError: someone with no role where they knock learns nothing
// about what is there; the platform itself is simply forbidden.
func strangerError(what string) error {
	if what == "" {
		return apperr.ErrForbidden
	}
	return apperr.NotFound(what)
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// domains returns the casbin domains of the request, most specific first,
// and what a stranger is told is missing.
func (s *Server) domains(c *gin.Context) ([]string, string, error) {
	if raw := c.Param("guild"); raw != "" {
		guildID, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || guildID <= 0 {
			return nil, "", apperr.Invalid("guild", "must be a Discord guild id")
		}
		tenantID, err := s.guildTenants.getOrLoad(guildID, func() (int64, error) {
			return s.tenants.TenantOfGuild(context.WithoutCancel(c.Request.Context()), guildID)
		})
		if err != nil {
			return nil, "", err
		}
		c.Set(ctxGuild, guildID)
		c.Set(ctxTenant, tenantID)
		return []string{auth.GuildDomain(guildID), auth.TenantDomain(tenantID), auth.PlatformDomain}, "guild", nil
	}
	if raw := c.Param("tenant"); raw != "" {
		tenantID, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || tenantID <= 0 {
			return nil, "", apperr.Invalid("tenant", "must be a tenant id")
		}
		c.Set(ctxTenant, tenantID)
		return []string{auth.TenantDomain(tenantID), auth.PlatformDomain}, "tenant", nil
	}
	return []string{auth.PlatformDomain}, "", nil
}

// resolvePrincipal reads the bearer token (operator or API token) or else
// the session cookie. A bearer token that is wrong is refused even when a
// cookie is present.
func (s *Server) resolvePrincipal(c *gin.Context) (*principal, error) {
	ctx := c.Request.Context()
	if h := c.GetHeader("Authorization"); h != "" {
		bearer, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || bearer == "" {
			return nil, apperr.ErrUnauthenticated
		}
		if op := s.deps.OperatorToken; op != "" && subtle.ConstantTimeCompare([]byte(bearer), []byte(op)) == 1 {
			return &principal{kind: kindOperator}, nil
		}
		if !strings.HasPrefix(bearer, auth.TokenPrefix) {
			return nil, apperr.ErrUnauthenticated
		}
		t, err := s.store.TokenBySecret(ctx, bearer)
		if err != nil {
			return nil, err
		}
		return &principal{kind: kindToken, userID: t.UserID, token: t}, nil
	}
	raw, err := c.Cookie(sessionCookie)
	if err != nil || raw == "" {
		return nil, apperr.ErrUnauthenticated
	}
	// Loads shared by concurrent callers must not fail with the first one's cancellation.
	ss, err := s.sessions.getOrLoad(raw, func() (auth.Session, error) { return s.store.Session(context.WithoutCancel(ctx), raw) })
	if err == nil && time.Now().After(ss.ExpiresAt) {
		s.sessions.drop(raw)
		err = apperr.ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	return &principal{kind: kindSession, userID: ss.UserID, sessionRaw: raw, session: ss}, nil
}

// scopesAllow reports whether one of a token's scopes ("object:action",
// object may end in "*", action may be "*") covers obj:act.
func scopesAllow(scopes []string, obj, act string) bool {
	for _, sc := range scopes {
		so, sa, ok := strings.Cut(sc, ":")
		if !ok || (sa != "*" && sa != act) {
			continue
		}
		if so == obj || so == "*" || (strings.HasSuffix(so, ".*") && strings.HasPrefix(obj, strings.TrimSuffix(so, "*"))) {
			return true
		}
	}
	return false
}

// validScope checks a scope's syntax.
func validScope(sc string) bool {
	obj, act, ok := strings.Cut(sc, ":")
	if !ok || (act != actRead && act != actWrite && act != "*") || obj == "" || len(obj) > 64 {
		return false
	}
	for i, r := range obj {
		if !(r >= 'a' && r <= 'z' || r == '.' || r == '_' || (r == '*' && i == len(obj)-1)) {
			return false
		}
	}
	return true
}
