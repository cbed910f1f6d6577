package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/api/auth"
	"github.com/synapsehq/synapse/infra/apperr"
)

const stateTTL = 10 * time.Minute

func (s *Server) setCookie(c *gin.Context, name, value, path string, maxAge int, httpOnly bool) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: !s.deps.Auth.InsecureCookies, SameSite: http.SameSiteLaxMode})
}

// getLogin starts Login with Discord: a random state goes into a short-lived
// signed cookie and to Discord, which must hand it back to the callback.
func (s *Server) getLogin(c *gin.Context) {
	if !s.discord.Configured() {
		writeError(c, fmt.Errorf("login with Discord is not configured: %w", apperr.ErrUnavailable))
		return
	}
	c.Redirect(http.StatusFound, s.discord.AuthorizeURL(s.newConsentState(c)))
}

// newConsentState starts a Discord consent from this browser: a random
// state, kept in a signed cookie that the callback checks against the
// state Discord returns.
func (s *Server) newConsentState(c *gin.Context) string {
	state := auth.RandomToken(24)
	s.setCookie(c, stateCookie, s.keys.SignValue(state, stateTTL, time.Now()), apiPrefix+"/auth", int(stateTTL.Seconds()), true)
	return state
}

// getCallback finishes the login: state check, code exchange, the user and
// their guilds from Discord, grants, session cookie, redirect to /.
func (s *Server) getCallback(c *gin.Context) {
	ctx := c.Request.Context()
	signed, _ := c.Cookie(stateCookie)
	s.setCookie(c, stateCookie, "", apiPrefix+"/auth", -1, true)
	want, ok := s.keys.VerifyValue(signed, time.Now())
	got := c.Query("state")
	if !ok || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		writeError(c, apperr.Invalid("state", "does not match a login started in this browser in the last 10 minutes"))
		return
	}
	if e := c.Query("error"); e != "" {
		writeError(c, fmt.Errorf("discord: %s: %w", e, apperr.ErrUnauthenticated))
		return
	}
	code := c.Query("code")
	if code == "" {
		writeError(c, apperr.Invalid("code", "is required"))
		return
	}
	tokens, err := s.discord.Exchange(ctx, code)
	if err != nil {
		writeError(c, err)
		return
	}
	user, err := s.discord.Me(ctx, tokens.Access)
	if err != nil {
		writeError(c, err)
		return
	}
	guilds, err := s.discord.Guilds(ctx, tokens.Access)
	if err != nil {
		writeError(c, err)
		return
	}
	if err := s.store.UpsertUser(ctx, user); err != nil {
		writeError(c, err)
		return
	}
	landing := "/"
	if tokens.GuildID != 0 { // the consent added the bot to a guild (onboarding)
		out, err := s.onboard(c, user.ID, tokens.GuildID, guilds)
		if err != nil {
			writeError(c, err)
			return
		}
		landing = fmt.Sprintf("/g/%d?onboarding=%s", tokens.GuildID, out.Outcome)
	}
	if err := s.syncGrants(c, user.ID, guilds); err != nil {
		writeError(c, err)
		return
	}
	raw, csrf, err := s.store.CreateSession(ctx, user.ID, s.deps.Auth.SessionTTL, tokens)
	if err != nil {
		writeError(c, err)
		return
	}
	ttl := int(s.deps.Auth.SessionTTL.Seconds())
	s.setCookie(c, sessionCookie, raw, "/", ttl, true)
	s.setCookie(c, csrfCookie, csrf, "/", ttl, false) // read by the dashboard's JS, echoed in X-CSRF-Token
	c.Redirect(http.StatusFound, landing)
}

// syncGrants derives guild-admin grants from Discord (Manage Server or
// Administrator in a guild Synapse knows) and mirrors the user's tenant
// roles (tenant_members) into the policy.
func (s *Server) syncGrants(c *gin.Context, userID int64, guilds []auth.DiscordGuild) error {
	ctx := c.Request.Context()
	var manageable []int64
	for _, g := range guilds {
		if g.CanManage() {
			manageable = append(manageable, g.ID)
		}
	}
	known, err := s.store.KnownGuilds(ctx, manageable)
	if err != nil {
		return err
	}
	roles, err := s.store.TenantRoles(ctx, userID)
	if err != nil {
		return err
	}
	az, err := s.authz()
	if err != nil {
		return err
	}
	sub := auth.UserSubject(userID)
	guildGrants := map[string]string{}
	for g := range known {
		guildGrants[auth.GuildDomain(g)] = auth.RoleGuildAdmin
	}
	if err := az.SyncUser(ctx, sub, "guild:", guildGrants); err != nil {
		return err
	}
	tenantGrants := map[string]string{}
	for _, r := range roles {
		tenantGrants[auth.TenantDomain(r.TenantID)] = "role:" + r.Role
	}
	return az.SyncUser(ctx, sub, "tenant:", tenantGrants)
}

func (s *Server) postLogout(c *gin.Context) {
	p := principalOf(c)
	if p.kind == kindSession {
		s.sessions.drop(p.sessionRaw)
		if err := s.store.DeleteSession(c.Request.Context(), p.sessionRaw); err != nil {
			writeError(c, err)
			return
		}
	}
	s.setCookie(c, sessionCookie, "", "/", -1, true)
	s.setCookie(c, csrfCookie, "", "/", -1, false)
	c.Status(http.StatusNoContent)
}

