package lake

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
)

// History yields a guild's events from from to to (exclusive) in time
// order, one day at a time so that memory stays flat and each query
// touches one partition. It scans the day's partition for the guild:
// meant for backtests, an operator's occasional question, not for hot
// paths. Count, from the counters, says how many it will yield.
//
// Events in a thread carry the thread's ParentID, as they did live, found
// from the thread's thread_create row (so zones apply to threads in a
// backtest too); a thread created before the lake's retention has none.
// MessageID is not stored and stays 0.
func (s *Stats) History(ctx context.Context, guildID int64, from, to time.Time) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		parents := threadParents{} // channel → parent channel, 0 for a channel that is not a thread
		for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.AddDate(0, 0, 1) {
			lo, hi := maxTime(day, from), minTime(day.AddDate(0, 0, 1), to)
			evs, err := s.historyDay(ctx, guildID, lo, hi)
			if err == nil {
				err = s.resolveParents(ctx, guildID, evs, parents)
			}
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

type threadParents map[int64]int64

// resolveParents sets the ParentID of the events that happened in a
// thread. A thread's id is its thread_create row's source id and gives
// the row's time (to the millisecond), so each channel not seen before
// costs one lookup on the natural-key index of one partition.
func (s *Stats) resolveParents(ctx context.Context, guildID int64, evs []Event, parents threadParents) error {
	var unknown []int64
	for _, e := range evs {
		if e.Type == ThreadCreate { // ChannelID is already the parent; TargetID the thread
			parents[e.TargetID] = e.ChannelID
			continue
		}
		if _, seen := parents[e.ChannelID]; !seen && e.ChannelID != 0 {
			parents[e.ChannelID] = 0
			unknown = append(unknown, e.ChannelID)
		}
	}
	if len(unknown) > 0 {
		b := &pgx.Batch{}
		for _, ch := range unknown {
			b.Queue(`SELECT channel_id FROM event_lake
				WHERE source_id = $1 AND event_type = $2 AND guild_id = $3 AND tenant_id = $4
				  AND occurred_at >= $5 AND occurred_at < $5 + interval '1 millisecond'`,
				ch, int16(ThreadCreate), guildID, s.tenantID, SnowflakeTime(ch)).QueryRow(func(row pgx.Row) error {
				var parent int64
				switch err := row.Scan(&parent); {
				case errors.Is(err, pgx.ErrNoRows):
				case err != nil:
					return err
				default:
					parents[ch] = parent
				}
				return nil
			})
		}
		if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("lake history: thread parents: %w", err)
		}
	}
	for i := range evs {
		if evs[i].Type != ThreadCreate {
			evs[i].ParentID = parents[evs[i].ChannelID]
		}
	}
	return nil
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
