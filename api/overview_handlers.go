package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
)

// getOverview is the dashboard's first page: membership, activity, the
// economy and the engines at a glance. Every figure is read from the
// stores (counters, wallets, rules, awards), none from the lake itself.
func (s *Server) getOverview(c *gin.Context) {
	ctx := c.Request.Context()
	sc, guildID := s.guildScope(c)
	tenantID := c.GetInt64(ctxTenant)
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	weekAgo := today.AddDate(0, 0, -6)

	g, err := sc.Guilds().Get(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	members, err := sc.Members().Counts(ctx, guildID, weekAgo)
	if err != nil {
		writeError(c, err)
		return
	}
	st := lake.NewStats(s.deps.DB.Pool, tenantID)
	active, err := st.ActiveMembers(ctx, guildID, weekAgo)
	if err != nil {
		writeError(c, err)
		return
	}
	points, err := st.Volume(ctx, guildID, today.AddDate(0, 0, -29), today.AddDate(0, 0, 1))
	if err != nil {
		writeError(c, err)
		return
	}
	type day struct {
		Day   string `json:"day"`
		Count int64  `json:"count"`
	}
	perDay := map[string]int64{}
	for _, p := range points {
		perDay[p.Day] += p.Events
	}
	daily := make([]day, 0, 30)
	var eventsToday, events7d int64
	for d := today.AddDate(0, 0, -29); !d.After(today); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		daily = append(daily, day{Day: k, Count: perDay[k]})
		if !d.Before(weekAgo) {
			events7d += perDay[k]
		}
		if d.Equal(today) {
			eventsToday = perDay[k]
		}
	}

	l := s.eng.ledger.ForTenant(tenantID)
	currencies, err := currenciesWithSupply(ctx, l, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	var primary *ledger.Currency
	for i := range currencies {
		if currencies[i].Primary || primary == nil {
			primary = &currencies[i].Currency
		}
	}
	top := []namedStanding{}
	if primary != nil {
		rows, err := l.BoardOf(ctx, *primary, ledger.LeaderboardQuery{Limit: 5})
		if err != nil {
			writeError(c, err)
			return
		}
		if top, err = nameStandings(ctx, sc, guildID, rows); err != nil {
			writeError(c, err)
			return
		}
	}

	rs, err := s.eng.rules.ForTenant(tenantID).ListRules(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	enabled := 0
	for _, r := range rs {
		if r.Enabled {
			enabled++
		}
	}
	ms := s.eng.milestones.ForTenant(tenantID)
	templates, err := ms.List(ctx, guildID)
	if err != nil {
		writeError(c, err)
		return
	}
	awarded, err := ms.AwardedSince(ctx, guildID, weekAgo)
	if err != nil {
		writeError(c, err)
		return
	}

	c.JSON(http.StatusOK, gin.H{
		"guild":      gin.H{"id": strconv.FormatInt(g.ID, 10), "name": g.Name, "tenant_id": tenantID},
		"members":    gin.H{"total": members.Total, "active_7d": active, "joined_7d": members.Joined, "left_7d": members.Left},
		"events":     gin.H{"today": eventsToday, "last_7d": events7d, "daily": daily},
		"currencies": currencies,
		"top":        top,
		"rules":      gin.H{"enabled": enabled, "total": len(rs)},
		"milestones": gin.H{"templates": len(templates), "awarded_7d": awarded},
	})
}
