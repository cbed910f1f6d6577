package discordsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/stretchr/testify/require"
)

// requireRESTError asserts err is Discord's status and JSON error code.
func requireRESTError(t *testing.T, err error, status int, code rest.JSONErrorCode) {
	t.Helper()
	var re *rest.Error
	require.ErrorAs(t, err, &re)
	require.Equal(t, status, re.Response.StatusCode)
	require.Equal(t, code, re.Code, re.Message)
}

// The bot opens a DM channel with a member (the same channel every time)
// and sends into it through disgo's REST client; the simulator keeps the
// DMs, readable back over REST, from DirectMessages and GET /_sim/dms.
func TestDMWithDisgoClient(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	rc := restClient(t, s)
	g := guildOnShard(t, s, 0)
	user, other := g.Members[3], g.Members[4]

	ch, err := rc.CreateDMChannel(sf(user))
	require.NoError(t, err)
	require.Equal(t, discord.ChannelTypeDM, ch.Type())
	require.Len(t, ch.Recipients, 1)
	require.Equal(t, sf(user), ch.Recipients[0].ID)
	again, err := rc.CreateDMChannel(sf(user))
	require.NoError(t, err)
	require.Equal(t, ch.ID(), again.ID(), "one DM channel per user")
	otherCh, err := rc.CreateDMChannel(sf(other))
	require.NoError(t, err)
	require.NotEqual(t, ch.ID(), otherCh.ID())

	msg, err := rc.CreateMessage(ch.ID(), discord.MessageCreate{
		Content: "thanks for posting", Embeds: []discord.Embed{{Title: "Level up", Description: "level 5", Color: 0x00ff00}},
	})
	require.NoError(t, err)
	require.Equal(t, ch.ID(), msg.ChannelID)
	require.Nil(t, msg.GuildID, "a DM belongs to no guild")
	require.Equal(t, sf(s.AppID()), msg.Author.ID)
	require.Equal(t, "Level up", msg.Embeds[0].Title)
	_, err = rc.CreateMessage(ch.ID(), discord.MessageCreate{Content: "second"})
	require.NoError(t, err)

	dms := s.DirectMessages(user)
	require.Len(t, dms, 2)
	require.Equal(t, user, dms[0].RecipientID)
	require.Equal(t, "thanks for posting", dms[0].Message.Content)
	require.Equal(t, "Level up", dms[0].Message.Embeds[0]["title"])
	require.Equal(t, "rich", dms[0].Message.Embeds[0]["type"])
	require.Equal(t, "second", dms[1].Message.Content)
	require.Empty(t, s.DirectMessages(other), "a channel opened, nothing sent")
	require.Len(t, s.DirectMessages(), 2)

	var viaAdmin []DirectMessage
	require.NoError(t, json.Unmarshal(getJSON(t, s.URL()+"/_sim/dms?user_id="+user.String()), &viaAdmin))
	require.Len(t, viaAdmin, 2)
	require.Equal(t, dms[1].Message.ID, viaAdmin[1].Message.ID)

	hist, err := rc.GetMessages(ch.ID(), 0, 0, 0, 10)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, "second", hist[0].Content, "newest first")
	got, err := rc.GetChannel(ch.ID())
	require.NoError(t, err)
	dm, ok := got.(discord.DMChannel)
	require.True(t, ok, "%T", got)
	require.Equal(t, hist[0].ID, *dm.LastMessageID())

	require.Empty(t, s.GroundTruthSince(0, 0), "DMs are not dispatched to guild sessions")
}

