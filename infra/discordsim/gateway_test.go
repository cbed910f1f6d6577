package discordsim

import (
	"context"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"
)

func TestGatewayIdentifyReceivesGuildsOfItsShard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		compress gateway.CompressionType
	}{
		{"zstd-stream (disgo default)", gateway.CompressionZstdStream},
		{"zlib-stream", gateway.CompressionZlibStream},
		{"none", gateway.CompressionNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, nil)
			want := botGuildIDs(s, 2)
			require.NotEmpty(t, want[0])
			require.NotEmpty(t, want[1])
			for shard := 0; shard < 2; shard++ {
				rec := newRecorder()
				openGateway(t, s, shard, 2, rec, gateway.WithCompression(tc.compress))
				require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeGuildCreate)) == len(want[shard]) },
					5*time.Second, 10*time.Millisecond)
				ready := rec.ofType(gateway.EventTypeReady)
				require.Len(t, ready, 1)
				r := ready[0].data.(gateway.EventReady)
				require.Equal(t, [2]int{shard, 2}, r.Shard)
				require.Equal(t, s.ResumeGatewayURL(), r.ResumeGatewayURL)
				require.Equal(t, snowflake.ID(s.AppID()), r.User.ID)
				require.Equal(t, snowflake.ID(s.AppID()), r.Application.ID)
				require.Len(t, r.Guilds, len(want[shard]))
				require.Equal(t, 1, ready[0].seq)

				for i, e := range rec.ofType(gateway.EventTypeGuildCreate) {
					gc := e.data.(gateway.EventGuildCreate)
					require.Equal(t, shard, ShardFor(ID(gc.ID), 2))
					require.Equal(t, want[shard][i], ID(gc.ID))
					require.Equal(t, 13, gc.MemberCount) // 12 humans + the bot
					require.Len(t, gc.Members, 13)
					require.NotEmpty(t, gc.Roles)
					var afk, cat, text int
					for _, c := range gc.Channels {
						switch c.Type() {
						case discord.ChannelTypeGuildVoice:
							if c.ID() == *gc.AfkChannelID {
								afk++
							}
						case discord.ChannelTypeGuildCategory:
							cat++
						case discord.ChannelTypeGuildText:
							text++
						}
					}
					require.Equal(t, 1, afk, "AFK channel present and of voice type")
					require.Equal(t, 2, cat)
					require.Equal(t, len(textChannels), text)
				}
			}
		})
	}
}

func TestGatewayDispatchesAreDiscordShaped(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	g := guildOnShard(t, s, 0)
	rec := newRecorder()
	openGateway(t, s, 0, 2, rec)
	from := uint64(len(s.GroundTruth()))
	ctx := context.Background()

	sc, err := ParseScenario([]byte(`
name: shapes
guild: "` + g.ID.String() + `"
steps:
  - {do: message, channel: general, member: 1, content: "hi <@` + g.Members[2].String() + `> :)", ref: m1}
  - {do: message, channel: help, member: 2, content: "fix:\n` + "```go\\nfmt.Println(1)\\n```" + `\nsee https://go.dev <:pog:1> 🎉", attachments: [shot.png], ref: m2}
  - {do: message, channel: general, member: 3, content: "reply", reply_to: m1, ref: m3}
  - {do: edit, message: m1, content: "hi again"}
  - {do: react, message: m1, member: 2, emoji: "👍"}
  - {do: unreact, message: m1, member: 2, emoji: "👍"}
  - {do: delete, message: m3}
  - {do: thread, channel: general, member: 1, name: "a thread", ref: t1}
  - {do: voice_join, member: 1, channel: General}
  - {do: voice_self, member: 1, mute: true, deaf: true}
  - {do: voice_join, member: 1, channel: Gaming}
  - {do: afk, member: 1}
  - {do: voice_leave, member: 1}
  - {do: member_join, ref: newbie}
  - {do: member_add_repeat, member: newbie}
  - {do: member_leave, member: newbie}
  - {do: channel_create, name: "new-channel", channel_type: 0, ref: c1}
`))
	require.NoError(t, err)
	res, err := s.RunScenario(ctx, sc)
	require.NoError(t, err)
	require.Equal(t, from+1, res.FirstIndex)
	assertExactDelivery(t, s, rec, from)

	got := rec.snapshot()
	byType := map[gateway.EventType][]gateway.EventData{}
	for _, e := range got {
		byType[e.typ] = append(byType[e.typ], e.data)
	}
	msgs := byType[gateway.EventTypeMessageCreate]
	require.Len(t, msgs, 3)
	m1 := msgs[0].(gateway.EventMessageCreate)
	require.Equal(t, snowflake.ID(res.Refs["m1"]), m1.ID)
	require.Len(t, m1.Mentions, 1)
	require.Equal(t, snowflake.ID(g.Members[2]), m1.Mentions[0].ID)
	require.NotNil(t, m1.GuildID)
	m2 := msgs[1].(gateway.EventMessageCreate)
	require.Contains(t, m2.Content, "```go")
	require.Len(t, m2.Attachments, 1)
	m3 := msgs[2].(gateway.EventMessageCreate)
	require.NotNil(t, m3.MessageReference)
	require.Equal(t, m1.ID, *m3.MessageReference.MessageID)
	require.Equal(t, discord.MessageTypeReply, m3.Type)

	up := byType[gateway.EventTypeMessageUpdate][0].(gateway.EventMessageUpdate)
	require.Equal(t, "hi again", up.Content)
	require.NotNil(t, up.EditedTimestamp)

	require.Len(t, byType[gateway.EventTypeMessageReactionAdd], 1)
	require.Len(t, byType[gateway.EventTypeMessageReactionRemove], 1)
	require.Len(t, byType[gateway.EventTypeMessageDelete], 1)
	th := byType[gateway.EventTypeThreadCreate][0].(gateway.EventThreadCreate)
	require.Equal(t, snowflake.ID(res.Refs["t1"]), th.ID())

	vs := byType[gateway.EventTypeVoiceStateUpdate]
	require.Len(t, vs, 5)
	require.True(t, vs[1].(gateway.EventVoiceStateUpdate).SelfDeaf)
	afk := vs[3].(gateway.EventVoiceStateUpdate)
	require.Equal(t, snowflake.ID(g.AFKChannel), *afk.ChannelID)
	require.Nil(t, vs[4].(gateway.EventVoiceStateUpdate).ChannelID)

	adds := byType[gateway.EventTypeGuildMemberAdd]
	require.Len(t, adds, 2, "join plus Discord's repeated ADD")
	require.Equal(t, adds[0].(gateway.EventGuildMemberAdd).User.ID, adds[1].(gateway.EventGuildMemberAdd).User.ID)
	require.Len(t, byType[gateway.EventTypeGuildMemberRemove], 1)
	require.Len(t, byType[gateway.EventTypeChannelCreate], 1)

	// Ground truth carries natural keys the client can recompute.
	var keys []string
	for _, r := range s.GroundTruthSince(from, 0) {
		if r.Type == "MESSAGE_CREATE" {
			keys = append(keys, r.Key)
		}
	}
	require.Equal(t, []string{m1.ID.String(), m2.ID.String(), m3.ID.String()}, keys)
}

