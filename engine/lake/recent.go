package lake

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Recent returns up to limit of a guild's events from the last day,
// oldest first: the sample a rule dry run replays when the operator pastes
// none. It walks the natural index backwards from the newest snowflake
// (ids grow with time for every guild), so it stops as soon as it has
// found limit rows of this guild.
func (s *Stats) Recent(ctx context.Context, guildID int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	since := time.Now().Add(-24 * time.Hour)
	rs, err := s.pool.Query(ctx, `SELECT occurred_at, source_id, event_type, user_id, channel_id, target_id, counts, magnitude, flags
		FROM event_lake
		WHERE source_id >= $1 AND occurred_at >= $2 AND tenant_id = $3 AND guild_id = $4
		ORDER BY source_id DESC LIMIT $5`, MintSnowflake(since, 0), since, s.tenantID, guildID, limit)
	if err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	defer rs.Close()
	var out []Event
	for rs.Next() {
		e := Event{TenantID: s.tenantID, GuildID: guildID}
		if err := rs.Scan(&e.OccurredAt, &e.SourceID, &e.Type, &e.UserID, &e.ChannelID, &e.TargetID, &e.Counts, &e.Magnitude, &e.Flags); err != nil {
			return nil, fmt.Errorf("recent events: %w", err)
		}
		out = append(out, e)
	}
	slices.Reverse(out)
	return out, rs.Err()
}
