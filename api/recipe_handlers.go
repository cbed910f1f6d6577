package api

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/engine/recipes"
	"github.com/synapsehq/synapse/infra/apperr"
)

// getRecipe exports the guild's configuration as a recipe, JSON by
// default or YAML (?format=yaml), as a download.
func (s *Server) getRecipe(c *gin.Context) {
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "yaml" {
		writeError(c, apperr.Invalid("format", "must be json or yaml"))
		return
	}
	guildID := c.GetInt64(ctxGuild)
	name := c.Query("name")
	if name == "" {
		g, err := s.tenants.ForTenant(c.GetInt64(ctxTenant)).Guilds().Get(c.Request.Context(), guildID)
		if err != nil {
			writeError(c, err)
			return
		}
		name = g.Name
	}
	r, err := s.eng.recipes.Export(c.Request.Context(), c.GetInt64(ctxTenant), guildID, name)
	if err != nil {
		writeError(c, err)
		return
	}
	doc, err := recipes.Encode(r, format)
	if err != nil {
		writeError(c, err)
		return
	}
	ctype := "application/json"
	if format == "yaml" {
		ctype = "application/yaml"
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="synapse-recipe-%d.%s"`, guildID, format))
	c.Data(http.StatusOK, ctype+"; charset=utf-8", doc)
}

// readRecipe decodes the request body, JSON or YAML.
func readRecipe(c *gin.Context) (recipes.Recipe, bool) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		writeError(c, apperr.Invalid("recipe", "unreadable or larger than 1 MiB"))
		return recipes.Recipe{}, false
	}
	r, err := recipes.Decode(body)
	if err != nil {
		writeError(c, err)
		return recipes.Recipe{}, false
	}
	return r, true
}

// postRecipePreview says what importing a recipe would create, and what
// the guild has already, as the recipe has it or not. Nothing is written.
func (s *Server) postRecipePreview(c *gin.Context) {
	r, ok := readRecipe(c)
	if !ok {
		return
	}
	p, err := s.eng.recipes.Preview(c.Request.Context(), c.GetInt64(ctxTenant), c.GetInt64(ctxGuild), r)
	respond(c, http.StatusOK, p, err)
}

// postRecipeApply creates what the guild lacks of a recipe (never
// changing what it has), within the plan's limits.
func (s *Server) postRecipeApply(c *gin.Context) {
	// Beyond the route's guild.settings, it writes currencies, rules and milestones.
	if err := s.authorizeAlso(c, actWrite, objGuildEconomy, objGuildRules, objGuildMilesto); err != nil {
		writeError(c, err)
		return
	}
	r, ok := readRecipe(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	tenantID, guildID := c.GetInt64(ctxTenant), c.GetInt64(ctxGuild)
	p, err := s.eng.recipes.Preview(ctx, tenantID, guildID, r)
	if err != nil {
		writeError(c, err)
		return
	}
	if err := s.withinPlanAdding(ctx, tenantID, guildID, p); err != nil {
		writeError(c, err)
		return
	}
	p, err = s.eng.recipes.Apply(ctx, principalOf(c).actor(c), tenantID, guildID, r)
	respond(c, http.StatusOK, p, err)
}

// withinPlanAdding refuses (402) an import whose creations, as a whole,
// the plan has no room for.
func (s *Server) withinPlanAdding(ctx context.Context, tenantID, guildID int64, p recipes.Plan) error {
	cur, rul, mil := p.Counts()
	for _, add := range []struct {
		r billing.Resource
		n int
	}{{billing.Currencies, cur}, {billing.Rules, rul}, {billing.Milestones, mil}} {
		if err := s.limits.AllowAdding(ctx, tenantID, guildID, add.r, add.n); err != nil {
			return err
		}
	}
	return nil
}
