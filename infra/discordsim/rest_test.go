package discordsim

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"
	"github.com/stretchr/testify/require"
)

func restClient(t *testing.T, s *Server) rest.Rest {
	t.Helper()
	return rest.New(rest.NewClient(s.Token(), append(s.RESTClientOptions(), rest.WithLogger(testLogger(t)))...))
}

func sf(id ID) snowflake.ID { return snowflake.ID(id) }

func TestRESTWithDisgoClient(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	rc := restClient(t, s)
	g := guildOnShard(t, s, 0)

	gb, err := rc.GetGatewayBot()
	require.NoError(t, err)
	require.Equal(t, s.GatewayURL(), gb.URL)
	require.Equal(t, 2, gb.Shards)
	require.Equal(t, 1, gb.SessionStartLimit.MaxConcurrency)
	require.Equal(t, 1000, gb.SessionStartLimit.Total)

	me, err := rc.GetCurrentUser("")
	require.NoError(t, err)
	require.Equal(t, sf(s.AppID()), me.ID)
	require.True(t, me.Bot)
	myGuilds, err := rc.GetCurrentUserGuilds("", 0, 0, 0, false)
	require.NoError(t, err)
	require.Len(t, myGuilds, len(botGuildIDs(s, 1)[0]), "the bot's own guilds")

	guild, err := rc.GetGuild(sf(g.ID), true)
	require.NoError(t, err)
	require.Equal(t, g.Name, guild.Name)
	require.Equal(t, sf(g.AFKChannel), *guild.AfkChannelID)

	chans, err := rc.GetGuildChannels(sf(g.ID))
	require.NoError(t, err)
	require.Len(t, chans, len(g.Channels))
	roles, err := rc.GetRoles(sf(g.ID))
	require.NoError(t, err)
	require.Len(t, roles, len(g.Roles))

	// Members page by ascending ID: 13 members (12 humans + bot) in pages of 5.
	var all []discord.Member
	var after snowflake.ID
	for {
		page, err := rc.GetMembers(sf(g.ID), 5, after)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].User.ID
	}
	require.Len(t, all, 13)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].User.ID, all[i].User.ID)
	}

	// Role add/remove dispatches GUILD_MEMBER_UPDATE and changes state.
	from := uint64(len(s.GroundTruth()))
	require.NoError(t, rc.AddMemberRole(sf(g.ID), sf(g.Members[3]), sf(g.Roles["Regular"])))
	require.NoError(t, rc.RemoveMemberRole(sf(g.ID), sf(g.Members[3]), sf(g.Roles["Regular"])))
	recs := s.GroundTruthSince(from, 0)
	require.True(t, len(recs) == 2 || len(recs) == 0, "add+remove, or no-op if the member lacked the role: %v", recs)
	err = rc.AddMemberRole(sf(g.ID), sf(g.Members[3]), 12345)
	var re *rest.Error
	require.ErrorAs(t, err, &re)
	require.Equal(t, http.StatusNotFound, re.Response.StatusCode)

	// Create message with an embed; it shows up in history (newest first).
	msg, err := rc.CreateMessage(sf(g.Channels["general"]), discord.MessageCreate{
		Content: "hello", Embeds: []discord.Embed{{Title: "Level up", Description: "you reached level 5"}},
	})
	require.NoError(t, err)
	require.Equal(t, "Level up", msg.Embeds[0].Title)
	require.Equal(t, sf(s.AppID()), msg.Author.ID)
	for i := 0; i < 4; i++ {
		_, err := rc.CreateMessage(sf(g.Channels["general"]), discord.MessageCreate{Content: "more"})
		require.NoError(t, err)
	}
	hist, err := rc.GetMessages(sf(g.Channels["general"]), 0, 0, 0, 3)
	require.NoError(t, err)
	require.Len(t, hist, 3)
	require.Greater(t, hist[0].ID, hist[1].ID, "newest first")
	older, err := rc.GetMessages(sf(g.Channels["general"]), 0, hist[2].ID, 0, 100)
	require.NoError(t, err)
	require.Len(t, older, 2)
	require.Equal(t, msg.ID, older[1].ID)

	_, err = rc.CreateMessage(sf(g.Channels["general"]), discord.MessageCreate{})
	require.ErrorAs(t, err, &re)
	require.Equal(t, http.StatusBadRequest, re.Response.StatusCode)

	// A channel never written to has an empty history: [], not null.
	quiet, err := s.CreateChannel(context.Background(), g.ID, "quiet", 0, 0)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, s.RESTURL()+"/channels/"+quiet.ID.String()+"/messages", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bot "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, "[]", strings.TrimSpace(string(body)))

	// A guild without the bot is Missing Access.
	for _, pg := range s.Guilds() {
		if !pg.BotPresent {
			_, err = rc.GetGuild(sf(pg.ID), false)
			require.ErrorAs(t, err, &re)
			require.Equal(t, http.StatusForbidden, re.Response.StatusCode)
			break
		}
	}
}

