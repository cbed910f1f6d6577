package lake

import (
	"context"
	"fmt"
	"time"
)

// ActiveMembers counts the distinct members with at least one counted
// event in a guild from a day on (UTC days, as counters are kept).
func (s *Stats) ActiveMembers(ctx context.Context, guildID int64, from time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT user_id) FROM event_counters
		WHERE tenant_id = $1 AND guild_id = $2 AND day >= $3 AND user_id <> 0`,
		s.tenantID, guildID, from.UTC().Truncate(24*time.Hour)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("active members: %w", err)
	}
	return n, nil
}
