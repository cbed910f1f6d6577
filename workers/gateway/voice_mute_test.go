package gateway

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

// voiceRow is what these tests compare of a voice event.
type voiceRow struct {
	Type      lake.Type
	User      int64
	Channel   int64
	Magnitude int32
	Flags     lake.Flags
	Stays     bool
}

func rowsOf(evs []lake.Event) []voiceRow {
	out := make([]voiceRow, 0, len(evs))
	for _, e := range evs {
		out = append(out, voiceRow{e.Type, e.UserID, e.ChannelID, e.Magnitude, e.Flags, e.StaysInVoice})
	}
	return out
}

// A member who unmutes is noted once (the shard records it with the open
// session), and a stop closes each stretch so far recording the member's
// current mute state for the stretch that follows: a member who joined
// unmuted and then muted and deafened starts the next stretch so, one who
// unmuted does not.
func TestShutdownRecordsTheCurrentMuteState(t *testing.T) {
	t.Parallel()
	n, clk := newTestNormalizer(t)
	n.voice(vs(1, generalV, true, true), false)
	n.voice(vs(2, generalV, true, true), false)
	n.voice(vs(3, generalV, false, false), false)
	clk.advance(time.Minute)
	n.voice(vs(1, generalV, false, false), false) // unmutes
	n.voice(vs(3, generalV, true, true), false)   // mutes and deafens
	require.Equal(t, []activeStretch{{tenantID: 7, guildID: guildID, userID: 1, start: clk.t.Add(-time.Minute)}}, n.takeActivated(),
		"member 1's stretch is no longer muted and deafened throughout")
	require.Empty(t, n.takeActivated())
	clk.advance(time.Minute)
	leaves := n.closeAllVoice(true)
	require.ElementsMatch(t, []voiceRow{
		{lake.VoiceLeave, 1, generalV, 120, lake.FlagSynthetic, true},
		{lake.VoiceLeave, 2, generalV, 120, lake.FlagSynthetic | lake.FlagAFK | lake.FlagMutedDeaf, true},
		{lake.VoiceLeave, 3, generalV, 120, lake.FlagSynthetic | lake.FlagMutedDeaf, true},
	}, rowsOf(leaves))
}
