package milestones

import (
	"fmt"
	"strings"
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

// TestStreakUsesTheGuildTimeZone: events written through the lake writer
// count on the guild's own calendar. The same instants make a streak in
// one zone and not in another: around local midnight, across the DST
// changes and in a half-hour zone.
func TestStreakUsesTheGuildTimeZone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	la := `{"timezone": "America/Los_Angeles"}`
	cases := []struct {
		name     string
		settings string
		days     int
		events   []time.Time
		now      time.Time
		label    string
	}{
		{name: "LA: 23:00 and 01:00 local are two days (one UTC day)", settings: la, days: 2,
			events: []time.Time{utc(2026, 5, 30, 6, 0), utc(2026, 5, 30, 8, 0)}, now: utc(2026, 5, 31, 5, 0), label: "2/2 days"},
		{name: "UTC: the same instants are one day", settings: `{}`, days: 2,
			events: []time.Time{utc(2026, 5, 30, 6, 0), utc(2026, 5, 30, 8, 0)}, now: utc(2026, 5, 31, 5, 0), label: "1/2 days"},
		{name: "the milestones setting wins over the guild's", settings: `{"timezone": "UTC", "milestones": {"timezone": "America/Los_Angeles"}}`, days: 2,
			events: []time.Time{utc(2026, 5, 30, 6, 0), utc(2026, 5, 30, 8, 0)}, now: utc(2026, 5, 31, 5, 0), label: "2/2 days"},
		{name: "LA: still yesterday's evening locally, the streak holds", settings: la, days: 2,
			events: []time.Time{utc(2026, 5, 29, 19, 0), utc(2026, 5, 30, 19, 0)}, now: utc(2026, 6, 1, 3, 0), label: "2/2 days"},
		{name: "UTC: the same moment has broken it", settings: `{}`, days: 2,
			events: []time.Time{utc(2026, 5, 29, 19, 0), utc(2026, 5, 30, 19, 0)}, now: utc(2026, 6, 1, 3, 0), label: "0/2 days"},
		{name: "LA: spring forward, 23:30 PST, 23:30 PDT, 00:30 PDT are three days", settings: la, days: 3,
			events: []time.Time{utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30), utc(2026, 3, 9, 7, 30)}, now: utc(2026, 3, 9, 19, 0), label: "3/3 days"},
		{name: "LA: fall back, 00:30 PDT and 23:30 PST bound the 25-hour day", settings: la, days: 2,
			events: []time.Time{utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 7, 30), utc(2026, 11, 2, 8, 30)}, now: utc(2026, 11, 2, 9, 0), label: "2/2 days"},
		{name: "Kolkata: 23:59 and 00:00 IST are two days", settings: `{"timezone": "Asia/Kolkata"}`, days: 2,
			events: []time.Time{utc(2026, 6, 1, 18, 29), utc(2026, 6, 1, 18, 30)}, now: utc(2026, 6, 2, 4, 30), label: "2/2 days"},
		{name: "Kolkata: 23:58 and 23:59 IST are one", settings: `{"timezone": "Asia/Kolkata"}`, days: 2,
			events: []time.Time{utc(2026, 6, 1, 18, 28), utc(2026, 6, 1, 18, 29)}, now: utc(2026, 6, 2, 4, 30), label: "1/2 days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := b.guild(t, tc.settings)
			b.template(t, g, Template{Key: "streak", Requirement: Requirement{Type: ReqStreak, Days: tc.days}})
			u := b.member(t, g, time.Time{}, 0)
			var evs []lake.Event
			for i, at := range tc.events {
				evs = append(evs, lake.Event{TenantID: b.tenant, GuildID: g, OccurredAt: at, SourceID: lake.MintSnowflake(at, uint64(i)),
					Type: lake.MessageCreate, UserID: u, ChannelID: 1, Magnitude: 5})
			}
			_, err := lake.NewWriter(b.db.Pool).Write(b.ctx, lake.Batch{Events: evs})
			require.NoError(t, err)
			ps, err := b.ms.progress(b.ctx, g, u, tc.now)
			require.NoError(t, err)
			require.Equal(t, tc.label, progressOf(t, ps, "streak").Label)
			as, err := b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, tc.now)
			require.NoError(t, err)
			require.Equal(t, strings.HasPrefix(tc.label, fmt.Sprintf("%d/", tc.days)), len(as) == 1)
		})
	}
}
