package milestones

import (
	"time"

	"github.com/synapsehq/synapse/engine/lake"
)

// activeTypeBase shifts the types of member_active_days rows, which a check
// keeps beside the counters (same row shape, day = the guild-local date),
// so the two never mix: activeType(t) holds the days a member did t.
const activeTypeBase lake.Type = 1 << 12

func activeType(t lake.Type) lake.Type { return activeTypeBase + t }

// Day is a calendar date as days since 1970-01-01: the same number for a
// UTC counter day and for a local date, so streak arithmetic never sees a
// 23- or 25-hour day.
type Day int32

// DayOf is the calendar date of t in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time is the UTC midnight that starts the date.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// CurrentStreak is the run of consecutive active days ending today, or
// ending yesterday when today has no activity yet (the day is not over, so
// the streak is not broken until it is).
func CurrentStreak(active func(Day) bool, today Day) int {
	d := today
	if !active(d) {
		d--
	}
	n := 0
	for active(d) {
		n++
		d--
	}
	return n
}
