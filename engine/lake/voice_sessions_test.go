package lake_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
)

// An open session keeps the member's current mute state, which the next
// owner of the shard restores: a synthetic leave that keeps the member in
// voice starts the next stretch in the state it carries (FlagMutedDeaf),
// and a member who unmutes is recorded once, on the stretch they unmuted
// in. voice_sessions kept the state the session began with, so a member
// who joined muted and deafened and then talked was restored as muted and
// deafened throughout, and tagged AFK.
func TestOpenVoiceSessionsKeepTheCurrentMuteState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	w := lake.NewWriter(db.Pool)
	at := day0.Add(123456789 * time.Nanosecond) // a clock finer than the database's
	voice := func(typ lake.Type, user int64, at time.Time, low uint64, flags lake.Flags, stays bool) lake.Event {
		return lake.Event{TenantID: 1, GuildID: 10, OccurredAt: at, SourceID: lake.MintSnowflake(at, low), Type: typ,
			UserID: user, ChannelID: 5, Flags: flags, StaysInVoice: stays}
	}
	mutedDeaf := func(user int64) bool {
		open, err := lake.OpenVoiceSessions(ctx, db.Pool, []int64{10})
		require.NoError(t, err)
		for _, s := range open {
			if s.UserID == user {
				return s.MutedDeaf
			}
		}
		t.Fatalf("no open session for %d", user)
		return false
	}
	_, err := w.Write(ctx, lake.Batch{Events: []lake.Event{
		voice(lake.VoiceJoin, 100, at, 1, lake.FlagMutedDeaf, false),
		voice(lake.VoiceJoin, 101, at, 2, lake.FlagMutedDeaf, false),
		voice(lake.VoiceJoin, 102, at, 3, 0, false),
	}})
	require.NoError(t, err)

	// 100 unmutes; a stretch that is not 101's current one is left alone.
	require.NoError(t, lake.MarkVoiceSessionActive(ctx, db.Pool, 1, 10, 100, at))
	require.NoError(t, lake.MarkVoiceSessionActive(ctx, db.Pool, 1, 10, 101, at.Add(-time.Minute)))
	require.False(t, mutedDeaf(100))
	require.True(t, mutedDeaf(101))

	// A stop: 101 is still muted and deafened, 102 now is too.
	stop := at.Add(time.Minute)
	_, err = w.Write(ctx, lake.Batch{Events: []lake.Event{
		voice(lake.VoiceLeave, 100, stop, 4, lake.FlagSynthetic, true),
		voice(lake.VoiceLeave, 101, stop, 5, lake.FlagSynthetic|lake.FlagAFK|lake.FlagMutedDeaf, true),
		voice(lake.VoiceLeave, 102, stop, 6, lake.FlagSynthetic|lake.FlagMutedDeaf, true),
	}})
	require.NoError(t, err)
	require.False(t, mutedDeaf(100))
	require.True(t, mutedDeaf(101))
	require.True(t, mutedDeaf(102))
	require.NoError(t, lake.MarkVoiceSessionActive(ctx, db.Pool, 1, 10, 101, at), "the stretch before the stop")
	require.True(t, mutedDeaf(101))
	require.NoError(t, lake.MarkVoiceSessionActive(ctx, db.Pool, 1, 10, 101, stop))
	require.False(t, mutedDeaf(101))
}

// A batch may carry several voice events of one member: what it leaves in
// voice_sessions is what applying them one by one, in delivery order, would.
func TestVoiceSessionsFoldAMembersEventsInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	w := lake.NewWriter(db.Pool)
	low := uint64(0)
	ev := func(typ lake.Type, user, channel int64, at time.Time, flags lake.Flags, stays bool) lake.Event {
		low++
		return lake.Event{TenantID: 1, GuildID: 10, OccurredAt: at, SourceID: lake.MintSnowflake(at, low), Type: typ,
			UserID: user, ChannelID: channel, Flags: flags, StaysInVoice: stays}
	}
	t1, t2, t3 := day0, day0.Add(time.Minute), day0.Add(2*time.Minute)
	// 200 and 201 are in voice before the batch; the others are not.
	_, err := w.Write(ctx, lake.Batch{Events: []lake.Event{ev(lake.VoiceJoin, 200, 5, t1, 0, false), ev(lake.VoiceJoin, 201, 5, t1, 0, false)}})
	require.NoError(t, err)
	_, err = w.Write(ctx, lake.Batch{Events: []lake.Event{
		ev(lake.VoiceJoin, 100, 5, t1, 0, false), ev(lake.VoiceLeave, 100, 5, t2, lake.FlagSynthetic|lake.FlagMutedDeaf, true), // joins, restarts muted
		ev(lake.VoiceJoin, 101, 5, t1, 0, false), ev(lake.VoiceLeave, 101, 5, t2, 0, false), // joins and leaves
		ev(lake.VoiceJoin, 102, 5, t1, 0, false), ev(lake.VoiceLeave, 102, 5, t2, 0, false), ev(lake.VoiceJoin, 102, 6, t3, 0, false), // back
		ev(lake.VoiceJoin, 103, 5, t1, 0, false), ev(lake.VoiceMove, 103, 6, t2, lake.FlagMutedDeaf, false), // moves
		ev(lake.VoiceLeave, 104, 5, t2, lake.FlagSynthetic, true),                                            // restarts nothing: not in voice
		ev(lake.VoiceLeave, 200, 5, t2, lake.FlagSynthetic|lake.FlagMutedDeaf, true),                         // restarts the open session
		ev(lake.VoiceLeave, 201, 5, t2, 0, false), ev(lake.VoiceLeave, 201, 5, t3, lake.FlagSynthetic, true), // ends: the restart finds nothing
	}})
	require.NoError(t, err)
	open, err := lake.OpenVoiceSessions(ctx, db.Pool, []int64{10})
	require.NoError(t, err)
	type session struct {
		channel int64
		start   time.Time
		muted   bool
	}
	got := map[int64]session{}
	for _, s := range open {
		got[s.UserID] = session{s.ChannelID, s.StartedAt.UTC(), s.MutedDeaf}
	}
	require.Equal(t, map[int64]session{
		100: {5, t2, true},
		102: {6, t3, false},
		103: {6, t2, true},
		200: {5, t2, true},
	}, got)
}
