package tenants

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// ActivityTotals is one member's count of one event type in the lake's
// per-day counters (event_counters, written by engine/lake): events and
// their summed magnitude (characters, voice seconds) on one day and over
// a span of days ending with it.
type ActivityTotals struct {
	Type                      int16 // engine/lake's event type code
	DayEvents, DayMagnitude   int64
	SpanEvents, SpanMagnitude int64
}

// Activity sums the counters of the given members and event types over
// the UTC days from spanStart to day, and for day alone: one query for
// all of them, along event_counters_user_idx. Read here because the rules'
// member facts are read through this store; members with no counters are
// absent from the map.
func (s *MemberStore) Activity(ctx context.Context, guildID int64, userIDs []int64, types []int16, spanStart, day time.Time) (map[int64][]ActivityTotals, error) {
	out := make(map[int64][]ActivityTotals, len(userIDs))
	if len(userIDs) == 0 || len(types) == 0 {
		return out, nil
	}
	// Days as dates, not timestamps: the session's time zone must not move them.
	d, from := day.UTC().Format(time.DateOnly), spanStart.UTC().Format(time.DateOnly)
	rs, err := s.db.QueryContext(ctx, `SELECT user_id, event_type,
			coalesce(sum(events) FILTER (WHERE day = ?::date), 0)::bigint,
			coalesce(sum(magnitude) FILTER (WHERE day = ?::date), 0)::bigint,
			sum(events)::bigint, sum(magnitude)::bigint
		FROM event_counters
		WHERE tenant_id = ? AND guild_id = ? AND user_id = ANY(?) AND event_type = ANY(?::smallint[])
			AND day BETWEEN ?::date AND ?::date
		GROUP BY user_id, event_type`,
		d, d, s.tenantID, guildID, pgdialect.Array(userIDs), pgdialect.Array(types), from, d)
	if err != nil {
		return nil, fmt.Errorf("member activity: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var u int64
		var a ActivityTotals
		if err := rs.Scan(&u, &a.Type, &a.DayEvents, &a.DayMagnitude, &a.SpanEvents, &a.SpanMagnitude); err != nil {
			return nil, fmt.Errorf("member activity: %w", err)
		}
		out[u] = append(out[u], a)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("member activity: %w", err)
	}
	return out, nil
}
