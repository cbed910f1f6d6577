package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// route is one endpoint under /api/v1: how it is served, which permission
// it needs and how the OpenAPI document describes it. Every /api/v1 route
// is declared here and nowhere else, so the authorization middleware and
// the document cannot miss one.
type route struct {
	Method  string
	Path    string // relative to /api/v1, gin syntax (:guild, :tenant, :user, :token)
	Obj     string // required permission object; "" public, "self" any logged-in user
	Act     string // read or write
	Summary string
	Query   []queryParam
	Body    string // request body schema in the document's components, if any
	Status  int    // success status
	Handler gin.HandlerFunc
}

type queryParam struct {
	Name, Description string
}

// Permission objects. A role's grants match them with casbin's keyMatch
// ("guild.*").
const (
	objPublic        = ""
	objSelf          = "self"
	objGuildEvents   = "guild.events"
	objGuildSettings = "guild.settings"
	objGuildAudit    = "guild.audit"
	objTenantMembers = "tenant.members"
	objPlatformShard = "platform.shards"
	actRead          = "read"
	actWrite         = "write"
)

var (
	qFrom   = queryParam{"from", "first day, YYYY-MM-DD (default: 30 days ago)"}
	qTo     = queryParam{"to", "day after the last, YYYY-MM-DD (default: tomorrow)"}
	qLimit  = queryParam{"limit", "page size (1-200, default 50)"}
	qBefore = queryParam{"before", "cursor: the next_before of the previous page"}
	qAfter  = queryParam{"after", "cursor: the next_after of the previous page"}
)

func (s *Server) routes() []route {
	return []route{
		{Method: http.MethodGet, Path: "/version", Summary: "Build version", Status: 200, Handler: s.getVersion},
		{Method: http.MethodGet, Path: "/openapi.json", Summary: "This document", Status: 200, Handler: s.getOpenAPI},

		{Method: http.MethodGet, Path: "/auth/login", Summary: "Start Login with Discord (redirects to Discord)", Status: 302, Handler: s.getLogin},
		{Method: http.MethodGet, Path: "/auth/callback", Summary: "OAuth2 redirect target: creates the session and redirects to /", Status: 302,
			Query: []queryParam{{"code", "authorization code"}, {"state", "the state the login started with"}}, Handler: s.getCallback},
		{Method: http.MethodPost, Path: "/auth/logout", Obj: objSelf, Act: actWrite, Summary: "End the session", Status: 204, Handler: s.postLogout},
		{Method: http.MethodGet, Path: "/me", Obj: objSelf, Act: actRead, Summary: "The caller, their tenants, guilds and roles", Status: 200, Handler: s.getMe},
		{Method: http.MethodGet, Path: "/me/tokens", Obj: objSelf, Act: actRead, Summary: "The caller's API tokens (never their secrets)", Status: 200,
			Query: []queryParam{qLimit, qAfter}, Handler: s.listTokens},
		{Method: http.MethodPost, Path: "/me/tokens", Obj: objSelf, Act: actWrite, Summary: "Create an API token (its secret is shown once)", Status: 201,
			Body: "TokenRequest", Handler: s.createToken},
		{Method: http.MethodDelete, Path: "/me/tokens/:token", Obj: objSelf, Act: actWrite, Summary: "Revoke an API token", Status: 204, Handler: s.revokeToken},

		{Method: http.MethodGet, Path: "/guilds/:guild/events/volume", Obj: objGuildEvents, Act: actRead, Summary: "Events per day and type", Status: 200,
			Query: []queryParam{qFrom, qTo}, Handler: s.getEventVolume},
		{Method: http.MethodGet, Path: "/guilds/:guild/events/breakdown", Obj: objGuildEvents, Act: actRead, Summary: "Events by type, channel or zone", Status: 200,
			Query: []queryParam{{"by", "type, channel or zone"}, qFrom, qTo}, Handler: s.getEventBreakdown},
		{Method: http.MethodGet, Path: "/guilds/:guild/events/storage", Obj: objGuildEvents, Act: actRead, Summary: "Storage estimate and retention", Status: 200, Handler: s.getEventStorage},
		{Method: http.MethodGet, Path: "/guilds/:guild/settings", Obj: objGuildSettings, Act: actRead, Summary: "The guild's settings", Status: 200, Handler: s.getGuildSettings},
		{Method: http.MethodPut, Path: "/guilds/:guild/settings", Obj: objGuildSettings, Act: actWrite, Summary: "Replace the guild's settings (audited)", Status: 200,
			Body: "SettingsRequest", Handler: s.putGuildSettings},
		{Method: http.MethodGet, Path: "/guilds/:guild/audit", Obj: objGuildAudit, Act: actRead, Summary: "The guild's audit log, newest first, with before and after", Status: 200,
			Query: []queryParam{qLimit, qBefore}, Handler: s.getGuildAudit},

		{Method: http.MethodGet, Path: "/tenants/:tenant/members", Obj: objTenantMembers, Act: actRead, Summary: "The tenant's operators and their roles", Status: 200,
			Query: []queryParam{qLimit, qAfter}, Handler: s.listTenantMembers},
		{Method: http.MethodPut, Path: "/tenants/:tenant/members/:user", Obj: objTenantMembers, Act: actWrite, Summary: "Grant a tenant role (owner only, audited)", Status: 200,
			Body: "RoleRequest", Handler: s.putTenantMember},

		{Method: http.MethodGet, Path: "/platform/shards", Obj: objPlatformShard, Act: actRead, Summary: "Shard leases and checkpoints (platform operator)", Status: 200, Handler: s.getShards},
	}
}
