package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/tenants"
)

func TestGuildSettingsAreAuditedAndPaged(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	admin := int64(b.guilds[0].OwnerID)
	s, _ := b.login(t, admin)
	me := caller{session: &s}

	for i := 1; i <= 3; i++ {
		code, body := b.do(t, me, http.MethodPut, guildPath(b.gA, "/settings"),
			map[string]any{"settings": map[string]any{"capture": map[string]any{"retention_days": i * 10}}})
		require.Equal(t, http.StatusOK, code, body)
	}
	code, body := b.do(t, me, http.MethodGet, guildPath(b.gA, "/settings"), nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"capture": map[string]any{"retention_days": float64(30)}}, body["settings"])

	code, body = b.do(t, me, http.MethodPut, guildPath(b.gA, "/settings"), map[string]any{"settings": []int{1}})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "settings", body["error"].(map[string]any)["field"])

	// Newest first, two per page, before and after recorded with the actor.
	code, page := b.do(t, me, http.MethodGet, guildPath(b.gA, "/audit?limit=2"), nil)
	require.Equal(t, http.StatusOK, code, page)
	items := page["items"].([]any)
	require.Len(t, items, 2)
	newest := items[0].(map[string]any)
	require.Equal(t, "guild.settings.update", newest["action"])
	require.Equal(t, fmt.Sprint(admin), newest["actor"])
	require.Equal(t, map[string]any{"capture": map[string]any{"retention_days": float64(20)}}, newest["before"])
	require.Equal(t, map[string]any{"capture": map[string]any{"retention_days": float64(30)}}, newest["after"])
	require.NotEmpty(t, newest["request_id"])
	require.NotNil(t, page["next_before"])

	code, page = b.do(t, me, http.MethodGet, guildPath(b.gA, "/audit?limit=2&before="+page["next_before"].(string)), nil)
	require.Equal(t, http.StatusOK, code)
	items = page["items"].([]any)
	require.Len(t, items, 1, "the last page is short")
	require.Equal(t, map[string]any{}, items[0].(map[string]any)["before"])
	require.Nil(t, page["next_before"])

	code, body = b.do(t, me, http.MethodGet, guildPath(b.gA, "/audit?limit=500"), nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "limit", body["error"].(map[string]any)["field"])
}

func TestTenantMembersGrantedByTheOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupAuth(t)
	owner, newcomer := b.plainMember(t, 0, 1), b.plainMember(t, 0, 2)
	code, _ := b.do(t, caller{bearer: operatorToken}, http.MethodPut, tenantPath(b.tA, fmt.Sprintf("/members/%d", owner)), map[string]any{"role": "owner"})
	require.Equal(t, http.StatusOK, code)
	s, _ := b.login(t, owner)
	me := caller{session: &s}

	ns, _ := b.login(t, newcomer)
	code, _ = b.do(t, caller{session: &ns}, http.MethodGet, guildPath(b.gA, "/settings"), nil)
	require.Equal(t, http.StatusNotFound, code, "no role yet")

	code, body := b.do(t, me, http.MethodPut, tenantPath(b.tA, fmt.Sprintf("/members/%d", newcomer)), map[string]any{"role": "moderator"})
	require.Equal(t, http.StatusOK, code, body)
	code, _ = b.do(t, caller{session: &ns}, http.MethodGet, guildPath(b.gA, "/settings"), nil)
	require.Equal(t, http.StatusOK, code, "the grant applies to the open session at once")
	code, _ = b.do(t, caller{session: &ns}, http.MethodPut, guildPath(b.gA, "/settings"), map[string]any{"settings": map[string]any{}})
	require.Equal(t, http.StatusForbidden, code, "a moderator only reads settings")

	code, body = b.do(t, me, http.MethodPut, tenantPath(b.tA, fmt.Sprintf("/members/%d", newcomer)), map[string]any{"role": "emperor"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "role", body["error"].(map[string]any)["field"])

	code, page := b.do(t, me, http.MethodGet, tenantPath(b.tA, "/members?limit=1"), nil)
	require.Equal(t, http.StatusOK, code, page)
	require.Len(t, page["items"], 1)
	code, page2 := b.do(t, me, http.MethodGet, tenantPath(b.tA, "/members?limit=1&after="+page["next_after"].(string)), nil)
	require.Equal(t, http.StatusOK, code)
	roles := map[string]string{}
	for _, it := range append(page["items"].([]any), page2["items"].([]any)...) {
		m := it.(map[string]any)
		roles[m["user_id"].(string)] = m["role"].(string)
	}
	require.Equal(t, map[string]string{fmt.Sprint(owner): "owner", fmt.Sprint(newcomer): "moderator"}, roles)

	entries, err := tenants.NewStore(b.db.Bun).ForTenant(b.tA.ID).Audit().List(ctx, tenants.AuditFilter{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, "tenant.operator.set", entries[0].Action)
	require.Equal(t, fmt.Sprint(owner), entries[0].Actor)
	require.JSONEq(t, `{"role":"moderator"}`, string(entries[0].After))

	code, body = b.do(t, me, http.MethodGet, "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{map[string]any{"tenant_id": float64(b.tA.ID), "tenant_name": "tenant A", "role": "owner"}}, body["tenants"])
}
