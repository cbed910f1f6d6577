package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// guildScope returns the guild the authorization middleware resolved and
// the stores bound to its tenant.
func (s *Server) guildScope(c *gin.Context) (*tenants.Scope, int64) {
	return s.tenants.ForTenant(c.GetInt64(ctxTenant)), c.GetInt64(ctxGuild)
}

func (s *Server) getGuildSettings(c *gin.Context) {
	sc, guildID := s.guildScope(c)
	g, err := sc.Guilds().Get(c.Request.Context(), guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"guild_id": strconv.FormatInt(g.ID, 10), "settings": g.Settings, "updated_at": g.UpdatedAt})
}

// SettingsRequest replaces a guild's settings. Its capture object is
// validated (lake.ValidateCaptureSettings): a malformed retention_days would
// otherwise be read as the default at retention time.
type SettingsRequest struct {
	Settings json.RawMessage `json:"settings"`
}

func (s *Server) putGuildSettings(c *gin.Context) {
	var req SettingsRequest
	if err := c.ShouldBindJSON(&req); err != nil || len(req.Settings) == 0 {
		writeError(c, apperr.Invalid("settings", "must be a JSON object"))
		return
	}
	if err := lake.ValidateCaptureSettings(req.Settings); err != nil {
		writeError(c, err)
		return
	}
	if err := s.limits.AllowRetention(c.Request.Context(), c.GetInt64(ctxTenant), lake.ParseCaptureSettings(req.Settings).RetentionDays); err != nil {
		writeError(c, err)
		return
	}
	sc, guildID := s.guildScope(c)
	g, err := sc.Guilds().UpdateSettings(c.Request.Context(), principalOf(c).actor(c), guildID, req.Settings)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"guild_id": strconv.FormatInt(g.ID, 10), "settings": g.Settings, "updated_at": g.UpdatedAt})
}

func (s *Server) getGuildAudit(c *gin.Context) {
	limit, before, err := pageParams(c, "before")
	if err != nil {
		writeError(c, err)
		return
	}
	sc, guildID := s.guildScope(c)
	entries, err := sc.Audit().List(c.Request.Context(), tenants.AuditFilter{GuildID: &guildID, BeforeID: before, Limit: limit})
	if err != nil {
		writeError(c, err)
		return
	}
	if entries == nil {
		entries = []tenants.AuditEntry{}
	}
	var next *string
	if len(entries) == limit {
		n := strconv.FormatInt(entries[len(entries)-1].ID, 10)
		next = &n
	}
	c.JSON(http.StatusOK, gin.H{"items": entries, "next_before": next})
}
