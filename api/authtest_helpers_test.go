package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/api"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// authBundle is an API wired to a running discordsim (auto-approving
// OAuth2) with two tenants, each owning one of the simulator's guilds.
type authBundle struct {
	url    string
	api    *api.Server
	db     *postgres.DB
	sim    *discordsim.Server
	guilds []discordsim.GuildInfo
	tA, tB tenants.Tenant
	gA, gB tenants.Guild
}

// noFollow returns redirects instead of following them.
var noFollow = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func setupAuth(t testing.TB) *authBundle { return setupAuthWith(t, 0) }

// setupAuthWith is setupAuth with guilds the bot is not in yet, after the
// two it is in (b.guilds[2:]).
func setupAuthWith(t testing.TB, pending int) *authBundle {
	t.Helper()
	ctx := context.Background()
	log := testenv.Logger(t)
	cfg := discordsim.DefaultConfig()
	cfg.ListenAddr, cfg.Guilds, cfg.MembersPerGuild, cfg.PendingGuilds = "127.0.0.1:0", 2, 8, pending
	cfg.OAuthAutoApprove = true
	sim, err := discordsim.New(cfg, log)
	require.NoError(t, err)
	require.NoError(t, sim.Start(ctx))
	t.Cleanup(func() { _ = sim.Close() })

	db := testenv.DB(t)
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	base := "http://" + srv.Listener.Addr().String()
	s := api.New(api.Deps{Log: log, DB: db, Redis: testenv.Redis(t), Registry: ops.NewRegistry(), Probes: ops.NewProbes(time.Second),
		Version: "test", OperatorToken: operatorToken,
		Auth: api.AuthConfig{
			PublicURL: base, DiscordClientID: sim.AppID().String(), DiscordClientSecret: sim.ClientSecret(),
			DiscordAuthorizeURL: sim.URL() + "/oauth2/authorize", DiscordRESTURL: sim.RESTURL(),
			SessionSecret: "0123456789abcdef0123456789abcdef-test",
		}})
	h = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)

	b := &authBundle{url: base, api: s, db: db, sim: sim, guilds: sim.Guilds()}
	require.Len(t, b.guilds, 2+pending)
	// Business plans: the matrix creates more than the free plan allows.
	b.tA = tenanttest.Tenant(ctx, t, db.Bun, &tenanttest.TenantOpts{Name: "tenant A", Plan: "business"})
	b.tB = tenanttest.Tenant(ctx, t, db.Bun, &tenanttest.TenantOpts{Name: "tenant B", Plan: "business"})
	b.gA = tenanttest.Guild(ctx, t, db.Bun, b.tA.ID, &tenanttest.GuildOpts{ID: int64(b.guilds[0].ID), Name: b.guilds[0].Name})
	b.gB = tenanttest.Guild(ctx, t, db.Bun, b.tB.ID, &tenanttest.GuildOpts{ID: int64(b.guilds[1].ID), Name: b.guilds[1].Name})
	return b
}

// plainMember returns the i-th member of a sim guild (i >= 1, not the
// owner) after taking away any role that carries Manage Server.
func (b *authBundle) plainMember(t *testing.T, guild, i int) int64 {
	t.Helper()
	g := b.guilds[guild]
	uid := g.Members[i]
	for _, gi := range b.guilds {
		for _, r := range []string{"Moderator", "Admin"} {
			_ = b.sim.SetMemberRole(context.Background(), gi.ID, uid, gi.Roles[r], false)
		}
	}
	return int64(uid)
}

// session is a logged-in browser: its cookie and CSRF token.
type session struct {
	cookie *http.Cookie
	csrf   string
}

// login runs Login with Discord for a simulator user and returns the
// session and the callback response's cookies.
func (b *authBundle) login(t testing.TB, userID int64) (session, []*http.Cookie) {
	t.Helper()
	res, err := noFollow.Get(b.url + "/api/v1/auth/login")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	s, landing, cookies := b.consent(t, stateCookieOf(t, res), res.Header.Get("Location"), userID)
	require.Equal(t, "/", landing)
	return s, cookies
}

// stateCookieOf is the consent state a response set.
func stateCookieOf(t testing.TB, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == "synapse_oauth_state" {
			return c
		}
	}
	t.Fatal("the state travels in a cookie")
	return nil
}

// consent approves a Discord consent page (discordsim's, approving on its
// own) as userID and follows its callback with the browser's state
// cookie: the session it opens, where it lands, and its cookies.
func (b *authBundle) consent(t testing.TB, state *http.Cookie, authorize string, userID int64) (session, string, []*http.Cookie) {
	t.Helper()
	require.True(t, strings.HasPrefix(authorize, b.sim.URL()+"/oauth2/authorize?"), authorize)
	res, err := noFollow.Get(authorize + "&login_as=" + fmt.Sprint(userID))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	callback := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(callback, b.url+"/api/v1/auth/callback?"), callback)

	req, err := http.NewRequest(http.MethodGet, callback, nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: state.Name, Value: state.Value})
	res, err = noFollow.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode, string(body))
	var s session
	for _, c := range res.Cookies() {
		switch c.Name {
		case "synapse_session":
			s.cookie = c
		case "synapse_csrf":
			s.csrf = c.Value
		}
	}
	require.NotNil(t, s.cookie)
	require.NotEmpty(t, s.csrf)
	return s, res.Header.Get("Location"), res.Cookies()
}

// caller authenticates a request: a session (with its CSRF token), a
// bearer token, or nobody.
type caller struct {
	name    string
	session *session
	bearer  string
	noCSRF  bool
}

func (b *authBundle) do(t *testing.T, who caller, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who.session != nil {
		req.AddCookie(&http.Cookie{Name: who.session.cookie.Name, Value: who.session.cookie.Value})
		if !who.noCSRF {
			req.Header.Set("X-CSRF-Token", who.session.csrf)
		}
	}
	if who.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+who.bearer)
	}
	res, err := noFollow.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	}
	return res.StatusCode, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func guildPath(g tenants.Guild, rest string) string {
	return fmt.Sprintf("/api/v1/guilds/%d%s", g.ID, rest)
}

func tenantPath(tn tenants.Tenant, rest string) string {
	return fmt.Sprintf("/api/v1/tenants/%d%s", tn.ID, rest)
}
