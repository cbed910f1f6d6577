package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/api/auth"
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
	state := auth.RandomToken(24)
	s.setCookie(c, stateCookie, s.keys.SignValue(state, stateTTL, time.Now()), apiPrefix+"/auth", int(stateTTL.Seconds()), true)
	c.Redirect(http.StatusFound, s.discord.AddBotURL(state, guildID))
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
	if err == nil && out.Outcome != tenants.OnboardManaged {
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
	if out.Outcome == tenants.OnboardManaged {
		writeError(c, fmt.Errorf("the guild's tenant is already run by its operators; ask an owner for a role: %w", apperr.ErrConflict))
		return
	}
	az, err := s.authz()
	if err != nil {
		writeError(c, err)
		return
	}
	if err := az.SetRole(ctx, auth.UserSubject(p.userID), auth.TenantDomain(out.TenantID), auth.RoleOwner); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