func TestRESTCommandsAndInteractions(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	rc := restClient(t, s)
	g := guildOnShard(t, s, 1)
	app := sf(s.AppID())

	cmds, err := rc.SetGlobalCommands(app, []discord.ApplicationCommandCreate{
		discord.SlashCommandCreate{Name: "rank", Description: "Show your rank"},
	})
	require.NoError(t, err)
	require.Len(t, cmds, 1)
	rankID := cmds[0].ID()
	again, err := rc.SetGlobalCommands(app, []discord.ApplicationCommandCreate{
		discord.SlashCommandCreate{Name: "rank", Description: "Show your rank (v2)"},
		discord.SlashCommandCreate{Name: "top", Description: "Leaderboard"},
	})
	require.NoError(t, err)
	require.Len(t, again, 2)
	require.Equal(t, rankID, again[0].ID(), "overwrite keeps the id of a same-named command")
	gcmds, err := rc.SetGuildCommands(app, sf(g.ID), []discord.ApplicationCommandCreate{
		discord.SlashCommandCreate{Name: "setup", Description: "Configure"},
	})
	require.NoError(t, err)
	require.Len(t, gcmds, 1)
	_, err = rc.SetGlobalCommands(app, []discord.ApplicationCommandCreate{discord.SlashCommandCreate{Name: "Bad Name", Description: "x"}})
	require.Error(t, err)

	rec := newRecorder()
	openGateway(t, s, 1, 2, rec)
	in, err := s.SlashCommand(context.Background(), SlashCommandOptions{ChannelID: g.Channels["general"], UserID: g.Members[2], Name: "rank",
		Options: map[string]any{"user": "me"}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeInteractionCreate)) == 1 }, 5*time.Second, 10*time.Millisecond)
	ev := rec.ofType(gateway.EventTypeInteractionCreate)[0].data.(gateway.EventInteractionCreate)
	ci, ok := ev.Interaction.(discord.ApplicationCommandInteraction)
	require.True(t, ok)
	require.Equal(t, "rank", ci.Data.CommandName())
	require.Equal(t, rankID, ci.Data.CommandID())
	require.Equal(t, sf(in.ID), ci.ID())

	require.NoError(t, rc.CreateInteractionResponse(ci.ID(), ci.Token(), discord.InteractionResponse{
		Type: discord.InteractionResponseTypeDeferredCreateMessage,
	}))
	upd, err := rc.UpdateInteractionResponse(app, ci.Token(), discord.MessageUpdate{Content: ptr("You are rank #3")})
	require.NoError(t, err)
	require.Equal(t, "You are rank #3", upd.Content)
	fu, err := rc.CreateFollowupMessage(app, ci.Token(), discord.MessageCreate{Content: "follow-up"})
	require.NoError(t, err)
	require.Equal(t, "follow-up", fu.Content)
	resp := s.InteractionResponses(in.ID)
	require.Len(t, resp, 3)
	require.Equal(t, "callback", resp[0]["kind"])
	err = rc.CreateInteractionResponse(ci.ID(), ci.Token(), discord.InteractionResponse{Type: discord.InteractionResponseTypeCreateMessage,
		Data: discord.MessageCreate{Content: "twice"}})
	require.Error(t, err, "an interaction can be acknowledged once")
}

func ptr[T any](v T) *T { return &v }

func TestRESTFaultsAndRateLimitHeaders(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.RESTBucketLimit = 3; c.RESTBucketWindow = 500 * time.Millisecond })
	g := guildOnShard(t, s, 0)

	// Raw HTTP: Discord's headers and a 429 body once the bucket is empty.
	get := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, s.RESTURL()+"/guilds/"+g.ID.String()+"/roles", nil)
		req.Header.Set("Authorization", "Bot "+s.Token())
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	for i := 0; i < 3; i++ {
		res := get()
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.NotEmpty(t, res.Header.Get("X-RateLimit-Bucket"))
		require.Equal(t, "3", res.Header.Get("X-RateLimit-Limit"))
		require.NotEmpty(t, res.Header.Get("X-RateLimit-Reset-After"))
	}
	res := get()
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	require.Equal(t, "0", res.Header.Get("X-RateLimit-Remaining"))

	// disgo obeys the headers, so it never sees a 429 from the bucket itself.
	rc := restClient(t, s)
	for i := 0; i < 7; i++ {
		_, err := rc.GetRoles(sf(g.ID))
		require.NoError(t, err)
	}

	// Injected 429 with Retry-After: disgo waits and retries transparently.
	s.Faults().AddREST(RESTFault{Kind: FaultREST429, PathPrefix: "/guilds/" + g.ID.String(), Count: 1, RetryAfter: time.Second})
	start := time.Now()
	_, err := rc.GetGuild(sf(g.ID), false)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)

	// Injected 5xx: surfaced to the caller (disgo does not retry them).
	s.Faults().AddREST(RESTFault{Kind: FaultREST5xx, Method: "GET", PathPrefix: "/users/@me", Count: 1, Status: http.StatusServiceUnavailable})
	_, err = rc.GetCurrentUser("")
	var re *rest.Error
	require.ErrorAs(t, err, &re)
	require.Equal(t, http.StatusServiceUnavailable, re.Response.StatusCode)
	_, err = rc.GetCurrentUser("")
	require.NoError(t, err, "count-limited fault is used up")

	// Slow responses.
	s.Faults().AddREST(RESTFault{Kind: FaultRESTSlow, PathPrefix: "/gateway", Count: 1, Delay: 300 * time.Millisecond})
	start = time.Now()
	_, err = rc.GetGatewayBot()
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	require.Positive(t, s.Stats().REST429s)
}
