package lake

import (
	"context"
	"fmt"
	"time"
)

// ActiveMembers counts the guild's present members (members table, not
// left) with at least one event of their own from a day on (UTC days, as
// counters are kept). Derived counters (reactions received, voice_active)
// do not make a member active: someone else acted.
func (s *Stats) ActiveMembers(ctx context.Context, guildID int64, from time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT c.user_id) FROM event_counters c
		JOIN members m ON m.tenant_id = c.tenant_id AND m.guild_id = c.guild_id AND m.user_id = c.user_id AND m.left_at IS NULL
		WHERE c.tenant_id = $1 AND c.guild_id = $2 AND c.day >= $3 AND c.event_type = ANY($4)`,
		s.tenantID, guildID, from.UTC().Truncate(24*time.Hour), lakeTypeCodes()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("active members: %w", err)
	}
	return n, nil
}
