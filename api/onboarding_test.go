package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// meGuild finds a guild in /api/v1/me.
func meGuild(t *testing.T, b *authBundle, s session, guildID int64) map[string]any {
	t.Helper()
	code, me := b.do(t, caller{session: &s}, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, code, me)
	for _, g := range me["guilds"].([]any) {
		if g.(map[string]any)["guild_id"] == fmt.Sprint(guildID) {
			return g.(map[string]any)
		}
	}
	return nil
}

// A server owner with no Synapse account adds the bot from the dashboard:
// Discord's consent (discordsim) adds it to the server and logs them in,
// and they land on the server's dashboard owning its new tenant.
func TestAddingTheBotMakesATenantForItsOwner(t *testing.T) {
	t.Parallel()
	b := setupAuthWith(t, 1)
	pending := b.guilds[2]
	require.False(t, pending.BotPresent)

	res, err := noFollow.Get(b.url + fmt.Sprintf("/api/v1/onboarding/add-bot?guild=%d", pending.ID))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	authorize := res.Header.Get("Location")
	require.Contains(t, authorize, "scope=identify+guilds+bot+applications.commands")
	s, landing, _ := b.consent(t, stateCookieOf(t, res), authorize, int64(pending.OwnerID))
	require.Equal(t, fmt.Sprintf("/g/%d?onboarding=created", pending.ID), landing)

	g := meGuild(t, b, s, int64(pending.ID))
	require.NotNil(t, g, "the new server is the user's")
	require.Contains(t, g["roles"], "owner")
	require.Equal(t, false, g["unclaimed"])
	code, out := b.do(t, caller{session: &s}, http.MethodGet, "/api/v1/tenants/"+g["tenant_id"].(string)+"/billing", nil)
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, "free", out["plan"])
}

// The bot joined a server before anyone signed up for it (the gateway
// gave it an unclaimed tenant): its Discord admin sees it unclaimed, claims
// it, and owns it; a second claim is refused.
func TestGuildAdminClaimsAnUnclaimedGuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupAuth(t)
	unclaimed := tenanttest.Tenant(ctx, t, b.db.Bun, &tenanttest.TenantOpts{Status: tenants.StatusUnclaimed})
	// Guild A moves to the unclaimed tenant: the setup's tenant A keeps none.
	_, err := b.db.Pool.Exec(ctx, `UPDATE guilds SET tenant_id = $1 WHERE id = $2`, unclaimed.ID, b.gA.ID)
	require.NoError(t, err)
	admin := int64(b.guilds[0].OwnerID) // Manage Server in guild A
	s, _ := b.login(t, admin)
	g := meGuild(t, b, s, b.gA.ID)
	require.Equal(t, true, g["unclaimed"])
	require.Equal(t, []any{"guild_admin"}, g["roles"])

	code, out := b.do(t, caller{session: &s}, http.MethodPost, guildPath(b.gA, "/claim"), nil)
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, map[string]any{"tenant_id": fmt.Sprint(unclaimed.ID), "outcome": "claimed"}, out)
	g = meGuild(t, b, s, b.gA.ID)
	require.Equal(t, false, g["unclaimed"])
	require.Contains(t, g["roles"], "owner")
	code, out = b.do(t, caller{session: &s}, http.MethodGet, fmt.Sprintf("/api/v1/tenants/%d/billing", unclaimed.ID), nil)
	require.Equal(t, http.StatusOK, code, "an owner now: %v", out)

	code, out = b.do(t, caller{session: &s}, http.MethodPost, guildPath(b.gA, "/claim"), nil)
	require.Equal(t, http.StatusConflict, code, out)
	var actions []string
	require.NoError(t, b.db.Bun.NewSelect().Table("audit_log").Column("action").Where("tenant_id = ?", unclaimed.ID).Scan(ctx, &actions))
	require.Contains(t, actions, "tenant.claimed")
}

// A tenant's owner adds a second server: it is listed among the servers
// they manage, the consent adds the bot, and the server joins the tenant
// (not one of its own); past the plan's server limit, adding is refused.
func TestOwnerAddsAnotherServerToTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupAuthWith(t, 1)
	pending := b.guilds[2]
	owner := int64(pending.OwnerID)
	code, out := b.do(t, caller{bearer: operatorToken}, http.MethodPut, tenantPath(b.tA, fmt.Sprintf("/members/%d", owner)), map[string]any{"role": "owner"})
	require.Equal(t, http.StatusOK, code, out)
	s, _ := b.login(t, owner)

	code, out = b.do(t, caller{session: &s}, http.MethodGet, "/api/v1/me/servers", nil)
	require.Equal(t, http.StatusOK, code, out)
	var listed map[string]any
	for _, it := range out["items"].([]any) {
		if it.(map[string]any)["guild_id"] == fmt.Sprint(pending.ID) {
			listed = it.(map[string]any)
		}
	}
	require.Equal(t, map[string]any{"guild_id": fmt.Sprint(pending.ID), "name": pending.Name, "bot": false}, listed)

	// The invite's answer sets the consent's state cookie, as a browser's fetch would keep it.
	body, err := json.Marshal(map[string]any{"guild_id": fmt.Sprint(pending.ID)})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, b.url+tenantPath(b.tA, "/servers"), bytes.NewReader(body))
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: s.cookie.Name, Value: s.cookie.Value})
	req.Header.Set("X-CSRF-Token", s.csrf)
	req.Header.Set("Content-Type", "application/json")
	res, err := noFollow.Do(req)
	require.NoError(t, err)
	var invite struct{ URL string }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&invite))
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	require.Contains(t, invite.URL, fmt.Sprintf("guild_id=%d", pending.ID))
	_, landing, _ := b.consent(t, stateCookieOf(t, res), invite.URL, owner)
	require.Equal(t, fmt.Sprintf("/g/%d?onboarding=added", pending.ID), landing)
	got, err := tenants.NewStore(b.db.Bun).TenantOfGuild(ctx, int64(pending.ID))
	require.NoError(t, err)
	require.Equal(t, b.tA.ID, got, "the server joined the inviting tenant")
	var actions []string
	require.NoError(t, b.db.Bun.NewSelect().Table("audit_log").Column("action").Where("tenant_id = ? AND action LIKE 'tenant.guild_%'", b.tA.ID).
		Order("id").Scan(ctx, &actions))
	require.Equal(t, []string{"tenant.guild_invited", "tenant.guild_added"}, actions)

	// Two servers now; the free plan allows one.
	_, err = b.db.Pool.Exec(ctx, `UPDATE tenants SET plan = 'free' WHERE id = $1`, b.tA.ID)
	require.NoError(t, err)
	code, out = b.do(t, caller{session: &s}, http.MethodPost, tenantPath(b.tA, "/servers"), map[string]any{"guild_id": "777777777"})
	require.Equal(t, http.StatusPaymentRequired, code, out)
	code, out = b.do(t, caller{session: &s}, http.MethodPost, tenantPath(b.tA, "/servers"), map[string]any{"guild_id": fmt.Sprint(pending.ID)})
	require.Equal(t, http.StatusConflict, code, "already in Synapse: %v", out)
}
