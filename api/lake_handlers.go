package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/shardmgr"
)

// guildStats returns the lake statistics bound to the tenant of the guild
// the authorization middleware resolved.
func (s *Server) guildStats(c *gin.Context) (*lake.Stats, int64, bool) {
	return lake.NewStats(s.deps.DB.Pool, c.GetInt64(ctxTenant)), c.GetInt64(ctxGuild), true
}

// dateRange reads from and to (YYYY-MM-DD, to exclusive); the default is
// the last 30 days.
func dateRange(c *gin.Context) (time.Time, time.Time, error) {
	to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.AddDate(0, 0, -30)
	var err error
	if v := c.Query("from"); v != "" {
		if from, err = time.Parse(time.DateOnly, v); err != nil {
			return from, to, apperr.Invalid("from", "must be a date such as 2026-11-01")
		}
	}
	if v := c.Query("to"); v != "" {
		if to, err = time.Parse(time.DateOnly, v); err != nil {
			return from, to, apperr.Invalid("to", "must be a date such as 2026-11-30")
		}
	}
	return from, to, nil
}

func (s *Server) getEventVolume(c *gin.Context) {
	st, guildID, ok := s.guildStats(c)
	if !ok {
		return
	}
	from, to, err := dateRange(c)
	if err != nil {
		writeError(c, err)
		return
	}
	points, err := st.Volume(c.Request.Context(), guildID, from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "points": points})
}

func (s *Server) getEventBreakdown(c *gin.Context) {
	st, guildID, ok := s.guildStats(c)
	if !ok {
		return
	}
	from, to, err := dateRange(c)
	if err != nil {
		writeError(c, err)
		return
	}
	by := c.DefaultQuery("by", "type")
	rows, err := st.Breakdown(c.Request.Context(), guildID, by, from, to)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"by": by, "from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "rows": rows})
}

func (s *Server) getEventStorage(c *gin.Context) {
	st, guildID, ok := s.guildStats(c)
	if !ok {
		return
	}
	storage, err := st.Storage(c.Request.Context(), guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, storage)
}

func (s *Server) getShards(c *gin.Context) {
	shards, err := shardmgr.Status(c.Request.Context(), s.deps.DB.Pool)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"shards": shards})
}
