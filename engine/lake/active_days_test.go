package lake_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// Active days are dates of the guild's calendar: midnight, the DST
// changes and half-hour zones move events to the day the guild lived them.
func TestActiveDaysFollowTheGuildTimeZone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	guild := func(id int64, settings string) int64 {
		_, err := db.Pool.Exec(ctx, `INSERT INTO guilds (tenant_id, id, name, settings) VALUES ($1, $2, 'g', $3)`, tn.ID, id, settings)
		require.NoError(t, err)
		return id
	}
	la := guild(1001, `{"timezone": "America/Los_Angeles"}`)
	london := guild(1002, `{"timezone": "UTC", "milestones": {"timezone": "Europe/London"}}`)
	kolkata := guild(1003, `{"timezone": "Asia/Kolkata"}`)
	utc := guild(1004, `{}`)
	bogus := guild(1005, `{"timezone": "Mars/Olympus_Mons"}`)

	type tc struct {
		name  string
		guild int64
		at    time.Time
		want  string // local date
	}
	cases := []tc{
		{"LA: one minute before local midnight", la, time.Date(2026, 3, 8, 7, 59, 0, 0, time.UTC), "2026-03-07"},
		{"LA: local midnight", la, time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC), "2026-03-08"},
		{"LA: spring forward day ends an hour earlier in UTC", la, time.Date(2026, 3, 9, 6, 59, 0, 0, time.UTC), "2026-03-08"},
		{"LA: the day after spring forward starts at 07:00 UTC", la, time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC), "2026-03-09"},
		{"London: fall back, 00:30 BST is still 25 October", london, time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC), "2026-10-25"},
		{"London: the 25-hour day's last minute", london, time.Date(2026, 10, 25, 23, 59, 0, 0, time.UTC), "2026-10-25"},
		{"London: the next midnight is 00:00 UTC again", london, time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC), "2026-10-26"},
		{"Kolkata: 23:59 IST", kolkata, time.Date(2026, 6, 1, 18, 29, 0, 0, time.UTC), "2026-06-01"},
		{"Kolkata: 00:00 IST (a half-hour zone)", kolkata, time.Date(2026, 6, 1, 18, 30, 0, 0, time.UTC), "2026-06-02"},
		{"UTC: the last second", utc, time.Date(2026, 6, 1, 23, 59, 59, 0, time.UTC), "2026-06-01"},
		{"UTC: midnight", utc, time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC), "2026-06-02"},
		{"an unknown zone counts in UTC", bogus, time.Date(2026, 6, 1, 23, 0, 0, 0, time.UTC), "2026-06-01"},
	}
	var events []lake.Event
	for i, c := range cases {
		events = append(events, lake.Event{TenantID: tn.ID, GuildID: c.guild, OccurredAt: c.at, SourceID: lake.MintSnowflake(c.at, uint64(i)),
			Type: lake.MessageCreate, UserID: int64(500 + i), ChannelID: 9, Magnitude: 10})
	}
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: events})
	require.NoError(t, err)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var day time.Time
			var n int
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT day, events FROM member_active_days WHERE tenant_id = $1 AND guild_id = $2 AND user_id = $3 AND event_type = $4`,
				tn.ID, c.guild, int64(500+i), int16(lake.MessageCreate)).Scan(&day, &n))
			require.Equal(t, c.want, day.Format(time.DateOnly))
			require.Equal(t, 1, n)
		})
	}
}

// Non-AFK voice seconds survive in the counters (voice_active): AFK
// stretches are left out, and a move counts on the channel it left.
func TestVoiceActiveCountsOnlyNonAFKStretches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	at := day0
	voice := func(low uint64, typ lake.Type, channel, target int64, secs int32, flags lake.Flags) lake.Event {
		at = at.Add(time.Minute)
		return lake.Event{TenantID: 1, GuildID: 10, OccurredAt: at, SourceID: lake.MintSnowflake(at, low), Type: typ,
			UserID: 100, ChannelID: channel, TargetID: target, Magnitude: secs, Flags: flags}
	}
	_, err := lake.NewWriter(db.Pool).Write(ctx, lake.Batch{Events: []lake.Event{
		voice(1, lake.VoiceJoin, 7, 0, 0, 0),
		voice(2, lake.VoiceMove, 8, 7, 120, 0),                // 2 min active in 7, now in 8
		voice(3, lake.VoiceLeave, 8, 0, 600, 0),               // 10 min active in 8
		voice(4, lake.VoiceJoin, 8, 0, 0, lake.FlagMutedDeaf), // muted and deafened…
		voice(5, lake.VoiceLeave, 8, 0, 3600, lake.FlagAFK),   // …throughout: AFK
	}})
	require.NoError(t, err)
	require.EqualValues(t, 720, count(t, db.Pool, "SELECT sum(magnitude) FROM event_counters WHERE event_type = $1", int16(lake.VoiceActive)))
	require.EqualValues(t, 120, count(t, db.Pool, "SELECT magnitude FROM event_counters WHERE event_type = $1 AND channel_id = 7", int16(lake.VoiceActive)))
	require.EqualValues(t, 4320, count(t, db.Pool, "SELECT sum(magnitude) FROM event_counters WHERE event_type IN ($1, $2)", int16(lake.VoiceLeave), int16(lake.VoiceMove)),
		"the raw voice counters still hold every second")
	require.EqualValues(t, 2, count(t, db.Pool, "SELECT events FROM member_active_days WHERE event_type = $1", int16(lake.VoiceActive)))
}