// Discord refuses a DM with 50007 when the user does not take it: they
// closed DMs from the members of every guild they share with the bot,
// share none, or are a bot. Opening the channel succeeds all the same.
// An id Discord does not know cannot be a recipient (50033).
func TestDMRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, nil)
	rc := restClient(t, s)
	g := guildOnShard(t, s, 0)
	closes := g.Members[5]

	send := func(user ID) error {
		t.Helper()
		ch, err := rc.CreateDMChannel(sf(user))
		require.NoError(t, err, "opening a DM channel is never refused for a known user")
		_, err = rc.CreateMessage(ch.ID(), discord.MessageCreate{Content: "hello"})
		return err
	}

	require.NoError(t, s.SetMemberDMs(ctx, g.ID, closes, false))
	requireRESTError(t, send(closes), http.StatusForbidden, rest.JSONErrorCodeCannotSendMessagesToThisUser)
	require.Empty(t, s.DirectMessages(closes), "a refused DM is not recorded")

	// Reopened through the admin API's steps, as scenarios do.
	postJSON(t, s.URL()+"/_sim/steps", `[{"do":"dms_open","guild":"`+g.ID.String()+`","member":"`+closes.String()+`"}]`)
	require.NoError(t, send(closes))
	require.Len(t, s.DirectMessages(closes), 1)
	postJSON(t, s.URL()+"/_sim/steps", `[{"do":"dms_close","guild":"`+g.ID.String()+`","member":"`+closes.String()+`"}]`)
	requireRESTError(t, send(closes), http.StatusForbidden, rest.JSONErrorCodeCannotSendMessagesToThisUser)

	for _, pg := range s.Guilds() {
		if !pg.BotPresent {
			requireRESTError(t, send(pg.Members[1]), http.StatusForbidden, rest.JSONErrorCodeCannotSendMessagesToThisUser)
			break
		}
	}

	_, err := rc.CreateDMChannel(12345)
	requireRESTError(t, err, http.StatusBadRequest, rest.JSONErrorCodeInvalidRecipients)
	_, err = rc.CreateDMChannel(sf(s.AppID()))
	requireRESTError(t, err, http.StatusBadRequest, rest.JSONErrorCodeInvalidRecipients)
	require.ErrorIs(t, s.SetMemberDMs(ctx, g.ID, 12345, false), ErrNotFound)
}

// A member who closed DMs in one guild still takes them through another
// guild they share with the bot, as on Discord; leaving that guild ends it.
func TestDMOpenThroughAnyMutualGuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, nil)
	rc := restClient(t, s)
	var bots []GuildInfo
	for _, g := range s.Guilds() {
		if g.BotPresent {
			bots = append(bots, g)
		}
	}
	require.GreaterOrEqual(t, len(bots), 2)
	user := bots[0].Members[2]
	// The same user joins a second guild (synthetic members are per guild).
	s.world.mu.Lock()
	second := s.world.guilds[bots[1].ID]
	second.Members[user] = &Member{User: s.world.users[user], JoinedAt: s.Now(), Roles: []ID{}}
	second.MemberOrder = append(second.MemberOrder, user)
	s.world.mu.Unlock()

	ch, err := rc.CreateDMChannel(sf(user))
	require.NoError(t, err)
	require.NoError(t, s.SetMemberDMs(ctx, bots[0].ID, user, false))
	_, err = rc.CreateMessage(ch.ID(), discord.MessageCreate{Content: "open in the second guild"})
	require.NoError(t, err)
	require.NoError(t, s.MemberLeave(ctx, bots[1].ID, user))
	_, err = rc.CreateMessage(ch.ID(), discord.MessageCreate{Content: "closed everywhere left"})
	requireRESTError(t, err, http.StatusForbidden, rest.JSONErrorCodeCannotSendMessagesToThisUser)
}

// The DM routes take a bot token only, and carry the route buckets' rate
// limits like every REST route: a DM channel's bucket is its own.
func TestDMAuthAndRateLimits(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.RESTBucketLimit = 2; c.RESTBucketWindow = 500 * time.Millisecond })
	g := guildOnShard(t, s, 0)
	post := func(path, auth, body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.RESTURL()+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}
	open := `{"recipient_id":"` + g.Members[3].String() + `"}`

	res, _ := post("/users/@me/channels", "", open)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = post("/users/@me/channels", "Bearer nope", open)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)

	res, body := post("/users/@me/channels", "Bot "+s.Token(), open)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Equal(t, "2", res.Header.Get("X-RateLimit-Limit"))
	var ch struct {
		ID   ID  `json:"id"`
		Type int `json:"type"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ch))
	require.Equal(t, ChannelDM, ch.Type)
	res, _ = post("/users/@me/channels", "Bot "+s.Token(), open)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = post("/users/@me/channels", "Bot "+s.Token(), open)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.NotEmpty(t, res.Header.Get("Retry-After"))

	res, body = post("/channels/"+ch.ID.String()+"/messages", "Bot "+s.Token(), `{"content":""}`)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body, "50006", "an empty DM is refused as any empty message")
	res, _ = post("/channels/"+ch.ID.String()+"/messages", "Bot "+s.Token(), `{"content":"hi"}`)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = post("/channels/"+ch.ID.String()+"/messages", "Bot "+s.Token(), `{"content":"hi"}`)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the DM channel's bucket is spent")

	// disgo waits out the buckets instead.
	rc := restClient(t, s)
	for range 3 {
		dm, err := rc.CreateDMChannel(sf(g.Members[3]))
		require.NoError(t, err)
		_, err = rc.CreateMessage(dm.ID(), discord.MessageCreate{Content: "paced"})
		require.NoError(t, err)
	}
	require.Len(t, s.DirectMessages(g.Members[3]), 4)
}
