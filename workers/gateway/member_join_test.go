package gateway

import (
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
)

// A GUILD_MEMBER_ADD repeated for a join this shard just emitted is not
// emitted again (the lake would refuse it only by failing the batch's
// COPY); a member who leaves and joins again is a new join.
func TestRepeatedMemberAddIsOneJoin(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	n := newNormalizer(func() time.Time { return now })
	entry := &guildEntry{tenantID: 7}
	entry.capture.Store(&lake.CaptureSettings{})
	n.guilds[1] = newGuildState(entry)
	add := func(user int64, joined time.Time) []lake.Event {
		return n.memberJoin(discord.Member{GuildID: 1, User: discord.User{ID: snowflake.ID(user)}, JoinedAt: &joined})
	}
	joined := now.Add(-time.Minute)
	require.Len(t, add(42, joined), 1)
	require.Empty(t, add(42, joined), "the same join again")
	require.Len(t, add(43, joined), 1, "another member")
	require.Len(t, add(42, now), 1, "joined again later: a new join")
	require.Empty(t, add(44, now.Add(-time.Hour)), "an old membership re-sent is no join at all")
}
