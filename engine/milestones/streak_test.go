package milestones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func date(y int, m time.Month, d int) Day {
	return DayOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC), time.UTC)
}

func TestStreakEdges(t *testing.T) {
	t.Parallel()
	ny, london, la := mustLoc(t, "America/New_York"), mustLoc(t, "Europe/London"), mustLoc(t, "America/Los_Angeles")
	cases := []struct {
		name   string
		now    time.Time
		loc    *time.Location
		active []Day
		want   int
	}{
		{name: "one second before midnight is still the same day",
			now: time.Date(2026, 5, 10, 23, 59, 59, 0, ny), loc: ny,
			active: []Day{date(2026, 5, 9), date(2026, 5, 10)}, want: 2},
		{name: "at midnight the new day is not active yet and the streak holds",
			now: time.Date(2026, 5, 11, 0, 0, 0, 0, ny), loc: ny,
			active: []Day{date(2026, 5, 9), date(2026, 5, 10)}, want: 2},
		{name: "a whole missed day breaks it",
			now: time.Date(2026, 5, 12, 0, 0, 0, 0, ny), loc: ny,
			active: []Day{date(2026, 5, 9), date(2026, 5, 10)}, want: 0},
		{name: "spring forward: the 23-hour day is one day",
			now: time.Date(2026, 3, 9, 0, 30, 0, 0, ny), loc: ny, // 24h earlier is 7 March 23:30 EST
			active: []Day{date(2026, 3, 7), date(2026, 3, 8)}, want: 2},
		{name: "fall back: the 25-hour day is one day",
			now: time.Date(2026, 10, 25, 23, 30, 0, 0, london), loc: london, // 24h later is still 25 October
			active: []Day{date(2026, 10, 23), date(2026, 10, 24), date(2026, 10, 25)}, want: 3},
		{name: "after fall back the next day starts at local midnight",
			now: time.Date(2026, 10, 26, 0, 10, 0, 0, london), loc: london,
			active: []Day{date(2026, 10, 24), date(2026, 10, 25)}, want: 2},
		{name: "guild behind UTC: still yesterday's evening locally",
			now: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC), loc: la, // 31 May 20:00 in Los Angeles
			active: []Day{date(2026, 5, 29), date(2026, 5, 30)}, want: 2},
		{name: "the same moment in UTC has broken the streak",
			now: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC), loc: time.UTC,
			active: []Day{date(2026, 5, 29), date(2026, 5, 30)}, want: 0},
		{name: "today active extends the run",
			now: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC), loc: time.UTC,
			active: []Day{date(2026, 5, 30), date(2026, 5, 31), date(2026, 6, 1)}, want: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := map[Day]bool{}
			for _, d := range tc.active {
				set[d] = true
			}
			require.Equal(t, tc.want, CurrentStreak(func(d Day) bool { return set[d] }, DayOf(tc.now, tc.loc)))
		})
	}
}

// TestStreakUsesTheGuildTimeZone: the same counters and the same instant
// keep a streak in a guild on Los Angeles time and break it in a UTC one.
func TestStreakUsesTheGuildTimeZone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		settings string
		awarded  bool
		label    string
	}{
		{name: "los angeles", settings: `{"timezone": "America/Los_Angeles"}`, awarded: true, label: "2/2 days"},
		{name: "milestones setting wins", settings: `{"timezone": "UTC", "milestones": {"timezone": "America/Los_Angeles"}}`, awarded: true, label: "2/2 days"},
		{name: "utc", settings: `{}`, awarded: false, label: "0/2 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := b.guild(t, tc.settings)
			b.template(t, g, Template{Key: "streak", Requirement: Requirement{Type: ReqStreak, Days: 2}})
			u := b.member(t, g, time.Time{}, 0)
			b.count(t, g, u, time.Date(2026, 5, 29, 0, 0, 0, 0, time.UTC), lake.MessageCreate, 1, 1, 0)
			b.count(t, g, u, time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC), lake.MessageCreate, 1, 1, 0)
			ps, err := b.ms.progress(b.ctx, g, u, now)
			require.NoError(t, err)
			require.Equal(t, tc.label, progressOf(t, ps, "streak").Label)
			as, err := b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, now)
			require.NoError(t, err)
			require.Equal(t, tc.awarded, len(as) == 1)
		})
	}
}
