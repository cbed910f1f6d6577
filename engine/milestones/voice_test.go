package milestones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

// Voice minutes count only non-AFK stretches as the lake writer stored
// them: a session spent self-muted and self-deafened throughout (flagged
// AFK by the gateway) adds nothing, whichever channel it was in.
func TestVoiceMinutesExcludeMutedDeafenedSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	u := b.member(t, g, time.Time{}, 0)
	b.template(t, g, Template{Key: "voice", Requirement: Requirement{Type: ReqVoiceMinutes, Min: 30}})
	const general, lounge = int64(11), int64(12)
	at := time.Now().UTC().Add(-3 * time.Hour)
	n := uint64(0)
	write := func(typ lake.Type, channel, target int64, secs int32, flags lake.Flags) {
		t.Helper()
		at, n = at.Add(time.Minute), n+1
		_, err := lake.NewWriter(b.db.Pool).Write(b.ctx, lake.Batch{Events: []lake.Event{{TenantID: b.tenant, GuildID: g, OccurredAt: at,
			SourceID: lake.MintSnowflake(at, n), Type: typ, UserID: u, ChannelID: channel, TargetID: target, Magnitude: secs, Flags: flags}}})
		require.NoError(t, err)
	}
	label := func() string {
		ps, err := b.ms.progress(b.ctx, g, u, time.Now())
		require.NoError(t, err)
		return progressOf(t, ps, "voice").Label
	}

	write(lake.VoiceJoin, general, 0, 0, lake.FlagMutedDeaf)
	write(lake.VoiceLeave, general, 0, 2*3600, lake.FlagAFK) // two hours muted and deafened throughout
	require.Equal(t, "0/30 voice minutes", label())

	write(lake.VoiceJoin, general, 0, 0, 0)
	write(lake.VoiceMove, lounge, general, 20*60, 0) // 20 minutes talking in general
	write(lake.VoiceLeave, lounge, 0, 9*60, 0)       // 9 in the lounge
	require.Equal(t, "29/30 voice minutes", label())
	as, err := b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, time.Now())
	require.NoError(t, err)
	require.Empty(t, as)

	write(lake.VoiceJoin, lounge, 0, 0, 0)
	write(lake.VoiceLeave, lounge, 0, 60, 0)
	as, err = b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, time.Now())
	require.NoError(t, err)
	require.Equal(t, []string{"voice"}, keys(as))
}
