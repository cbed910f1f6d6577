package discordsim

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/stretchr/testify/require"
)

// noRedirect returns the redirect instead of following it to the (absent) app.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorizeURL(s *Server, scope, redirect, extra string) string {
	return s.URL() + "/oauth2/authorize?client_id=" + s.AppID().String() + "&response_type=code&scope=" +
		url.QueryEscape(scope) + "&redirect_uri=" + url.QueryEscape(redirect) + "&state=xyz" + extra
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// clickAuthorize fetches the consent page and submits its form as a browser would.
func clickAuthorize(t *testing.T, pageURL string, choose url.Values) *url.URL {
	t.Helper()
	res, err := http.Get(pageURL)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	buf := make([]byte, 1<<16)
	n, _ := res.Body.Read(buf)
	page := string(buf[:n])
	require.Contains(t, page, `id="authorize"`)
	form := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], htmlUnescape(m[2]))
	}
	for k, v := range choose {
		form[k] = v
	}
	form.Set("decision", "approve")
	u, _ := url.Parse(pageURL)
	post, err := noRedirect.PostForm(u.Scheme+"://"+u.Host+"/oauth2/authorize", form)
	require.NoError(t, err)
	post.Body.Close()
	require.Equal(t, http.StatusFound, post.StatusCode)
	loc, err := url.Parse(post.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

func htmlUnescape(s string) string {
	r := regexp.MustCompile(`&#(\d+);`)
	return r.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(m[2 : len(m)-1])
		return string(rune(n))
	})
}

func TestOAuthLoginWithDiscord(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	g := s.Guilds()[0]
	owner := g.Members[0]
	regular := g.Members[2]
	redirect := "http://app.local/callback"

	loc := clickAuthorize(t, authorizeURL(s, "identify guilds", redirect, ""), url.Values{"login_as": {owner.String()}})
	require.Equal(t, "app.local", loc.Host)
	require.Equal(t, "xyz", loc.Query().Get("state"))
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	oc := rest.NewOAuth2(rest.NewClient("", s.RESTClientOptions()...))
	tok, err := oc.GetAccessToken(s.AppID().Snowflake(), s.ClientSecret(), code, redirect)
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
	_, err = oc.GetAccessToken(s.AppID().Snowflake(), s.ClientSecret(), code, redirect)
	require.Error(t, err, "codes are single use")

	me, err := oc.GetCurrentUser(tok.AccessToken)
	require.NoError(t, err)
	require.Equal(t, owner.Snowflake(), me.ID)

	guilds, err := oc.GetCurrentUserGuilds(tok.AccessToken, 0, 0, 0, false)
	require.NoError(t, err)
	var mine *discord.OAuth2Guild
	for i := range guilds {
		if guilds[i].ID == g.ID.Snowflake() {
			mine = &guilds[i]
		}
	}
	require.NotNil(t, mine)
	require.True(t, mine.Owner)
	require.True(t, mine.Permissions.Has(discord.PermissionAdministrator))

	refreshed, err := oc.RefreshAccessToken(s.AppID().Snowflake(), s.ClientSecret(), tok.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, tok.AccessToken, refreshed.AccessToken)

	// Auto-approve mode for a regular member: no Manage Server, no admin.
	res, err := noRedirect.Get(authorizeURL(s, "identify guilds", redirect, "&sim_auto_approve=1&login_as="+regular.String()))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	loc, _ = url.Parse(res.Header.Get("Location"))
	tok2, err := oc.GetAccessToken(s.AppID().Snowflake(), s.ClientSecret(), loc.Query().Get("code"), redirect)
	require.NoError(t, err)
	guilds, err = oc.GetCurrentUserGuilds(tok2.AccessToken, 0, 0, 0, false)
	require.NoError(t, err)
	for _, og := range guilds {
		if og.ID == g.ID.Snowflake() {
			require.False(t, og.Owner)
			require.False(t, og.Permissions.Has(discord.PermissionAdministrator))
		}
	}

	_, err = oc.GetAccessToken(s.AppID().Snowflake(), "wrong-secret", "x", redirect)
	require.Error(t, err)
}

func TestOAuthAddToServerJoinsBotOnTheRightShard(t *testing.T) {
	t.Parallel()
	s := setup(t, nil)
	var pending GuildInfo
	for _, g := range s.Guilds() {
		if !g.BotPresent {
			pending = g
			break
		}
	}
	require.NotZero(t, pending.ID)
	shard := ShardFor(pending.ID, 2)
	recs := map[int]*recorder{0: newRecorder(), 1: newRecorder()}
	for sh, rec := range recs {
		openGateway(t, s, sh, 2, rec)
	}
	before := map[int]int{}
	for sh, ids := range botGuildIDs(s, 2) {
		before[sh] = len(ids)
		rec := recs[sh]
		require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeGuildCreate)) == len(ids) }, 5*time.Second, 10*time.Millisecond)
	}

	loc := clickAuthorize(t, authorizeURL(s, "bot applications.commands", "http://app.local/added", "&permissions=8&guild_id="+pending.ID.String()),
		url.Values{"login_as": {pending.OwnerID.String()}, "guild_id": {pending.ID.String()}})
	require.Equal(t, pending.ID.String(), loc.Query().Get("guild_id"))
	require.NotEmpty(t, loc.Query().Get("code"))

	rec := recs[shard]
	require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeGuildCreate)) == before[shard]+1 }, 5*time.Second, 10*time.Millisecond)
	gcs := rec.ofType(gateway.EventTypeGuildCreate)
	require.Equal(t, pending.ID.Snowflake(), gcs[len(gcs)-1].data.(gateway.EventGuildCreate).ID)
	require.Len(t, recs[1-shard].ofType(gateway.EventTypeGuildCreate), before[1-shard], "other shard sees nothing")

	// The bot can now read the guild over REST; removing it sends GUILD_DELETE.
	_, err := restClient(t, s).GetGuild(pending.ID.Snowflake(), false)
	require.NoError(t, err)
	require.NoError(t, s.RemoveBot(context.Background(), pending.ID))
	require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeGuildDelete)) == 1 }, 5*time.Second, 10*time.Millisecond)

	// A member without Manage Server cannot add the bot.
	res, err := noRedirect.Get(authorizeURL(s, "bot", "", "&sim_auto_approve=1&guild_id="+pending.ID.String()+"&login_as="+pending.Members[3].String()))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}
