package milestones

import (
	"context"
	"fmt"
	"time"
)

// AwardCount is how often a template has been earned in a guild.
type AwardCount struct {
	Awarded int64 `json:"awarded"` // active awards
	Members int64 `json:"members"` // distinct members holding it
}

// AwardCounts counts the active awards of every template of a guild, for
// the achievements gallery.
func (m *Milestones) AwardCounts(ctx context.Context, guildID int64) (map[int64]AwardCount, error) {
	rs, err := m.db.Pool.Query(ctx, `SELECT template_id, count(*), count(DISTINCT user_id) FROM milestone_awards
		WHERE tenant_id = $1 AND guild_id = $2 AND revoked_at IS NULL GROUP BY template_id`, m.tenantID, guildID)
	if err != nil {
		return nil, fmt.Errorf("milestones: award counts: %w", err)
	}
	defer rs.Close()
	out := map[int64]AwardCount{}
	for rs.Next() {
		var id int64
		var c AwardCount
		if err := rs.Scan(&id, &c.Awarded, &c.Members); err != nil {
			return nil, fmt.Errorf("milestones: award counts: %w", err)
		}
		out[id] = c
	}
	return out, rs.Err()
}

// RecentAwards lists a guild's awards made before a time, newest first
// (revoked ones included, with RevokedAt set), for the activity feed.
func (m *Milestones) RecentAwards(ctx context.Context, guildID int64, before time.Time, limit int) ([]Award, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return m.queryAwards(ctx, `SELECT `+awardColumns+` FROM milestone_awards a
		JOIN milestone_templates t ON t.tenant_id = a.tenant_id AND t.id = a.template_id
		WHERE a.tenant_id = $1 AND a.guild_id = $2 AND a.awarded_at < $3
		ORDER BY a.awarded_at DESC, a.id DESC LIMIT $4`, m.tenantID, guildID, before, limit)
}

// AwardedSince counts the awards a guild's members earned since a time.
func (m *Milestones) AwardedSince(ctx context.Context, guildID int64, since time.Time) (int64, error) {
	var n int64
	err := m.db.Pool.QueryRow(ctx, `SELECT count(*) FROM milestone_awards
		WHERE tenant_id = $1 AND guild_id = $2 AND awarded_at >= $3 AND revoked_at IS NULL`, m.tenantID, guildID, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("milestones: awarded since: %w", err)
	}
	return n, nil
}
