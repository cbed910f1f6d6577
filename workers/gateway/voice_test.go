package gateway

import (
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

const (
	guildID  = 1000
	afkCh    = 900
	generalV = 901
	otherV   = 902
	excluded = 903
)

func newTestNormalizer(t *testing.T) (*normalizer, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)}
	n := newNormalizer(clk.now)
	e := &guildEntry{tenantID: 7}
	s := lake.ParseCaptureSettings([]byte(`{"capture":{"afk_channels":["903"]}}`))
	e.capture.Store(&s)
	g := newGuildState(e)
	g.afkChannel = afkCh
	n.guilds[guildID] = g
	return n, clk
}

func vs(user int64, ch int64, mute, deaf bool) discord.VoiceState {
	v := discord.VoiceState{GuildID: guildID, UserID: snowflake.ID(user), SelfMute: mute, SelfDeaf: deaf}
	if ch != 0 {
		id := snowflake.ID(ch)
		v.ChannelID = &id
	}
	return v
}

func TestVoicePairing(t *testing.T) {
	t.Parallel()
	type step struct {
		after time.Duration
		state discord.VoiceState
		want  []lake.Event // only Type, ChannelID, TargetID, Magnitude, Flags compared
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{name: "join then leave carries the duration", steps: []step{
			{0, vs(1, generalV, false, false), []lake.Event{{Type: lake.VoiceJoin, ChannelID: generalV}}},
			{90 * time.Second, vs(1, 0, false, false), []lake.Event{{Type: lake.VoiceLeave, ChannelID: generalV, Magnitude: 90}}},
		}},
		{name: "muted and deafened throughout is AFK", steps: []step{
			{0, vs(1, generalV, true, true), []lake.Event{{Type: lake.VoiceJoin, ChannelID: generalV, Flags: lake.FlagMutedDeaf}}},
			{time.Hour, vs(1, 0, true, true), []lake.Event{{Type: lake.VoiceLeave, ChannelID: generalV, Magnitude: 3600, Flags: lake.FlagAFK}}},
		}},
		{name: "unmuting once makes the stretch active", steps: []step{
			{0, vs(1, generalV, true, true), []lake.Event{{Type: lake.VoiceJoin, ChannelID: generalV, Flags: lake.FlagMutedDeaf}}},
			{time.Minute, vs(1, generalV, false, true), nil},
			{time.Minute, vs(1, generalV, true, true), nil},
			{time.Minute, vs(1, 0, false, false), []lake.Event{{Type: lake.VoiceLeave, ChannelID: generalV, Magnitude: 180}}},
		}},
		{name: "the guild's AFK channel", steps: []step{
			{0, vs(1, afkCh, false, false), []lake.Event{{Type: lake.VoiceJoin, ChannelID: afkCh, Flags: lake.FlagAFK}}},
			{10 * time.Minute, vs(1, 0, false, false), []lake.Event{{Type: lake.VoiceLeave, ChannelID: afkCh, Magnitude: 600, Flags: lake.FlagAFK}}},
		}},
		{name: "an operator-excluded channel", steps: []step{
			{0, vs(1, excluded, false, false), []lake.Event{{Type: lake.VoiceJoin, ChannelID: excluded, Flags: lake.FlagAFK}}},
			{time.Minute, vs(1, 0, false, false), []lake.Event{{Type: lake.VoiceLeave, ChannelID: excluded, Magnitude: 60, Flags: lake.FlagAFK}}},
		}},
		{name: "a move splits the session", steps: []step{
			{0, vs(1, generalV, false, false), []lake.Event{{Type: lake.VoiceJoin, ChannelID: generalV}}},
			{2 * time.Minute, vs(1, afkCh, false, false), []lake.Event{{Type: lake.VoiceMove, ChannelID: afkCh, TargetID: generalV, Magnitude: 120}}},
			{30 * time.Minute, vs(1, otherV, false, false), []lake.Event{{Type: lake.VoiceMove, ChannelID: otherV, TargetID: afkCh, Magnitude: 1800, Flags: lake.FlagAFK}}},
			{time.Minute, vs(1, 0, false, false), []lake.Event{{Type: lake.VoiceLeave, ChannelID: otherV, Magnitude: 60}}},
		}},
		{name: "a leave with no known session is ignored", steps: []step{
			{0, vs(1, 0, false, false), nil},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, clk := newTestNormalizer(t)
			for i, st := range tc.steps {
				clk.advance(st.after)
				got := n.voice(st.state, false)
				require.Len(t, got, len(st.want), "step %d", i)
				for j := range got {
					g := got[j]
					require.Equal(t, st.want[j], lake.Event{Type: g.Type, ChannelID: g.ChannelID, TargetID: g.TargetID, Magnitude: g.Magnitude, Flags: g.Flags}, "step %d", i)
					require.EqualValues(t, 7, g.TenantID)
					require.True(t, g.OccurredAt.Equal(clk.t))
				}
			}
		})
	}
}

func TestShutdownClosesOpenVoiceSessions(t *testing.T) {
	t.Parallel()
	n, clk := newTestNormalizer(t)
	n.voice(vs(1, generalV, false, false), false)
	n.voice(vs(2, afkCh, false, false), false)
	clk.advance(5 * time.Minute)
	leaves := n.closeAllVoice(true)
	require.Len(t, leaves, 2)
	for _, e := range leaves {
		require.Equal(t, lake.VoiceLeave, e.Type)
		require.EqualValues(t, 300, e.Magnitude)
		require.NotZero(t, e.Flags&lake.FlagSynthetic)
		require.Equal(t, e.ChannelID == afkCh, e.Flags&lake.FlagAFK != 0)
	}
	require.Empty(t, n.closeAllVoice(true), "nothing left open")
}

func TestCaptureToggleAppliesWithoutRestart(t *testing.T) {
	t.Parallel()
	n, _ := newTestNormalizer(t)
	require.Len(t, n.voice(vs(1, generalV, false, false), false), 1)
	off := lake.ParseCaptureSettings([]byte(`{"capture":{"disabled":["voice_leave"]}}`))
	n.guilds[guildID].capture.Store(&off)
	require.Empty(t, n.voice(vs(1, 0, false, false), false))
}
