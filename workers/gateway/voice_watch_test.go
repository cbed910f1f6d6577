package gateway

import (
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

func guildCreate(states ...discord.VoiceState) discord.GatewayGuild {
	afk := snowflake.ID(afkCh)
	gg := discord.GatewayGuild{VoiceStates: states}
	gg.ID, gg.AfkChannelID = guildID, &afk
	return gg
}

// restoredNormalizer is a shard's normalizer as a new run starts it: the
// open sessions the previous owner left in voice_sessions (restore), and
// when it last committed an event (the checkpoint's last_event_at).
func restoredNormalizer(t *testing.T, lastEventAt time.Time, sessions ...lake.VoiceSession) (*normalizer, *fakeClock) {
	t.Helper()
	n, clk := newTestNormalizer(t)
	g := n.guilds[guildID]
	delete(n.guilds, guildID)
	n.restore([]shardGuild{{id: guildID, afkChannel: afkCh, entry: g.guildEntry}}, sessions)
	n.startWatch(lastEventAt)
	return n, clk
}

// Time nobody watched is not voice time. Members in voice when a shard
// stopped watching (a restart, a session that could not be resumed) are
// found again at the next GUILD_CREATE: a member who left meanwhile is paid
// up to when the guild was last watched, and one still there is paid the
// watched part of the stretch and starts a new stretch at the GUILD_CREATE.
// Before, the downtime (8 h between a stop and the next start) was paid as
// voice time. A short gap still behaves as it did.
func TestGuildCreateAfterAGapPaysOnlyWatchedTime(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	stays, gone := int64(1), int64(2)
	cases := []struct {
		name        string
		lastEventAt time.Time     // the checkpoint's
		started     time.Time     // the restored sessions' start
		gap         time.Duration // from lastEventAt (or the start) to GUILD_CREATE
		want        []voiceRow
		continues   bool // the present member's stretch keeps its start
	}{
		{name: "killed, 8 h later: paid up to the last event", lastEventAt: t0.Add(10 * time.Minute), started: t0, gap: 8 * time.Hour,
			want: []voiceRow{
				{lake.VoiceLeave, stays, generalV, 600, lake.FlagSynthetic, true},
				{lake.VoiceLeave, gone, otherV, 600, lake.FlagSynthetic, false},
			}},
		{name: "stopped, 8 h later: the stop paid everything", started: t0.Add(10 * time.Minute), gap: 8 * time.Hour,
			want: []voiceRow{
				{lake.VoiceLeave, stays, generalV, 0, lake.FlagSynthetic, true},
				{lake.VoiceLeave, gone, otherV, 0, lake.FlagSynthetic, false},
			}},
		{name: "resumed within seconds: as before", lastEventAt: t0.Add(10 * time.Minute), started: t0, gap: 20 * time.Second,
			want: []voiceRow{
				{lake.VoiceLeave, gone, otherV, 620, lake.FlagSynthetic, false},
			}, continues: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, clk := restoredNormalizer(t, tc.lastEventAt,
				lake.VoiceSession{TenantID: 7, GuildID: guildID, UserID: stays, ChannelID: generalV, StartedAt: tc.started},
				lake.VoiceSession{TenantID: 7, GuildID: guildID, UserID: gone, ChannelID: otherV, StartedAt: tc.started})
			clk.t = latest(tc.lastEventAt, tc.started).Add(tc.gap)
			n.newSession() // READY
			got := n.loadGuild(guildCreate(vs(stays, generalV, false, false)), n.guilds[guildID].guildEntry)
			require.ElementsMatch(t, tc.want, rowsOf(got))
			for _, e := range got {
				require.True(t, e.OccurredAt.Equal(clk.t), "stamped when the gateway told")
			}

			s := n.guilds[guildID].voice[stays]
			require.NotNil(t, s)
			if tc.continues {
				require.True(t, s.start.Equal(tc.started))
			} else {
				require.True(t, s.start.Equal(clk.t), "a new stretch starts at GUILD_CREATE")
			}
			clk.advance(time.Hour)
			leave := n.voice(vs(stays, 0, false, false), false)
			require.Len(t, leave, 1)
			want := int32(3600)
			if tc.continues {
				want = int32(clk.t.Sub(tc.started) / time.Second)
			}
			require.Equal(t, want, leave[0].Magnitude)
		})
	}
}

