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
// COPY); a member who joins again later is a new join; an add for a
// member who joined before the bot is no join, and one older than the
// guild's retention is not stored (its lake partition is gone).
func TestRepeatedMemberAddIsOneJoin(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	n := newNormalizer(func() time.Time { return now })
	entry := &guildEntry{tenantID: 7, botJoinedAt: now.Add(-400 * 24 * time.Hour)}
	entry.capture.Store(&lake.CaptureSettings{RetentionDays: 30})
	n.guilds[1] = newGuildState(entry)
	add := func(user int64, joined time.Time) []lake.Event {
		return n.memberJoin(discord.Member{GuildID: 1, User: discord.User{ID: snowflake.ID(user)}, JoinedAt: &joined})
	}
	joined := now.Add(-time.Minute)
	require.Len(t, add(42, joined), 1)
	require.Empty(t, add(42, joined), "the same join again")
	require.Len(t, add(43, joined), 1, "another member")
	require.Len(t, add(42, now), 1, "joined again later: a new join")
	require.Len(t, add(44, now.Add(-time.Hour)), 1, "a join delivered an hour late is still a join")
	require.Empty(t, add(45, now.Add(-401*24*time.Hour)), "a member since before the bot: no join at all")
	require.Empty(t, n.takeExpiredJoins())
	require.Empty(t, add(46, now.Add(-40*24*time.Hour)), "older than the retention")
	require.Equal(t, []expiredJoin{{guildID: 1, userID: 46, joinedAt: now.Add(-40 * 24 * time.Hour)}}, n.takeExpiredJoins())
}
