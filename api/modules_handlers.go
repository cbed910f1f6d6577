package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// noModulePath addresses the rules of no module in a path.
const noModulePath = "_"

func (s *Server) listModules(c *gin.Context) {
	st, guildID := s.guildRules(c)
	ms, err := st.Modules(c.Request.Context(), guildID)
	respond(c, http.StatusOK, gin.H{"items": ms}, err)
}

// putModuleEnabled switches a module's rules on or off together.
func (s *Server) putModuleEnabled(c *gin.Context) {
	var req EnabledRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.Enabled == nil {
		writeError(c, apperr.Invalid("enabled", "is required: true or false"))
		return
	}
	module := c.Param("module")
	if module == noModulePath {
		module = rules.NoModule
	}
	st, guildID := s.guildRules(c)
	changed, err := st.SetModuleEnabled(c.Request.Context(), principalOf(c).actor(c), guildID, module, *req.Enabled)
	respond(c, http.StatusOK, gin.H{"module": module, "enabled": *req.Enabled, "changed": changed}, err)
}

func (s *Server) getTaxonomy(c *gin.Context) {
	sc, guildID := s.guildScope(c)
	terms, err := sc.Guilds().Taxonomy(c.Request.Context(), guildID)
	respond(c, http.StatusOK, gin.H{"terms": terms}, err)
}

// TaxonomyRequest sets what the community calls Synapse's terms.
type TaxonomyRequest struct {
	Terms map[string]tenants.Label `json:"terms"`
}

func (s *Server) putTaxonomy(c *gin.Context) {
	var req TaxonomyRequest
	if !bindJSON(c, &req) {
		return
	}
	sc, guildID := s.guildScope(c)
	terms, err := sc.Guilds().SetTaxonomy(c.Request.Context(), principalOf(c).actor(c), guildID, req.Terms)
	respond(c, http.StatusOK, gin.H{"terms": terms}, err)
}
