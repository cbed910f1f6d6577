package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/engine/milestones"
)

func (s *Server) guildMilestones(c *gin.Context) (*milestones.Milestones, int64) {
	return s.eng.milestones.ForTenant(c.GetInt64(ctxTenant)), c.GetInt64(ctxGuild)
}

// galleryItem is a template with how often it has been earned.
type galleryItem struct {
	milestones.Template
	milestones.AwardCount
}

// listMilestones is the achievements gallery: every template of the guild
// (hidden ones included: the caller administers them) with award counts.
func (s *Server) listMilestones(c *gin.Context) {
	ctx := c.Request.Context()
	ms, guildID := s.guildMilestones(c)
	ts, err := ms.List(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	counts, err := ms.AwardCounts(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]galleryItem, len(ts))
	for i, t := range ts {
		out[i] = galleryItem{Template: t, AwardCount: counts[t.ID]}
	}
	c.JSON(http.StatusOK, gin.H{"items": out, "rarities": milestones.Rarities})
}

// MilestoneRequest creates a template or replaces one; version, on update,
// is the version the editor started from (409 if it moved on).
type MilestoneRequest struct {
	milestones.Template
}

func (s *Server) createMilestone(c *gin.Context) {
	var req MilestoneRequest
	if !bindJSON(c, &req) || !s.withinPlan(c, billing.Milestones) {
		return
	}
	ms, guildID := s.guildMilestones(c)
	t := req.Template
	t.ID, t.GuildID = 0, guildID
	out, err := ms.Create(c.Request.Context(), principalOf(c).actor(c), t)
	respond(c, http.StatusCreated, out, err)
}

func (s *Server) putMilestone(c *gin.Context) {
	id, ok := pathID(c, "milestone")
	if !ok {
		return
	}
	var req MilestoneRequest
	if !bindJSON(c, &req) {
		return
	}
	ms, guildID := s.guildMilestones(c)
	t := req.Template
	t.ID, t.GuildID = id, guildID
	out, err := ms.Update(c.Request.Context(), principalOf(c).actor(c), t, req.Version)
	respond(c, http.StatusOK, out, err)
}

func (s *Server) deleteMilestone(c *gin.Context) {
	id, ok := pathID(c, "milestone")
	if !ok {
		return
	}
	ms, guildID := s.guildMilestones(c)
	respond(c, http.StatusNoContent, nil, ms.Delete(c.Request.Context(), principalOf(c).actor(c), guildID, id))
}
