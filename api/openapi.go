package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// OpenAPIPath turns a gin path (/guilds/:guild) into an OpenAPI one
// (/guilds/{guild}).
func OpenAPIPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}

var pathParamDocs = map[string]string{
	"guild":     "Discord guild id",
	"tenant":    "tenant id",
	"user":      "Discord user id",
	"token":     "API token id",
	"currency":  "currency code",
	"rule":      "rule id",
	"zone":      "zone id",
	"milestone": "milestone template id",
	"backtest":  "backtest id",
}

// openAPIDocument describes the route table as OpenAPI 3. Each operation
// names the permission it needs in x-synapse-permission.
func openAPIDocument(routes []route, version string) []byte {
	errorResponse := map[string]any{"description": "error", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/ErrorBody"}}}}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		var params []any
		for _, seg := range strings.Split(rt.Path, "/") {
			if name, ok := strings.CutPrefix(seg, ":"); ok {
				params = append(params, map[string]any{"name": name, "in": "path", "required": true,
					"description": pathParamDocs[name], "schema": map[string]any{"type": "string"}})
			}
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "required": false,
				"description": q.Description, "schema": map[string]any{"type": "string"}})
		}
		success := map[string]any{"description": http.StatusText(rt.Status)}
		if rt.Status == http.StatusOK || rt.Status == http.StatusCreated || rt.Status == http.StatusAccepted {
			success["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		}
		op := map[string]any{
			"operationId": operationID(rt),
			"summary":     rt.Summary,
			"tags":        []string{strings.Split(strings.TrimPrefix(rt.Path, "/"), "/")[0]},
			"responses":   map[string]any{itoa(rt.Status): success, "default": errorResponse},
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.Body}}}}
		}
		if rt.Obj == objPublic {
			op["security"] = []any{}
		} else {
			op["x-synapse-permission"] = rt.Obj + ":" + rt.Act
		}
		p := OpenAPIPath(rt.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = op
	}
	str := map[string]any{"type": "string"}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Synapse API", "version": version,
			"description": "Authenticate with the session cookie set by Login with Discord (writes need the X-CSRF-Token header " +
				"equal to the session's csrf_token, see GET /me), a personal API token, or the platform operator token. " +
				"x-synapse-permission names the object:action a route needs. Errors have one shape: ErrorBody."},
		"servers":  []any{map[string]any{"url": apiPrefix}},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "personal API token (syn_…) or the operator token"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
			},
			"schemas": map[string]any{
				"ErrorBody": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
					"error": map[string]any{"type": "object", "required": []string{"code", "message", "request_id"}, "properties": map[string]any{
						"code": str, "message": str, "field": str, "request_id": str}}}},
				"TokenRequest": map[string]any{"type": "object", "required": []string{"name", "scopes"}, "properties": map[string]any{
					"name": str, "scopes": map[string]any{"type": "array", "items": str, "example": []string{"guild.events:read"}},
					"tenant_id": map[string]any{"type": "integer", "description": "restrict the token to one tenant"}}},
				"SettingsRequest": map[string]any{"type": "object", "required": []string{"settings"}, "properties": map[string]any{
					"settings": map[string]any{"type": "object"}}},
				"CurrencyRequest": object(nil, map[string]any{"code": str, "name": str, "symbol": str, "decimals": integer,
					"transferable": boolean, "spendable": boolean, "allow_negative": boolean, "seasonal": boolean, "primary": boolean,
					"level_curve": map[string]any{"type": "object", "nullable": true, "description": "{kind: mee6|linear|polynomial, coeffs}"}}),
				"AwardRequest": object([]string{"user_id", "currency", "amount", "reason"}, map[string]any{
					"user_id": str, "currency": str, "amount": map[string]any{"type": "integer", "description": "minor units; negative deducts"}, "reason": str}),
				"RuleRequest": object([]string{"document"}, map[string]any{"document": map[string]any{"type": "object",
					"description": "the rule document: name, trigger.events, conditions, effects (see GET rules/catalog for types and examples)"},
					"version": map[string]any{"type": "integer", "description": "on update: the version edited (optimistic locking)"}}),
				"EnabledRequest": object([]string{"enabled"}, map[string]any{"enabled": boolean}),
				"DryRunRequest": object(nil, map[string]any{"document": map[string]any{"type": "object", "description": "the draft (required against draft and live+draft)"},
					"against": map[string]any{"type": "string", "enum": []string{"draft", "live", "live+draft"},
						"description": "draft (default): the document alone; live: the guild's stored rules; live+draft: the stored rules with the document added, or replacing rule_id"},
					"rule_id": map[string]any{"type": "string", "description": "against live+draft: the stored rule the document replaces"},
					"events":  map[string]any{"type": "array", "items": map[string]any{"type": "object"}, "description": "events to replay (default: the guild's latest)"},
					"sample":  map[string]any{"type": "integer", "description": "how many recent events to replay when events is empty (default 50, at most 500)"}}),
				"BacktestRequest": object([]string{"document"}, map[string]any{"document": map[string]any{"type": "object"},
					"days": map[string]any{"type": "integer", "description": "how many days back (1-90, default 30)"}}),
				"ZoneRequest": object([]string{"name"}, map[string]any{"name": str, "channels": map[string]any{"type": "array", "items": str},
					"multipliers": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "number"}}}),
				"MilestoneRequest": object([]string{"key", "name", "rarity", "requirement"}, map[string]any{"key": str, "name": str, "description": str,
					"emoji": str, "rarity": map[string]any{"type": "string", "enum": []string{"common", "uncommon", "rare", "epic", "legendary"}},
					"hidden": boolean, "repeatable": boolean, "scope": map[string]any{"type": "string", "enum": []string{"lifetime", "seasonal"}},
					"requirement": map[string]any{"type": "object"}, "rewards": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
					"version": map[string]any{"type": "integer", "description": "on update: the version edited (optimistic locking)"}}),
				"RoleRequest": map[string]any{"type": "object", "required": []string{"role"}, "properties": map[string]any{
					"role": map[string]any{"type": "string", "enum": []string{"owner", "admin", "moderator", "viewer"}}}},
				"ServerInviteRequest": object([]string{"guild_id"}, map[string]any{"guild_id": map[string]any{"type": "string", "description": "a server from GET /me/servers"}}),
				"Recipe": object([]string{"synapse_recipe", "name"}, map[string]any{"synapse_recipe": map[string]any{"type": "integer", "enum": []int{1}},
					"name": str, "description": str, "currencies": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
					"zones":      map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
					"rules":      map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
					"milestones": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}),
				"TaxonomyRequest": object([]string{"terms"}, map[string]any{"terms": map[string]any{"type": "object",
					"description":          "term (currency, achievement, level, season, leaderboard, rule, zone, member) to its label",
					"additionalProperties": object([]string{"one", "many"}, map[string]any{"one": str, "many": str})}}),
				"CheckoutRequest": object([]string{"plan"}, map[string]any{
					"plan": map[string]any{"type": "string", "enum": []string{"pro", "business"}, "description": "a self-serve plan"}}),
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // only maps, slices and strings above
	}
	return b
}

var (
	integer = map[string]any{"type": "integer"}
	boolean = map[string]any{"type": "boolean"}
)

func object(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if required != nil {
		o["required"] = required
	}
	return o
}

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.Split(rt.Path, "/") {
		seg = strings.TrimPrefix(seg, ":")
		for _, w := range strings.FieldsFunc(seg, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (s *Server) getOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", s.openapi)
}
