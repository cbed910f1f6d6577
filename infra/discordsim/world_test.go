package discordsim

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestShardForIsDiscordsFormula(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		id     ID
		shards int
		want   int
	}{
		{"one shard", 175928847299117063, 1, 0},
		{"discord docs example", 175928847299117063, 16, int((175928847299117063 >> 22) % 16)},
		{"zero shards is shard 0", 1 << 40, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ShardFor(tc.id, tc.shards))
		})
	}
}

func TestWorldIsDeterministicAndDiscordShaped(t *testing.T) {
	t.Parallel()
	mk := func(seed uint64) *Server {
		s, err := New(Config{Seed: seed, Guilds: 5, MembersPerGuild: 30, PendingGuilds: 1}, testLogger(t))
		require.NoError(t, err)
		return s
	}
	a, b, c := mk(7), mk(7), mk(8)
	require.Equal(t, a.Guilds(), b.Guilds())
	require.Equal(t, a.Token(), b.Token())
	require.NotEqual(t, a.Guilds()[0].ID, c.Guilds()[0].ID)

	gs := a.Guilds()
	require.Len(t, gs, 6)
	require.False(t, gs[5].BotPresent, "pending guild for the invite flow")
	for _, g := range gs {
		require.Len(t, g.Members, 30)
		require.Equal(t, g.OwnerID, g.Members[0])
		require.NotZero(t, g.AFKChannel)
		require.Equal(t, g.ID, g.Roles["@everyone"], "@everyone shares the guild id")
		// Snowflakes encode a creation time before the simulated start.
		require.True(t, g.ID.Time().Before(a.Now()))
	}
	a.world.mu.RLock()
	for _, g := range a.world.guilds {
		for _, ch := range g.Channels {
			require.Contains(t, []int{ChannelText, ChannelVoice, ChannelCategory, ChannelAnnouncement, ChannelForum}, ch.Type)
		}
	}
	a.world.mu.RUnlock()

	// New IDs follow the simulated clock and sort by time.
	g := gs[0]
	a.AdvanceClock(a.Now().Add(time.Hour))
	m1, err := a.SendMessage(context.Background(), MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1], Content: "x"})
	require.NoError(t, err)
	m2, err := a.SendMessage(context.Background(), MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1], Content: "y"})
	require.NoError(t, err)
	require.Equal(t, a.Now().UnixMilli(), m1.ID.Time().UnixMilli())
	require.Less(t, m1.ID, m2.ID)

	_, err = a.SendMessage(context.Background(), MessageOptions{ChannelID: g.Channels["General"], AuthorID: g.Members[1], Content: "x"})
	require.ErrorIs(t, err, ErrInvalid, "voice channels take no messages here")
	_, err = a.SendMessage(context.Background(), MessageOptions{ChannelID: 1, AuthorID: g.Members[1], Content: "x"})
	require.ErrorIs(t, err, ErrNotFound)
	_, err = a.CreateChannel(context.Background(), g.ID, "dm", 1, 0)
	require.ErrorIs(t, err, ErrInvalid, "DM types are never guild channels")

	_, err = New(Config{Profile: "nope"}, nil)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "Profile", ce.Field)
}

func TestGroundTruthFileAndRun(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gt.ndjson")
	s := setup(t, func(c *Config) { c.GroundTruthFile = path })
	g := s.Guilds()[0]
	for i := 0; i < 3; i++ {
		_, err := s.SendMessage(context.Background(), MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1], Content: "x"})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		recs = append(recs, r)
	}
	require.Equal(t, s.GroundTruth(), recs)

	// Run serves until its context ends, running the configured profile.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.NoError(t, Run(ctx, Config{Profile: ProfileSteady, Rate: 200, Guilds: 1, MembersPerGuild: 5}, testLogger(t)))
}

func TestGroundTruthTrimKeepsIndexes(t *testing.T) {
	t.Parallel()
	gt, err := newGroundTruth("", 10, 1)
	require.NoError(t, err)
	total := 3*gtChunk + 5
	for i := 0; i < total; i++ {
		gt.add(&event{typ: "X"}, nil)
	}
	require.Equal(t, total, gt.len())
	all := gt.since(0, 0)
	require.GreaterOrEqual(t, len(all), 10)
	require.Less(t, len(all), 10+2*gtChunk, "old chunks were dropped")
	require.EqualValues(t, total, all[len(all)-1].Index)
	for i := 1; i < len(all); i++ {
		require.Equal(t, all[i-1].Index+1, all[i].Index)
	}
	tail := gt.since(uint64(total-2), 0)
	require.Len(t, tail, 2)
	require.EqualValues(t, total-1, tail[0].Index)
	page := gt.since(uint64(total-gtChunk-3), 7) // crosses a chunk boundary
	require.Len(t, page, 7)
	require.EqualValues(t, total-gtChunk-2, page[0].Index)
	require.Empty(t, gt.since(uint64(total), 0))
}

func TestNoDispatchForGuildsWithoutTheBot(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	var pending GuildInfo
	for _, g := range s.Guilds() {
		if !g.BotPresent {
			pending = g
		}
	}
	_, err := s.SendMessage(context.Background(), MessageOptions{ChannelID: pending.Channels["general"], AuthorID: pending.Members[1], Content: "unseen"})
	require.NoError(t, err, "the world still changes")
	require.Zero(t, s.GroundTruthLastIndex())
	require.NoError(t, s.AddBot(context.Background(), pending.ID))
	require.NoError(t, s.RemoveBot(context.Background(), pending.ID))
	types := []string{}
	for _, r := range s.GroundTruth() {
		types = append(types, r.Type)
	}
	require.Equal(t, []string{"GUILD_CREATE", "GUILD_DELETE"}, types)
}
