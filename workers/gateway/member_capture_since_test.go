package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
)

// The bot was in the guild for a month before Synapse first captured it.
// A worker that takes over the shard by resuming another's session gets
// no member list; an add Discord sends again for a member who was listed
// when capture began is still no join, while a member who joined after
// is one, however late the add arrives.
func TestMemberListedWhenCaptureBeganIsNoJoinOnAnotherWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // Discord's clock, far from the local one
	const guild, channel, old, newcomer = 900000000000000001, 900000000000000002, 501, 502
	lastMessage := snowflake.New(now.Add(-time.Minute))
	var g discord.GatewayGuild
	require.NoError(t, json.Unmarshal(fmt.Appendf(nil, `{
		"id": "%d", "name": "g", "joined_at": %q,
		"members": [{"user": {"id": "%d", "username": "old"}, "joined_at": %q, "roles": []}],
		"channels": [{"id": "%d", "type": 0, "name": "general", "last_message_id": "%d"}]
	}`, guild, now.AddDate(0, -1, 0).Format(time.RFC3339), old, now.AddDate(0, 0, -3).Format(time.RFC3339), channel, lastMessage), &g))
	require.Equal(t, lastMessage.Time().UTC(), attestedUntil(g), "the newest time the guild shows: its last message")

	_, err := NewDirectory(db).Join(ctx, guild, g.Name, 0, g.JoinedAt, attestedUntil(g))
	require.NoError(t, err)

	// Another worker resumes the shard: the guild comes from the database.
	restored, _, err := NewDirectory(db).LoadShard(ctx, 0, 1)
	require.NoError(t, err)
	require.Len(t, restored, 1)
	n := newNormalizer(func() time.Time { return now.Add(time.Hour) })
	n.guilds[guild] = newGuildState(restored[0].entry)
	add := func(user int64, joined time.Time) int {
		return len(n.memberJoin(discord.Member{GuildID: guild, User: discord.User{ID: snowflake.ID(user)}, JoinedAt: &joined}))
	}
	require.Zero(t, add(old, now.AddDate(0, 0, -3)), "listed when capture began: Discord repeating the add")
	require.Equal(t, 1, add(newcomer, now.Add(30*time.Minute)), "joined after capture began")
}
