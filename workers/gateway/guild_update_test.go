package gateway

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/infra/testenv"
)

// A GUILD_UPDATE that changes the AFK channel applies at once: in memory
// (time in the new AFK channel is AFK from then on) and in
// guilds.afk_channel_id (what a shard resumed elsewhere restores and the
// milestones read). It was ignored until the next session that could not
// be resumed sent a GUILD_CREATE.
func TestGuildUpdateChangesTheAFKChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	dir := NewDirectory(db)
	entry, err := dir.Join(ctx, guildID, "guild", afkCh, time.Now(), time.Time{})
	require.NoError(t, err)
	n, clk := newTestNormalizer(t)
	n.guilds[guildID].guildEntry = entry
	sctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	in := make(chan item, 4)
	pipe := &Pipeline{lanes: []chan item{in}}
	s := &shardRun{w: &Worker{dir: dir, pipe: pipe}, norm: n, log: testenv.Logger(t), ctx: sctx, cancel: cancel}
	s.committedCond = sync.NewCond(&s.mu)
	gw := gateway.New("token", s.handle) // never opened

	n.voice(vs(1, otherV, false, false), false)
	clk.advance(10 * time.Minute)
	upd := guildCreate()
	other := snowflake.ID(otherV)
	upd.AfkChannelID = &other
	s.handle(gw, gateway.EventTypeGuildUpdate, 7, gateway.EventGuildUpdate{GatewayGuild: upd})

	var stored int64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT afk_channel_id FROM guilds WHERE id = $1`, int64(guildID)).Scan(&stored))
	require.EqualValues(t, otherV, stored)
	require.Len(t, in, 1)
	it := <-in
	require.Equal(t, []voiceRow{{lake.VoiceLeave, 1, otherV, 600, lake.FlagSynthetic, true}}, rowsOf(it.events),
		"the stretch before the change was not AFK")

	clk.advance(time.Hour)
	leave := n.voice(vs(1, 0, false, false), false)
	require.Equal(t, []voiceRow{{lake.VoiceLeave, 1, otherV, 3600, lake.FlagAFK, false}}, rowsOf(leave), "the hour after it is")
}

// A new AFK channel (GUILD_UPDATE) applies from then on: the stretches in
// the old and the new AFK channel are split at the change.
func TestGuildUpdateMovesTheAFKChannel(t *testing.T) {
	t.Parallel()
	n, clk := newTestNormalizer(t)
	n.voice(vs(1, afkCh, false, false), false)
	n.voice(vs(2, otherV, false, false), false)
	n.voice(vs(3, generalV, false, false), false)
	clk.advance(10 * time.Minute)
	upd := guildCreate()
	other := snowflake.ID(otherV)
	upd.AfkChannelID = &other
	got, changed := n.guildUpdate(upd)
	require.True(t, changed)
	require.ElementsMatch(t, []voiceRow{
		{lake.VoiceLeave, 1, afkCh, 600, lake.FlagSynthetic | lake.FlagAFK, true},
		{lake.VoiceLeave, 2, otherV, 600, lake.FlagSynthetic, true},
	}, rowsOf(got))
	_, changed = n.guildUpdate(upd)
	require.False(t, changed, "the same AFK channel again")

	clk.advance(5 * time.Minute)
	var after []voiceRow
	for _, u := range []int64{1, 2, 3} {
		after = append(after, rowsOf(n.voice(vs(u, 0, false, false), false))...)
	}
	require.Equal(t, []voiceRow{
		{Type: lake.VoiceLeave, User: 1, Channel: afkCh, Magnitude: 300},
		{Type: lake.VoiceLeave, User: 2, Channel: otherV, Magnitude: 300, Flags: lake.FlagAFK},
		{Type: lake.VoiceLeave, User: 3, Channel: generalV, Magnitude: 900},
	}, after)
}
