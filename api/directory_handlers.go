package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/tenants"
)

// getChannels lists the guild's channels as the gateway last saw them
// (deleted ones included and marked, so old zones and rules still show
// names), for the dashboard's pickers.
func (s *Server) getChannels(c *gin.Context) {
	sc, guildID := s.guildScope(c)
	chs, err := sc.Directory().AllChannels(c.Request.Context(), guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	if chs == nil {
		chs = []tenants.Channel{}
	}
	c.JSON(http.StatusOK, gin.H{"items": chs})
}

// getRoles lists the guild's roles, highest first as Discord orders them
// (deleted ones last and marked).
func (s *Server) getRoles(c *gin.Context) {
	sc, guildID := s.guildScope(c)
	rs, err := sc.Directory().AllRoles(c.Request.Context(), guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	if rs == nil {
		rs = []tenants.Role{}
	}
	c.JSON(http.StatusOK, gin.H{"items": rs})
}