type meGuild struct {
	GuildID  string   `json:"guild_id"`
	TenantID string   `json:"tenant_id"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	// Via says where the roles come from: "guild" (granted in the guild or
	// derived from Discord's Manage Server) and/or "tenant" (a tenant role,
	// which covers every guild of the tenant).
	Via    []string `json:"via"`
	Active bool     `json:"active"` // the bot is in the guild
	// Unclaimed: no operator runs the guild's tenant yet; a guild admin
	// may claim it (POST /guilds/{guild}/claim).
	Unclaimed bool `json:"unclaimed"`
}

func (s *Server) getMe(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	user, err := s.store.User(ctx, p.userID)
	if err != nil {
		writeError(c, err)
		return
	}
	tenantRoles, err := s.store.TenantRoles(ctx, p.userID)
	if err != nil {
		writeError(c, err)
		return
	}
	az, err := s.authz()
	if err != nil {
		writeError(c, err)
		return
	}
	guilds, err := s.guildsOf(ctx, az.Domains(p.subject(), "guild:"), az.Domains(p.subject(), "tenant:"))
	if err != nil {
		writeError(c, err)
		return
	}
	out := gin.H{"user": user, "tenants": tenantRoles, "guilds": guilds}
	switch p.kind {
	case kindSession:
		out["auth"] = "session"
		out["csrf_token"] = p.session.CSRFToken
		out["session_expires_at"] = p.session.ExpiresAt
	case kindToken:
		out["auth"] = "token"
		out["token"] = p.token
	}
	c.JSON(http.StatusOK, out)
}

// TokenRequest creates a personal API token.
type TokenRequest struct {
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"`
	TenantID *int64   `json:"tenant_id,omitempty"`
}

func (s *Server) createToken(c *gin.Context) {
	p := principalOf(c)
	var req TokenRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		writeError(c, apperr.Invalid("", "body must be a JSON object with name and scopes"))
		return
	}
	if req.Name == "" || len(req.Name) > 100 {
		writeError(c, apperr.Invalid("name", "must be 1 to 100 characters"))
		return
	}
	if len(req.Scopes) == 0 || len(req.Scopes) > 20 {
		writeError(c, apperr.Invalid("scopes", "must list 1 to 20 scopes such as guild.events:read or guild.*:*"))
		return
	}
	for i, sc := range req.Scopes {
		if !validScope(sc) {
			writeError(c, apperr.Invalid(fmt.Sprintf("scopes[%d]", i), "must be object:action, e.g. guild.settings:write, guild.*:read, *:read"))
			return
		}
	}
	var tenantID *int64
	if req.TenantID != nil {
		id := *req.TenantID
		az, err := s.authz()
		if err != nil {
			writeError(c, err)
			return
		}
		if len(az.RolesIn(p.subject(), auth.TenantDomain(id))) == 0 {
			writeError(c, apperr.NotFound("tenant"))
			return
		}
		tenantID = &id
	}
	t, secret, err := s.store.CreateToken(c.Request.Context(), p.userID, tenantID, req.Name, req.Scopes)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": t, "secret": secret})
}

func (s *Server) listTokens(c *gin.Context) {
	limit, after, err := pageParams(c, "after")
	if err != nil {
		writeError(c, err)
		return
	}
	ts, err := s.store.ListTokens(c.Request.Context(), principalOf(c).userID, after, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	var next *string
	if len(ts) == limit {
		n := strconv.FormatInt(ts[len(ts)-1].ID, 10)
		next = &n
	}
	c.JSON(http.StatusOK, gin.H{"items": ts, "next_after": next})
}

func (s *Server) revokeToken(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("token"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, apperr.Invalid("token", "must be a token id"))
		return
	}
	if err := s.store.RevokeToken(c.Request.Context(), principalOf(c).userID, id); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// guildsOf lists the guilds a user may open: those they hold a role in,
// and every guild of the tenants they hold a role in, with names.
func (s *Server) guildsOf(ctx context.Context, guildDoms, tenantDoms map[string][]string) ([]meGuild, error) {
	byID := map[int64]*meGuild{}
	add := func(id, tenantID int64, name string, active bool, roles []string, via string) {
		g, ok := byID[id]
		if !ok {
			g = &meGuild{GuildID: strconv.FormatInt(id, 10), TenantID: strconv.FormatInt(tenantID, 10), Name: name, Active: active}
			byID[id] = g
		}
		for _, r := range roles {
			r = strings.TrimPrefix(r, "role:")
			if !slices.Contains(g.Roles, r) {
				g.Roles = append(g.Roles, r)
			}
		}
		g.Via = append(g.Via, via)
	}
	var direct []int64
	for dom := range guildDoms {
		if id, err := strconv.ParseInt(strings.TrimPrefix(dom, "guild:"), 10, 64); err == nil {
			direct = append(direct, id)
		}
	}
	gs, err := s.tenants.GuildsByID(ctx, direct)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		add(g.ID, g.TenantID, g.Name, g.BotLeftAt == nil, guildDoms[auth.GuildDomain(g.ID)], "guild")
	}
	for dom, roles := range tenantDoms {
		tenantID, err := strconv.ParseInt(strings.TrimPrefix(dom, "tenant:"), 10, 64)
		if err != nil {
			continue
		}
		tgs, err := s.tenants.ForTenant(tenantID).Guilds().List(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range tgs {
			add(g.ID, g.TenantID, g.Name, g.BotLeftAt == nil, roles, "tenant")
		}
	}
	var tenantIDs []int64
	for _, g := range byID {
		if id, err := strconv.ParseInt(g.TenantID, 10, 64); err == nil {
			tenantIDs = append(tenantIDs, id)
		}
	}
	unclaimed, err := s.tenants.Unclaimed(ctx, tenantIDs)
	if err != nil {
		return nil, err
	}
	out := make([]meGuild, 0, len(byID))
	for _, g := range byID {
		id, _ := strconv.ParseInt(g.TenantID, 10, 64)
		g.Unclaimed = unclaimed[id]
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].GuildID < out[j].GuildID
	})
	return out, nil
}