// A guild that comes back from an outage (GUILD_DELETE unavailable, then
// GUILD_CREATE) is reconciled like one after a new session: from the
// outage, not from the shard's READY hours before.
func TestGuildOutageIsNotPaid(t *testing.T) {
	t.Parallel()
	n, clk := newTestNormalizer(t)
	n.startWatch(time.Time{})
	n.newSession()
	n.delivered(true, false)
	n.loadGuild(guildCreate(), n.guilds[guildID].guildEntry)
	clk.advance(3 * time.Hour)
	n.delivered(true, false)
	n.voice(vs(1, generalV, false, false), false)
	clk.advance(10 * time.Minute)
	n.delivered(true, false)
	n.guildUnavailable(guildID)
	clk.advance(2 * time.Hour)
	n.delivered(true, false)
	got := n.loadGuild(guildCreate(), n.guilds[guildID].guildEntry)
	require.Equal(t, []voiceRow{{lake.VoiceLeave, 1, generalV, 600, lake.FlagSynthetic, false}}, rowsOf(got))
}

// A resumed session replays what it missed, but Discord does not say when
// a voice update happened: it was stamped when replayed, and a member who
// left during a long gap was paid the gap. A stretch a replayed update
// ends is paid up to when the gap began, or the newest message replayed
// before it; the stretch it begins starts when it is read. A short gap
// behaves as before.
func TestReplayedVoiceAfterAGapPaysOnlyWatchedTime(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		gap     time.Duration
		message time.Duration // a message replayed this far into the gap, before the leave (0: none)
		want    int32         // the replayed leave's seconds
	}{
		{name: "long gap", gap: 2 * time.Hour, want: 600},
		{name: "long gap, a message replayed before the leave", gap: 2 * time.Hour, message: 30 * time.Minute, want: 600 + 1800},
		{name: "resumed within seconds", gap: 20 * time.Second, want: 620},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, clk := newTestNormalizer(t)
			n.startWatch(time.Time{})
			n.delivered(true, false)
			t0 := clk.t
			n.voice(vs(1, generalV, false, false), false)
			n.voice(vs(2, generalV, false, false), false)
			clk.advance(10 * time.Minute)
			n.delivered(true, false) // a heartbeat ACK: the last thing seen before the gap
			gapStart := clk.t
			clk.advance(tc.gap)

			n.delivered(false, true) // the first replayed dispatch
			if tc.message > 0 {
				n.clock.observe(gapStart.Add(tc.message))
			}
			leave := n.voice(vs(1, 0, false, false), false)
			require.Len(t, leave, 1)
			require.Equal(t, tc.want, leave[0].Magnitude)
			join := n.voice(vs(3, otherV, false, false), false)
			require.Len(t, join, 1)
			n.delivered(true, false) // RESUMED
			require.False(t, n.now().Before(clk.t), "the clock is back in the present")
			require.True(t, n.guilds[guildID].voice[3].start.Equal(clk.t), "a stretch begun in the gap starts when it is read")

			clk.advance(time.Minute)
			later := n.voice(vs(3, 0, false, false), false)
			require.Equal(t, int32(60), later[0].Magnitude)
			stayed := n.voice(vs(2, 0, false, false), false)
			require.Equal(t, int32(clk.t.Sub(t0)/time.Second), stayed[0].Magnitude,
				"no update in the replay: the member stayed all along, the gap included")
		})
	}
}

// A stop pays each stretch up to now when the connection was up; when it
// had been down for longer than observedGap (reconnecting), only up to
// when it last heard from Discord.
func TestShutdownOfADownConnectionPaysOnlyWatchedTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		live bool
		want int32
	}{
		{name: "up", live: true, want: 720},
		{name: "down for 10 minutes", live: false, want: 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, clk := newTestNormalizer(t)
			n.startWatch(time.Time{})
			n.delivered(true, false)
			n.voice(vs(1, generalV, false, false), false)
			clk.advance(2 * time.Minute)
			n.delivered(true, false) // the last heartbeat ACK
			clk.advance(10 * time.Minute)
			leaves := n.closeAllVoice(tc.live)
			require.Equal(t, []voiceRow{{lake.VoiceLeave, 1, generalV, tc.want, lake.FlagSynthetic, true}}, rowsOf(leaves))
			require.True(t, leaves[0].OccurredAt.Equal(clk.t.Add(time.Duration(tc.want)*time.Second-12*time.Minute)),
				"the next stretch starts where this one was paid up to")
		})
	}
}
