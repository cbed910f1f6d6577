package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/api/auth"
	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// getAddBot starts adding the bot to a guild: Discord's consent page
// (server picker, or ?guild= preselected), which also logs the user in.
// The callback is the login's: it registers the guild's tenant for the
// user (see onboard) and lands on the guild's dashboard.
func (s *Server) getAddBot(c *gin.Context) {
	if !s.discord.Configured() {
		writeError(c, fmt.Errorf("login with Discord is not configured: %w", apperr.ErrUnavailable))
		return
	}
	var guildID int64
	if g := c.Query("guild"); g != "" {
		id, err := strconv.ParseInt(g, 10, 64)
		if err != nil || id <= 0 {
			writeError(c, apperr.Invalid("guild", "must be a Discord guild id"))
			return
		}
		guildID = id
	}
	c.Redirect(http.StatusFound, s.discord.AddBotURL(s.newConsentState(c), guildID))
}

// onboard gives the user who just added the bot to guildID its tenant.
// Discord named the guild in the token response of the user's own
// consent, which it grants only to members who may manage the guild.
func (s *Server) onboard(c *gin.Context, userID, guildID int64, guilds []auth.DiscordGuild) (tenants.Onboarded, error) {
	var name string
	for _, g := range guilds {
		if g.ID == guildID {
			name = g.Name
		}
	}
	out, err := s.tenants.Onboard(c.Request.Context(), tenants.Actor{ID: strconv.FormatInt(userID, 10), RequestID: requestIDOf(c)},
		userID, guildID, name, time.Now().UTC())
	if err == nil && out.Outcome != tenants.OnboardManaged && out.Outcome != tenants.OnboardMember {
		s.guildTenants.drop(guildID)
	}
	return out, err
}

// postClaim makes the caller the owner of the guild's tenant, if no
// operator runs it yet: the bot joined (and the gateway registered the
// guild) before anyone signed up for it. The route's guild.settings write
// is what Discord's Manage Server gives at login (guild admin).
func (s *Server) postClaim(c *gin.Context) {
	p := principalOf(c)
	if p.kind != kindSession && p.kind != kindToken {
		writeError(c, apperr.Invalid("principal", "a guild is claimed by a Discord user, not the platform operator"))
		return
	}
	ctx := c.Request.Context()
	guildID := c.GetInt64(ctxGuild)
	g, err := s.tenants.ForTenant(c.GetInt64(ctxTenant)).Guilds().Get(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	out, err := s.tenants.Onboard(ctx, p.actor(c), p.userID, guildID, g.Name, time.Now().UTC())
	if err != nil {
		writeError(c, err)
		return
	}
	if out.Outcome == tenants.OnboardManaged || out.Outcome == tenants.OnboardMember {
		writeError(c, fmt.Errorf("the guild's tenant is already run by its operators; ask an owner for a role: %w", apperr.ErrConflict))
		return
	}
	if err := s.grantTenantRole(ctx, p.userID, out.TenantID, "owner"); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// DiscordServer is one Discord server the caller can manage, and where it
// stands with Synapse.
type DiscordServer struct {
	GuildID  string `json:"guild_id"`
	Name     string `json:"name"`
	TenantID string `json:"tenant_id,omitempty"` // registered: the tenant it belongs to
	Bot      bool   `json:"bot"`                 // registered with the bot in it
}

// getMyServers lists the Discord servers the caller can manage (Manage
// Server or Administrator, per Discord now), for the dashboard's "add a
// server": those Synapse does not have yet can be added to a tenant.
func (s *Server) getMyServers(c *gin.Context) {
	p := principalOf(c)
	if p.kind != kindSession {
		writeError(c, apperr.Invalid("principal", "only a Discord login can list its servers"))
		return
	}
	ctx := c.Request.Context()
	access, err := s.store.DiscordAccess(ctx, p.sessionRaw)
	if err != nil {
		writeError(c, err)
		return
	}
	guilds, err := s.discord.Guilds(ctx, access)
	if err != nil {
		writeError(c, err)
		return
	}
	guilds = slices.DeleteFunc(guilds, func(g auth.DiscordGuild) bool { return !g.CanManage() })
	ids := make([]int64, len(guilds))
	for i, g := range guilds {
		ids[i] = g.ID
	}
	registered, err := s.tenants.GuildsByID(ctx, ids)
	if err != nil {
		writeError(c, err)
		return
	}
	known := map[int64]tenants.Guild{}
	for _, g := range registered {
		known[g.ID] = g
	}
	out := []DiscordServer{}
	for _, g := range guilds {
		sv := DiscordServer{GuildID: strconv.FormatInt(g.ID, 10), Name: g.Name}
		if k, ok := known[g.ID]; ok {
			sv.TenantID, sv.Bot = strconv.FormatInt(k.TenantID, 10), k.BotLeftAt == nil
		}
		out = append(out, sv)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// ServerInviteRequest names the server to add to the tenant.
type ServerInviteRequest struct {
	GuildID string `json:"guild_id"`
}

// postServerInvite starts adding another server to the tenant: within the
// plan's server limit, it records the invite (the gateway then registers
// the server into this tenant when the bot arrives) and returns Discord's
// consent page for that server. The login's callback finishes it.
func (s *Server) postServerInvite(c *gin.Context) {
	p := principalOf(c)
	if p.kind != kindSession {
		writeError(c, apperr.Invalid("principal", "a server is added from a Discord login (its consent page is a browser's)"))
		return
	}
	var req ServerInviteRequest
	if !bindJSON(c, &req) {
		return
	}
	guildID, err := strconv.ParseInt(req.GuildID, 10, 64)
	if err != nil || guildID <= 0 {
		writeError(c, apperr.Invalid("guild_id", "must be a Discord guild id"))
		return
	}
	ctx := c.Request.Context()
	tenantID := c.GetInt64(ctxTenant)
	if _, err := s.tenants.TenantOfGuild(ctx, guildID); err == nil {
		writeError(c, fmt.Errorf("that server is in Synapse already: %w", apperr.ErrConflict))
		return
	}
	if err := s.limits.Allow(ctx, tenantID, 0, billing.Guilds); err != nil {
		writeError(c, err)
		return
	}
	// Only a server the caller manages on Discord: the invite decides
	// which tenant the server's data goes to when the bot arrives.
	manages, err := s.managesOnDiscord(ctx, p.sessionRaw, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	if !manages {
		writeError(c, fmt.Errorf("you do not manage that server on Discord (Manage Server or Administrator): %w", apperr.ErrForbidden))
		return
	}
	if err := s.tenants.ForTenant(tenantID).InviteGuild(ctx, p.actor(c), p.userID, guildID, time.Now()); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, RedirectURL{URL: s.discord.AddBotURL(s.newConsentState(c), guildID)})
}

// managesOnDiscord asks Discord, with the session's login, whether the
// user may manage the guild now.
func (s *Server) managesOnDiscord(ctx context.Context, sessionRaw string, guildID int64) (bool, error) {
	access, err := s.store.DiscordAccess(ctx, sessionRaw)
	if err != nil {
		return false, err
	}
	guilds, err := s.discord.Guilds(ctx, access)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(guilds, func(g auth.DiscordGuild) bool { return g.ID == guildID && g.CanManage() }), nil
}
