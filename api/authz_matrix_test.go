package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/api"
	"github.com/synapsehq/synapse/tenants"
)

// Principals of the authorization matrix.
const (
	pOperator   = "operator"
	pOwner      = "tenant owner"
	pAdmin      = "tenant admin"
	pGuildAdmin = "guild admin"
	pModerator  = "moderator"
	pViewer     = "viewer"
	pOther      = "other tenant's owner"
	pAnonymous  = "anonymous"
)

var principalsInOrder = []string{pOperator, pOwner, pAdmin, pGuildAdmin, pModerator, pViewer, pOther, pAnonymous}

// expect builds a principal → status map from a default and exceptions.
func expect(def int, except map[string]int) map[string]int {
	out := map[string]int{}
	for _, p := range principalsInOrder {
		out[p] = def
		if v, ok := except[p]; ok {
			out[p] = v
		}
	}
	return out
}

type matrixCase struct {
	route  string // METHOD and gin path, as registered
	path   string // concrete path
	body   any
	status map[string]int
}

// TestAuthorizationMatrix asks every route, as every kind of principal,
// and checks the status: what each role may do, and that tenant A's people
// can neither read nor change tenant B (and the reverse).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}

	grant := func(tn tenants.Tenant, user int64, role string) {
		code, body := b.do(t, op, http.MethodPut, tenantPath(tn, fmt.Sprintf("/members/%d", user)), map[string]any{"role": role})
		require.Equal(t, http.StatusOK, code, body)
	}
	users := map[string]int64{
		pOwner:      b.plainMember(t, 0, 1),
		pAdmin:      b.plainMember(t, 0, 2),
		pModerator:  b.plainMember(t, 0, 3),
		pViewer:     b.plainMember(t, 0, 4),
		pGuildAdmin: int64(b.guilds[0].OwnerID), // Manage Server in guild A, no tenant role
		pOther:      b.plainMember(t, 1, 1),
	}
	grant(b.tA, users[pOwner], "owner")
	grant(b.tA, users[pAdmin], "admin")
	grant(b.tA, users[pModerator], "moderator")
	grant(b.tA, users[pViewer], "viewer")
	grant(b.tB, users[pOther], "owner")

	callers := map[string]caller{pOperator: op, pAnonymous: {}}
	for name, uid := range users {
		s, _ := b.login(t, uid)
		callers[name] = caller{name: name, session: &s}
	}
	// The guild admin holds exactly guild A, derived from Discord at login.
	_, me := b.do(t, callers[pGuildAdmin], http.MethodGet, "/api/v1/me", nil)
	require.Len(t, me["guilds"], 1)

	user := func(status int) map[string]int { // self routes: any user, not the operator token
		return expect(status, map[string]int{pOperator: 403, pAnonymous: 401})
	}
	readA := expect(200, map[string]int{pOther: 404, pAnonymous: 401})
	writeGuildA := expect(200, map[string]int{pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})
	// Everyone of tenant A is a stranger to tenant B; B's owner is at home.
	inB := expect(404, map[string]int{pOperator: 200, pOther: 200, pAnonymous: 401})
	settings := map[string]any{"settings": map[string]any{"capture": map[string]any{"retention_days": 30}}}
	throwaway := int64(4242424242)

	cases := []matrixCase{
		{"GET /api/v1/version", "/api/v1/version", nil, expect(200, nil)},
		{"GET /api/v1/openapi.json", "/api/v1/openapi.json", nil, expect(200, nil)},
		{"GET /api/v1/auth/login", "/api/v1/auth/login", nil, expect(302, nil)},
		{"GET /api/v1/auth/callback", "/api/v1/auth/callback?code=x&state=y", nil, expect(400, nil)},
		{"GET /api/v1/me", "/api/v1/me", nil, user(200)},
		{"GET /api/v1/me/tokens", "/api/v1/me/tokens", nil, user(200)},
		{"POST /api/v1/me/tokens", "/api/v1/me/tokens", map[string]any{"name": "m", "scopes": []string{"*:read"}}, user(201)},
		{"DELETE /api/v1/me/tokens/:token", "/api/v1/me/tokens/999999999", nil, user(404)},

		{"GET /api/v1/guilds/:guild/events/volume", guildPath(b.gA, "/events/volume"), nil, readA},
		{"GET /api/v1/guilds/:guild/events/breakdown", guildPath(b.gA, "/events/breakdown"), nil, readA},
		{"GET /api/v1/guilds/:guild/events/storage", guildPath(b.gA, "/events/storage"), nil, readA},
		{"GET /api/v1/guilds/:guild/settings", guildPath(b.gA, "/settings"), nil, readA},
		{"PUT /api/v1/guilds/:guild/settings", guildPath(b.gA, "/settings"), settings, writeGuildA},
		{"GET /api/v1/guilds/:guild/audit", guildPath(b.gA, "/audit"), nil, readA},
		{"GET /api/v1/tenants/:tenant/members", tenantPath(b.tA, "/members"), nil,
			expect(200, map[string]int{pGuildAdmin: 404, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"PUT /api/v1/tenants/:tenant/members/:user", tenantPath(b.tA, fmt.Sprintf("/members/%d", throwaway)), map[string]any{"role": "viewer"},
			expect(200, map[string]int{pAdmin: 403, pGuildAdmin: 404, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"GET /api/v1/platform/shards", "/api/v1/platform/shards", nil, expect(403, map[string]int{pOperator: 200, pAnonymous: 401})},

		// Tenant B's side of the wall.
		{"GET /api/v1/guilds/:guild/events/volume", guildPath(b.gB, "/events/volume"), nil, inB},
		{"GET /api/v1/guilds/:guild/events/breakdown", guildPath(b.gB, "/events/breakdown"), nil, inB},
		{"GET /api/v1/guilds/:guild/events/storage", guildPath(b.gB, "/events/storage"), nil, inB},
		{"GET /api/v1/guilds/:guild/settings", guildPath(b.gB, "/settings"), nil, inB},
		{"PUT /api/v1/guilds/:guild/settings", guildPath(b.gB, "/settings"), settings, inB},
		{"GET /api/v1/guilds/:guild/audit", guildPath(b.gB, "/audit"), nil, inB},
		{"GET /api/v1/tenants/:tenant/members", tenantPath(b.tB, "/members"), nil, inB},
		{"PUT /api/v1/tenants/:tenant/members/:user", tenantPath(b.tB, fmt.Sprintf("/members/%d", throwaway)), map[string]any{"role": "viewer"}, inB},

		// Last: it ends the sessions.
		{"POST /api/v1/auth/logout", "/api/v1/auth/logout", nil, user(204)},
	}

	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.route] = true
		method, _, _ := strings.Cut(tc.route, " ")
		for _, p := range principalsInOrder {
			t.Run(tc.route+" as "+p+" "+tc.path, func(t *testing.T) {
				code, body := b.do(t, callers[p], method, tc.path, tc.body)
				require.Equal(t, tc.status[p], code, "%s %s as %s: %v", method, tc.path, p, body)
				if code >= 400 {
					require.NotEmpty(t, errCode(body), "errors keep their one shape")
				}
			})
		}
	}
	for _, r := range b.api.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			require.True(t, covered[r.Method+" "+r.Path], "route %s %s has no row in the authorization matrix", r.Method, r.Path)
		}
	}

	// Nothing tenant A's people tried changed tenant B.
	code, audit := b.do(t, op, http.MethodGet, guildPath(b.gB, "/audit"), nil)
	require.Equal(t, http.StatusOK, code)
	for _, e := range audit["items"].([]any) {
		require.Contains(t, []any{"operator", fmt.Sprint(users[pOther])}, e.(map[string]any)["actor"], "only the operator and B's owner wrote to B: %v", e)
	}
}

// TestOpenAPIMatchesRoutes keeps the document true: every /api/v1 route
// gin serves is in it, and everything in it is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := http.Get(b.srv.URL + "/api/v1/openapi.json")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Servers []struct{ URL string }               `json:"servers"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))
	require.Equal(t, "/api/v1", doc.Servers[0].URL)

	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented[strings.ToUpper(method)+" /api/v1"+path] = true
			require.NotEmpty(t, op["operationId"], path)
			require.Contains(t, op["responses"], "default", "%s %s documents the error shape", method, path)
		}
	}
	served := map[string]bool{}
	for _, r := range b.api.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			served[r.Method+" "+api.OpenAPIPath(r.Path)] = true
		}
	}
	require.Equal(t, served, documented)
}