func TestGatewayIntentsFilterAndContentBlanking(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	g := guildOnShard(t, s, 1)
	rec := newRecorder()
	// GUILDS | GUILD_MESSAGES only: no reactions, no voice, no message content.
	openGatewayIntents(t, s, 1, 2, gateway.IntentGuilds|gateway.IntentGuildMessages, rec)
	ctx := context.Background()
	m, err := s.SendMessage(ctx, MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1], Content: "secret"})
	require.NoError(t, err)
	require.NoError(t, s.AddReaction(ctx, m.ChannelID, m.ID, g.Members[2], "🔥"))
	require.NoError(t, s.VoiceJoin(ctx, g.ID, g.Members[3], g.Channels["General"]))
	mention, err := s.SendMessage(ctx, MessageOptions{ChannelID: g.Channels["general"], AuthorID: g.Members[1], Content: "hey <@" + s.AppID().String() + ">"})
	require.NoError(t, err)

	require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeMessageCreate)) == 2 }, 5*time.Second, 10*time.Millisecond)
	msgs := rec.ofType(gateway.EventTypeMessageCreate)
	require.Empty(t, msgs[0].data.(gateway.EventMessageCreate).Content, "content blanked without MESSAGE_CONTENT")
	require.Equal(t, mention.Content, msgs[1].data.(gateway.EventMessageCreate).Content, "mentions of the bot keep content")
	require.Empty(t, rec.ofType(gateway.EventTypeMessageReactionAdd))
	require.Empty(t, rec.ofType(gateway.EventTypeVoiceStateUpdate))
	// GUILD_CREATE without GUILD_MEMBERS carries only the bot (and members in voice).
	gcs := rec.ofType(gateway.EventTypeGuildCreate)
	require.NotEmpty(t, gcs)
	require.Len(t, gcs[0].data.(gateway.EventGuildCreate).Members, 1)
}

func TestGatewayRequestGuildMembers(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	g := guildOnShard(t, s, 0)
	rec := newRecorder()
	gw := openGateway(t, s, 0, 2, rec)
	ctx := context.Background()
	require.NoError(t, gw.Send(ctx, gateway.OpcodeRequestGuildMembers, gateway.MessageDataRequestGuildMembers{
		GuildID: g.ID.Snowflake(), Query: ptr(""), Limit: ptr(0), Nonce: "all"}))
	require.NoError(t, gw.Send(ctx, gateway.OpcodeRequestGuildMembers, gateway.MessageDataRequestGuildMembers{
		GuildID: g.ID.Snowflake(), UserIDs: []snowflake.ID{g.Members[3].Snowflake(), 42}, Nonce: "ids"}))
	require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeGuildMembersChunk)) == 2 }, 5*time.Second, 10*time.Millisecond)
	chunks := rec.ofType(gateway.EventTypeGuildMembersChunk)
	all := chunks[0].data.(gateway.EventGuildMembersChunk)
	require.Equal(t, "all", all.Nonce)
	require.Len(t, all.Members, 13)
	ids := chunks[1].data.(gateway.EventGuildMembersChunk)
	require.Equal(t, "ids", ids.Nonce)
	require.Len(t, ids.Members, 1)
	require.Equal(t, []snowflake.ID{42}, ids.NotFound)
}
