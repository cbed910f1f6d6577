package lake

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// History yields a guild's events from from to to (exclusive) in time
// order, one day at a time so that memory stays flat and each query
// touches one partition. It scans the day's partition for the guild:
// meant for backtests, an operator's occasional question, not for hot
// paths. Count, from the counters, says how many it will yield.
func (s *Stats) History(ctx context.Context, guildID int64, from, to time.Time) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.AddDate(0, 0, 1) {
			lo, hi := maxTime(day, from), minTime(day.AddDate(0, 0, 1), to)
			evs, err := s.historyDay(ctx, guildID, lo, hi)
			if err != nil {
				yield(Event{}, err)
				return
			}
			for _, e := range evs {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

func (s *Stats) historyDay(ctx context.Context, guildID int64, from, to time.Time) ([]Event, error) {
	rs, err := s.pool.Query(ctx, `SELECT occurred_at, source_id, event_type, user_id, channel_id, target_id, counts, magnitude, flags
		FROM event_lake WHERE occurred_at >= $1 AND occurred_at < $2 AND tenant_id = $3 AND guild_id = $4
		ORDER BY occurred_at, source_id`, from, to, s.tenantID, guildID)
	if err != nil {
		return nil, fmt.Errorf("lake history: %w", err)
	}
	defer rs.Close()
	var out []Event
	for rs.Next() {
		e := Event{TenantID: s.tenantID, GuildID: guildID}
		if err := rs.Scan(&e.OccurredAt, &e.SourceID, &e.Type, &e.UserID, &e.ChannelID, &e.TargetID, &e.Counts, &e.Magnitude, &e.Flags); err != nil {
			return nil, fmt.Errorf("lake history: %w", err)
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// Count is how many events of a guild the counters hold for whole days
// from from's day to to's day (exclusive): History's length, for progress.
func (s *Stats) Count(ctx context.Context, guildID int64, from, to time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(sum(events), 0)::bigint FROM event_counters
		WHERE tenant_id = $1 AND guild_id = $2 AND day >= $3::date AND day < $4::date AND event_type = ANY($5)`,
		s.tenantID, guildID, from.UTC(), to.UTC().Add(24*time.Hour-time.Nanosecond), lakeTypeCodes()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

func lakeTypeCodes() []int16 {
	out := make([]int16, len(Types))
	for i, t := range Types {
		out[i] = int16(t)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
