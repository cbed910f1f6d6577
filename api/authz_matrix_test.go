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
	// A tenant role opens every guild of the tenant, and only of that tenant.
	_, me = b.do(t, callers[pOwner], http.MethodGet, "/api/v1/me", nil)
	require.Len(t, me["guilds"], 1)
	g := me["guilds"].([]any)[0].(map[string]any)
	require.Equal(t, []any{fmt.Sprint(b.gA.ID), []any{"owner"}, []any{"tenant"}}, []any{g["guild_id"], g["roles"], g["via"]})

	user := func(status int) map[string]int { // self routes: any user, not the operator token
		return expect(status, map[string]int{pOperator: 403, pAnonymous: 401})
	}
	readA := expect(200, map[string]int{pOther: 404, pAnonymous: 401})
	writeGuildA := expect(200, map[string]int{pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})
	// Everyone of tenant A is a stranger to tenant B; B's owner is at home.
	inB := expect(404, map[string]int{pOperator: 200, pOther: 200, pAnonymous: 401})
	settings := map[string]any{"settings": map[string]any{"capture": map[string]any{"retention_days": 30}}}
	throwaway := int64(4242424242)
	writeGuildA201 := expect(201, map[string]int{pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})
	moderateA := expect(201, map[string]int{pViewer: 403, pOther: 404, pAnonymous: 401})
	missingA := expect(404, map[string]int{pModerator: 403, pViewer: 403, pAnonymous: 401}) // allowed, but no such thing
	inB201 := expect(404, map[string]int{pOperator: 201, pOther: 201, pAnonymous: 401})

	// Both guilds get a currency, a member with a wallet, a rule and a zone,
	// so reads have something to return on either side of the wall.
	seed := map[int64]map[string]string{}
	for _, g := range []tenants.Guild{b.gA, b.gB} {
		code, body := b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "xp", "name": "XP", "primary": true})
		require.Equal(t, http.StatusCreated, code, body)
		code, body = b.do(t, op, http.MethodPost, guildPath(g, "/awards"), map[string]any{"user_id": fmt.Sprint(throwaway), "currency": "xp", "amount": 5, "reason": "seed"})
		require.Equal(t, http.StatusCreated, code, body)
		code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": ruleDoc("seed")})
		require.Equal(t, http.StatusCreated, code, body)
		rule := body["id"].(string)
		code, body = b.do(t, op, http.MethodPost, guildPath(g, "/zones"), map[string]any{"name": "seed"})
		require.Equal(t, http.StatusCreated, code, body)
		seed[g.ID] = map[string]string{"rule": rule, "zone": body["id"].(string)}
	}
	member := fmt.Sprintf("/members/%d", throwaway)
	perPrincipal := func(f func(p string) any) any { return f }
	newCurrency := perPrincipal(func(p string) any { return map[string]any{"code": "c" + slug(p), "name": p} })
	newZone := perPrincipal(func(p string) any { return map[string]any{"name": "z" + slug(p)} })
	newRule := perPrincipal(func(p string) any { return map[string]any{"document": ruleDoc("by " + p)} })
	newMilestone := perPrincipal(func(p string) any {
		return map[string]any{"key": "m" + slug(p), "name": "By " + p, "rarity": "rare", "scope": "lifetime",
			"requirement": map[string]any{"type": "events", "event": "message_create", "min": 3}}
	})
	award := map[string]any{"user_id": fmt.Sprint(throwaway), "currency": "xp", "amount": 1, "reason": "matrix"}
	dryRun := map[string]any{"document": ruleDoc("draft"), "events": []any{map[string]any{"type": "message_create", "user_id": "7", "channel_id": "8", "magnitude": 40}}}
	rulesA, rulesB := "/rules/"+seed[b.gA.ID]["rule"], "/rules/"+seed[b.gB.ID]["rule"]
	zoneB := "/zones/" + seed[b.gB.ID]["zone"]

	cases := []matrixCase{
		{"GET /api/v1/version", "/api/v1/version", nil, expect(200, nil)},
		{"GET /api/v1/openapi.json", "/api/v1/openapi.json", nil, expect(200, nil)},
		{"GET /api/v1/auth/login", "/api/v1/auth/login", nil, expect(302, nil)},
		{"GET /api/v1/onboarding/add-bot", "/api/v1/onboarding/add-bot", nil, expect(302, nil)},
		{"GET /api/v1/me/servers", "/api/v1/me/servers", nil, user(200)},
		// Owners may invite, but only a server they manage on Discord (none here: 403 after the role check).
		{"POST /api/v1/tenants/:tenant/servers", tenantPath(b.tA, "/servers"), map[string]any{"guild_id": "5151515151"},
			expect(403, map[string]int{pOperator: 400, pGuildAdmin: 404, pOther: 404, pAnonymous: 401})},
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
		{"GET /api/v1/guilds/:guild/overview", guildPath(b.gA, "/overview"), nil, readA},
		{"GET /api/v1/guilds/:guild/channels", guildPath(b.gA, "/channels"), nil, readA},
		{"GET /api/v1/guilds/:guild/roles", guildPath(b.gA, "/roles"), nil, readA},
		{"GET /api/v1/guilds/:guild/leaderboard", guildPath(b.gA, "/leaderboard?currency=xp"), nil, readA},
		{"GET /api/v1/guilds/:guild/seasons", guildPath(b.gA, "/seasons"), nil, readA},
		{"GET /api/v1/guilds/:guild/members", guildPath(b.gA, "/members?q=a"), nil, readA},
		{"GET /api/v1/guilds/:guild/members/:user", guildPath(b.gA, member), nil, readA},
		{"GET /api/v1/guilds/:guild/activity", guildPath(b.gA, "/activity"), nil, readA},
		{"GET /api/v1/guilds/:guild/currencies", guildPath(b.gA, "/currencies"), nil, readA},
		{"POST /api/v1/guilds/:guild/currencies", guildPath(b.gA, "/currencies"), newCurrency, writeGuildA201},
		{"PATCH /api/v1/guilds/:guild/currencies/:currency", guildPath(b.gA, "/currencies/xp"), map[string]any{"symbol": "✦"}, writeGuildA},
		{"POST /api/v1/guilds/:guild/awards", guildPath(b.gA, "/awards"), award, moderateA},
		{"GET /api/v1/guilds/:guild/rules", guildPath(b.gA, "/rules"), nil, readA},
		{"GET /api/v1/guilds/:guild/rules/catalog", guildPath(b.gA, "/rules/catalog"), nil, readA},
		{"POST /api/v1/guilds/:guild/rules", guildPath(b.gA, "/rules"), newRule, writeGuildA201},
		{"POST /api/v1/guilds/:guild/rules/dry-run", guildPath(b.gA, "/rules/dry-run"), dryRun, readA},
		{"GET /api/v1/guilds/:guild/rules/:rule", guildPath(b.gA, rulesA), nil, readA},
		{"POST /api/v1/guilds/:guild/rules/backtests", guildPath(b.gA, "/rules/backtests"), map[string]any{"document": ruleDoc("bt"), "days": 7},
			expect(202, map[string]int{pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"GET /api/v1/guilds/:guild/rules/backtests/:backtest", guildPath(b.gA, "/rules/backtests/0123456789abcdef"), nil,
			expect(404, map[string]int{pAnonymous: 401})},
		{"PUT /api/v1/guilds/:guild/rules/:rule", guildPath(b.gA, rulesA), map[string]any{"document": ruleDoc("edited")}, writeGuildA},
		{"PUT /api/v1/guilds/:guild/rules/:rule/enabled", guildPath(b.gA, rulesA+"/enabled"), map[string]any{"enabled": true}, writeGuildA},
		{"DELETE /api/v1/guilds/:guild/rules/:rule", guildPath(b.gA, "/rules/999999999"), nil, missingA},
		{"GET /api/v1/guilds/:guild/zones", guildPath(b.gA, "/zones"), nil, readA},
		{"POST /api/v1/guilds/:guild/zones", guildPath(b.gA, "/zones"), newZone, writeGuildA201},
		{"PUT /api/v1/guilds/:guild/zones/:zone", guildPath(b.gA, "/zones/999999999"), map[string]any{"name": "gone"}, missingA},
		{"DELETE /api/v1/guilds/:guild/zones/:zone", guildPath(b.gA, "/zones/999999999"), nil, missingA},
		{"POST /api/v1/guilds/:guild/rules/presets/classic", guildPath(b.gA, "/rules/presets/classic"), nil, writeGuildA},
		{"GET /api/v1/guilds/:guild/milestones", guildPath(b.gA, "/milestones"), nil, readA},
		{"POST /api/v1/guilds/:guild/milestones", guildPath(b.gA, "/milestones"), newMilestone, writeGuildA201},
		{"PUT /api/v1/guilds/:guild/milestones/:milestone", guildPath(b.gA, "/milestones/999999999"), newMilestone, missingA},
		{"DELETE /api/v1/guilds/:guild/milestones/:milestone", guildPath(b.gA, "/milestones/999999999"), nil, missingA},
		{"GET /api/v1/tenants/:tenant/members", tenantPath(b.tA, "/members"), nil,
			expect(200, map[string]int{pGuildAdmin: 404, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"PUT /api/v1/tenants/:tenant/members/:user", tenantPath(b.tA, fmt.Sprintf("/members/%d", throwaway)), map[string]any{"role": "viewer"},
			expect(200, map[string]int{pAdmin: 403, pGuildAdmin: 404, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"GET /api/v1/platform/shards", "/api/v1/platform/shards", nil, expect(403, map[string]int{pOperator: 200, pAnonymous: 401})},
		// Nobody of that id holds a role: allowed callers get 404.
		{"DELETE /api/v1/tenants/:tenant/members/:user", tenantPath(b.tA, "/members/6060606060"), nil,
			expect(404, map[string]int{pAdmin: 403, pModerator: 403, pViewer: 403, pAnonymous: 401})},
		{"GET /api/v1/guilds/:guild/recipe", guildPath(b.gA, "/recipe"), nil, readA},
		{"GET /api/v1/guilds/:guild/modules", guildPath(b.gA, "/modules"), nil, readA},
		{"PUT /api/v1/guilds/:guild/modules/:module/enabled", guildPath(b.gA, "/modules/_/enabled"), map[string]any{"enabled": true}, writeGuildA},
		{"GET /api/v1/guilds/:guild/taxonomy", guildPath(b.gA, "/taxonomy"), nil, readA},
		{"PUT /api/v1/guilds/:guild/taxonomy", guildPath(b.gA, "/taxonomy"), map[string]any{"terms": map[string]any{"achievement": map[string]any{"one": "Badge", "many": "Badges"}}}, writeGuildA},
		{"POST /api/v1/guilds/:guild/recipe/preview", guildPath(b.gA, "/recipe/preview"), map[string]any{"synapse_recipe": 1, "name": "m"}, readA},
		{"POST /api/v1/guilds/:guild/recipe/apply", guildPath(b.gA, "/recipe/apply"), map[string]any{"synapse_recipe": 1, "name": "m"}, writeGuildA},
		// Claiming: tenant A is run by its owner already (409); the
		// operator token is nobody to own it (400).
		{"POST /api/v1/guilds/:guild/claim", guildPath(b.gA, "/claim"), nil,
			expect(409, map[string]int{pOperator: 400, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		// Billing: owners buy, admins look. No Stripe here, so an allowed
		// checkout is a 503 (not configured), and the webhook too.
		{"GET /api/v1/tenants/:tenant/billing", tenantPath(b.tA, "/billing"), nil,
			expect(200, map[string]int{pGuildAdmin: 404, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"POST /api/v1/tenants/:tenant/billing/checkout", tenantPath(b.tA, "/billing/checkout"), map[string]any{"plan": "pro"},
			expect(503, map[string]int{pAdmin: 403, pGuildAdmin: 404, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"POST /api/v1/tenants/:tenant/billing/portal", tenantPath(b.tA, "/billing/portal"), nil,
			expect(503, map[string]int{pAdmin: 403, pGuildAdmin: 404, pModerator: 403, pViewer: 403, pOther: 404, pAnonymous: 401})},
		{"POST /api/v1/billing/stripe/webhook", "/api/v1/billing/stripe/webhook", map[string]any{"id": "evt_1"}, expect(503, nil)},

		// Tenant B's side of the wall.
		{"GET /api/v1/guilds/:guild/events/volume", guildPath(b.gB, "/events/volume"), nil, inB},
		{"GET /api/v1/guilds/:guild/events/breakdown", guildPath(b.gB, "/events/breakdown"), nil, inB},
		{"GET /api/v1/guilds/:guild/events/storage", guildPath(b.gB, "/events/storage"), nil, inB},
		{"GET /api/v1/guilds/:guild/settings", guildPath(b.gB, "/settings"), nil, inB},
		{"PUT /api/v1/guilds/:guild/settings", guildPath(b.gB, "/settings"), settings, inB},
		{"GET /api/v1/guilds/:guild/audit", guildPath(b.gB, "/audit"), nil, inB},
		{"GET /api/v1/guilds/:guild/overview", guildPath(b.gB, "/overview"), nil, inB},
		{"GET /api/v1/guilds/:guild/channels", guildPath(b.gB, "/channels"), nil, inB},
		{"GET /api/v1/guilds/:guild/roles", guildPath(b.gB, "/roles"), nil, inB},
		{"GET /api/v1/guilds/:guild/leaderboard", guildPath(b.gB, "/leaderboard"), nil, inB},
		{"GET /api/v1/guilds/:guild/members/:user", guildPath(b.gB, member), nil, inB},
		{"GET /api/v1/guilds/:guild/activity", guildPath(b.gB, "/activity"), nil, inB},
		{"GET /api/v1/guilds/:guild/currencies", guildPath(b.gB, "/currencies"), nil, inB},
		{"PATCH /api/v1/guilds/:guild/currencies/:currency", guildPath(b.gB, "/currencies/xp"), map[string]any{"symbol": "✦"}, inB},
		{"POST /api/v1/guilds/:guild/awards", guildPath(b.gB, "/awards"), award, inB201},
		{"GET /api/v1/guilds/:guild/rules/:rule", guildPath(b.gB, rulesB), nil, inB},
		{"PUT /api/v1/guilds/:guild/rules/:rule", guildPath(b.gB, rulesB), map[string]any{"document": ruleDoc("edited")}, inB},
		{"PUT /api/v1/guilds/:guild/rules/:rule/enabled", guildPath(b.gB, rulesB+"/enabled"), map[string]any{"enabled": false}, inB},
		{"POST /api/v1/guilds/:guild/rules/dry-run", guildPath(b.gB, "/rules/dry-run"), dryRun, inB},
		{"POST /api/v1/guilds/:guild/rules/backtests", guildPath(b.gB, "/rules/backtests"), map[string]any{"document": ruleDoc("bt"), "days": 7},
			expect(404, map[string]int{pOperator: 202, pOther: 202, pAnonymous: 401})},
		{"PUT /api/v1/guilds/:guild/zones/:zone", guildPath(b.gB, zoneB), map[string]any{"name": "renamed"}, inB},
		{"POST /api/v1/guilds/:guild/rules/presets/classic", guildPath(b.gB, "/rules/presets/classic"), nil, inB},
		{"GET /api/v1/guilds/:guild/milestones", guildPath(b.gB, "/milestones"), nil, inB},
		{"GET /api/v1/tenants/:tenant/members", tenantPath(b.tB, "/members"), nil, inB},
		{"PUT /api/v1/tenants/:tenant/members/:user", tenantPath(b.tB, fmt.Sprintf("/members/%d", throwaway)), map[string]any{"role": "viewer"}, inB},
		{"GET /api/v1/tenants/:tenant/billing", tenantPath(b.tB, "/billing"), nil, inB},
		{"DELETE /api/v1/tenants/:tenant/members/:user", tenantPath(b.tB, "/members/6060606060"), nil, expect(404, map[string]int{pAnonymous: 401})},
		{"GET /api/v1/guilds/:guild/recipe", guildPath(b.gB, "/recipe"), nil, inB},
		{"GET /api/v1/guilds/:guild/modules", guildPath(b.gB, "/modules"), nil, inB},
		{"PUT /api/v1/guilds/:guild/modules/:module/enabled", guildPath(b.gB, "/modules/_/enabled"), map[string]any{"enabled": true}, inB},
		{"GET /api/v1/guilds/:guild/taxonomy", guildPath(b.gB, "/taxonomy"), nil, inB},
		{"PUT /api/v1/guilds/:guild/taxonomy", guildPath(b.gB, "/taxonomy"), map[string]any{"terms": map[string]any{"level": map[string]any{"one": "Rank", "many": "Ranks"}}}, inB},
		{"POST /api/v1/guilds/:guild/recipe/preview", guildPath(b.gB, "/recipe/preview"), map[string]any{"synapse_recipe": 1, "name": "m"}, inB},
		{"POST /api/v1/guilds/:guild/recipe/apply", guildPath(b.gB, "/recipe/apply"), map[string]any{"synapse_recipe": 1, "name": "m"}, inB},
		{"POST /api/v1/tenants/:tenant/servers", tenantPath(b.tB, "/servers"), map[string]any{"guild_id": "5252525252"},
			expect(404, map[string]int{pOperator: 400, pOther: 403, pAnonymous: 401})},
		{"POST /api/v1/guilds/:guild/claim", guildPath(b.gB, "/claim"), nil, expect(404, map[string]int{pOperator: 400, pOther: 409, pAnonymous: 401})},
		{"POST /api/v1/tenants/:tenant/billing/checkout", tenantPath(b.tB, "/billing/checkout"), map[string]any{"plan": "pro"},
			expect(404, map[string]int{pOperator: 503, pOther: 503, pAnonymous: 401})},

		// Last: it ends the sessions.
		{"POST /api/v1/auth/logout", "/api/v1/auth/logout", nil, user(204)},
	}

	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.route] = true
		method, _, _ := strings.Cut(tc.route, " ")
		for _, p := range principalsInOrder {
			t.Run(tc.route+" as "+p+" "+tc.path, func(t *testing.T) {
				reqBody := tc.body
				if f, ok := reqBody.(func(string) any); ok {
					reqBody = f(p)
				}
				code, body := b.do(t, callers[p], method, tc.path, reqBody)
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

// ruleDoc is a minimal valid rule document.
func ruleDoc(name string) map[string]any {
	return map[string]any{"name": name, "trigger": map[string]any{"events": []string{"message_create"}},
		"effects": []any{map[string]any{"type": "credit", "currency": "xp", "amount": "5"}}}
}

// slug makes a principal's name usable in codes and keys.
func slug(p string) string {
	return strings.NewReplacer(" ", "_", "'", "").Replace(p)
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
