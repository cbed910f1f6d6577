package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/api/auth"
)

func TestLoginWithDiscordEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupAuth(t)
	owner := int64(b.guilds[0].OwnerID) // Manage Server in guild A through ownership

	s, cookies := b.login(t, owner)
	for _, c := range cookies {
		if c.Name == "synapse_session" {
			require.True(t, c.HttpOnly, "the session cookie is httpOnly")
			require.True(t, c.Secure, "the session cookie is Secure unless configured for localhost")
			require.Equal(t, http.SameSiteLaxMode, c.SameSite)
			require.Equal(t, "/", c.Path)
		}
	}
	var stored int
	require.NoError(t, b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id_hash = $1`, auth.Hash(s.cookie.Value)).Scan(&stored))
	require.Equal(t, 1, stored, "the session is stored by its hash")
	var access []byte
	require.NoError(t, b.db.Pool.QueryRow(ctx, `SELECT discord_access FROM sessions WHERE id_hash = $1`, auth.Hash(s.cookie.Value)).Scan(&access))
	require.NotEmpty(t, access)
	require.False(t, bytes.HasPrefix(access, []byte("ey")) || len(access) < 28, "the Discord token is sealed")

	code, me := b.do(t, caller{session: &s}, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, code, me)
	require.Equal(t, fmt.Sprint(owner), me["user"].(map[string]any)["id"])
	require.Equal(t, s.csrf, me["csrf_token"])
	require.Equal(t, []any{map[string]any{"guild_id": fmt.Sprint(b.gA.ID), "tenant_id": fmt.Sprint(b.tA.ID), "name": b.gA.Name,
		"roles": []any{"guild_admin"}, "via": []any{"guild"}, "active": true, "unclaimed": false}}, me["guilds"],
		"Manage Server in a guild Synapse knows makes a guild admin of that guild only")
	require.NotContains(t, fmt.Sprint(me), "discord_access")

	code, body := b.do(t, caller{session: &s}, http.MethodGet, guildPath(b.gA, "/settings"), nil)
	require.Equal(t, http.StatusOK, code, body)
	code, _ = b.do(t, caller{session: &s}, http.MethodGet, guildPath(b.gB, "/settings"), nil)
	require.Equal(t, http.StatusNotFound, code, "another tenant's guild does not exist for this user")

	code, _ = b.do(t, caller{session: &s}, http.MethodPost, "/api/v1/auth/logout", nil)
	require.Equal(t, http.StatusNoContent, code)
	code, body = b.do(t, caller{session: &s}, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, code, "the session is gone after logout")
	require.Equal(t, "unauthenticated", errCode(body))
}

func TestLoginRefusesForgedState(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	// No state cookie at all: a callback this browser did not start.
	code, body := b.do(t, caller{}, http.MethodGet, "/api/v1/auth/callback?code=x&state=y", nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "state", body["error"].(map[string]any)["field"])

	// A valid state cookie but another state in the URL.
	res, err := noFollow.Get(b.url + "/api/v1/auth/login")
	require.NoError(t, err)
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, b.url+"/api/v1/auth/callback?code=x&state=forged", nil)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = noFollow.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func TestCSRFOnCookieWrites(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	s, _ := b.login(t, int64(b.guilds[0].OwnerID))
	put := map[string]any{"settings": map[string]any{"capture": map[string]any{"retention_days": 30}}}

	code, body := b.do(t, caller{session: &s, noCSRF: true}, http.MethodPut, guildPath(b.gA, "/settings"), put)
	require.Equal(t, http.StatusForbidden, code, "a cookie write without the CSRF header is refused")
	require.Equal(t, "forbidden", errCode(body))

	wrong := s
	wrong.csrf = "not-the-token"
	code, _ = b.do(t, caller{session: &wrong}, http.MethodPut, guildPath(b.gA, "/settings"), put)
	require.Equal(t, http.StatusForbidden, code, "nor with a wrong one")
	code, _ = b.do(t, caller{session: &s, noCSRF: true}, http.MethodPost, "/api/v1/auth/logout", nil)
	require.Equal(t, http.StatusForbidden, code, "logout is a write too")

	code, body = b.do(t, caller{session: &s}, http.MethodPut, guildPath(b.gA, "/settings"), put)
	require.Equal(t, http.StatusOK, code, body)

	code, body = b.do(t, caller{session: &s, noCSRF: true}, http.MethodGet, guildPath(b.gA, "/settings"), nil)
	require.Equal(t, http.StatusOK, code, "reads need no CSRF token: %v", body)

	// Bearer tokens are not sent by browsers on their own: no CSRF needed.
	code, tok := b.do(t, caller{session: &s}, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "ci", "scopes": []string{"guild.settings:write"}})
	require.Equal(t, http.StatusCreated, code, tok)
	code, body = b.do(t, caller{bearer: tok["secret"].(string)}, http.MethodPut, guildPath(b.gA, "/settings"), put)
	require.Equal(t, http.StatusOK, code, body)
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupAuth(t)
	owner := b.plainMember(t, 0, 1)
	code, _ := b.do(t, caller{bearer: operatorToken}, http.MethodPut, tenantPath(b.tA, fmt.Sprintf("/members/%d", owner)), map[string]any{"role": "owner"})
	require.Equal(t, http.StatusOK, code)
	s, _ := b.login(t, owner)
	me := caller{session: &s}

	t.Run("created with its secret shown once and stored hashed", func(t *testing.T) {
		code, body := b.do(t, me, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "reader", "scopes": []string{"guild.*:read"}})
		require.Equal(t, http.StatusCreated, code, body)
		secret := body["secret"].(string)
		require.Regexp(t, `^syn_[A-Za-z0-9_-]{40,}$`, secret)
		var n int
		require.NoError(t, b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE hash = $1`, auth.Hash(secret)).Scan(&n))
		require.Equal(t, 1, n)
		require.NoError(t, b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE encode(hash, 'escape') LIKE '%syn_%'`).Scan(&n))
		require.Zero(t, n)

		code, list := b.do(t, me, http.MethodGet, "/api/v1/me/tokens", nil)
		require.Equal(t, http.StatusOK, code)
		require.NotContains(t, fmt.Sprint(list), secret, "listing never shows a secret")

		reader := caller{bearer: secret}
		code, body = b.do(t, reader, http.MethodGet, guildPath(b.gA, "/events/storage"), nil)
		require.Equal(t, http.StatusOK, code, body)
		code, _ = b.do(t, reader, http.MethodPut, guildPath(b.gA, "/settings"), map[string]any{"settings": map[string]any{}})
		require.Equal(t, http.StatusForbidden, code, "scopes limit what the token may do")
		code, _ = b.do(t, reader, http.MethodGet, guildPath(b.gB, "/settings"), nil)
		require.Equal(t, http.StatusNotFound, code, "a token cannot reach further than its user")
		code, _ = b.do(t, reader, http.MethodGet, "/api/v1/me/tokens", nil)
		require.Equal(t, http.StatusForbidden, code, "managing tokens needs a self scope")

		code, list = b.do(t, me, http.MethodGet, "/api/v1/me/tokens", nil)
		require.Equal(t, http.StatusOK, code)
		items := list["items"].([]any)
		tokID := items[len(items)-1].(map[string]any)["id"].(string)
		code, _ = b.do(t, me, http.MethodDelete, "/api/v1/me/tokens/"+tokID, nil)
		require.Equal(t, http.StatusNoContent, code)
		code, body = b.do(t, reader, http.MethodGet, guildPath(b.gA, "/events/storage"), nil)
		require.Equal(t, http.StatusUnauthorized, code, "a revoked token stops working at once")
		require.Equal(t, "unauthenticated", errCode(body))
	})
	t.Run("restricted to one tenant", func(t *testing.T) {
		code, body := b.do(t, me, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "a-only", "scopes": []string{"*:read"}, "tenant_id": b.tA.ID})
		require.Equal(t, http.StatusCreated, code, body)
		tok := caller{bearer: body["secret"].(string)}
		code, _ = b.do(t, tok, http.MethodGet, guildPath(b.gA, "/audit"), nil)
		require.Equal(t, http.StatusOK, code)
		code, _ = b.do(t, me, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "b", "scopes": []string{"*:read"}, "tenant_id": b.tB.ID})
		require.Equal(t, http.StatusNotFound, code, "no token for a tenant the user has no role in")
	})
	t.Run("bad requests name the field", func(t *testing.T) {
		for name, req := range map[string]map[string]any{
			"name":      {"scopes": []string{"*:read"}},
			"scopes":    {"name": "x"},
			"scopes[1]": {"name": "x", "scopes": []string{"*:read", "guild.events:delete"}},
		} {
			code, body := b.do(t, me, http.MethodPost, "/api/v1/me/tokens", req)
			require.Equal(t, http.StatusBadRequest, code, name)
			require.Equal(t, name, body["error"].(map[string]any)["field"])
		}
	})
	t.Run("another user's token cannot be revoked", func(t *testing.T) {
		other := int64(b.guilds[0].OwnerID)
		os, _ := b.login(t, other)
		code, body := b.do(t, caller{session: &os}, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "theirs", "scopes": []string{"*:read"}})
		require.Equal(t, http.StatusCreated, code)
		id := body["token"].(map[string]any)["id"].(string)
		code, _ = b.do(t, me, http.MethodDelete, "/api/v1/me/tokens/"+id, nil)
		require.Equal(t, http.StatusNotFound, code)
	})
}
