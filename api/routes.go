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
	objGuildOverview = "guild.overview"
	objGuildEconomy  = "guild.economy"    // currencies, leaderboards, members' wallets, activity
	objGuildAwards   = "guild.awards"     // manual awards and deductions: moderators may write
	objGuildRules    = "guild.rules"      // rules and zones
	objGuildMilesto  = "guild.milestones" // milestone templates
	objTenantMembers = "tenant.members"
	objTenantBilling = "tenant.billing" // plan, subscription, checkout: owners write, admins read
	objTenantGuilds  = "tenant.guilds"  // adding servers to the tenant: owners
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
	qOffset = queryParam{"offset", "rank offset: the next_offset of the previous page"}
)

func (s *Server) routes() []route {
	return []route{
		{Method: http.MethodGet, Path: "/version", Summary: "Build version", Status: 200, Handler: s.getVersion},
		{Method: http.MethodGet, Path: "/openapi.json", Summary: "This document", Status: 200, Handler: s.getOpenAPI},

		{Method: http.MethodGet, Path: "/auth/login", Summary: "Start Login with Discord (redirects to Discord)", Status: 302, Handler: s.getLogin},
		{Method: http.MethodGet, Path: "/auth/callback", Summary: "OAuth2 redirect target: creates the session and redirects to /", Status: 302,
			Query: []queryParam{{"code", "authorization code"}, {"state", "the state the login started with"}}, Handler: s.getCallback},
		{Method: http.MethodGet, Path: "/onboarding/add-bot", Summary: "Add the bot to a server (Discord's consent page; also logs in): the server's tenant becomes the user's unless an operator runs it", Status: 302,
			Query: []queryParam{{"guild", "a guild id to preselect (optional)"}}, Handler: s.getAddBot},
		{Method: http.MethodPost, Path: "/auth/logout", Obj: objSelf, Act: actWrite, Summary: "End the session", Status: 204, Handler: s.postLogout},
		{Method: http.MethodGet, Path: "/me", Obj: objSelf, Act: actRead, Summary: "The caller, their tenants, guilds and roles", Status: 200, Handler: s.getMe},
		{Method: http.MethodGet, Path: "/me/servers", Obj: objSelf, Act: actRead,
			Summary: "The Discord servers the caller can manage, and whether Synapse has them (a Discord login only)", Status: 200, Handler: s.getMyServers},
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
		{Method: http.MethodPost, Path: "/guilds/:guild/claim", Obj: objGuildSettings, Act: actWrite,
			Summary: "Claim a guild whose tenant no operator runs yet: the caller (a guild admin) becomes its owner (audited; 409 if already claimed)", Status: 200, Handler: s.postClaim},
		{Method: http.MethodGet, Path: "/guilds/:guild/taxonomy", Obj: objGuildSettings, Act: actRead,
			Summary: "What the community calls Synapse's terms (currency, achievement, level, …), singular and plural, with the defaults", Status: 200, Handler: s.getTaxonomy},
		{Method: http.MethodPut, Path: "/guilds/:guild/taxonomy", Obj: objGuildSettings, Act: actWrite,
			Summary: "Rename Synapse's terms for the community (audited); a term left out goes back to its default", Status: 200,
			Body: "TaxonomyRequest", Handler: s.putTaxonomy},
		{Method: http.MethodGet, Path: "/guilds/:guild/recipe", Obj: objGuildSettings, Act: actRead,
			Summary: "Export the guild's configuration (currencies, zones, rules, milestones) as a recipe, JSON or YAML", Status: 200,
			Query: []queryParam{{"format", "json (default) or yaml"}, {"name", "the recipe's name (default: the guild's)"}}, Handler: s.getRecipe},
		{Method: http.MethodPost, Path: "/guilds/:guild/recipe/preview", Obj: objGuildSettings, Act: actRead,
			Summary: "What importing a recipe (JSON or YAML body) would create, and what is already there, the same or different; writes nothing", Status: 200,
			Body: "Recipe", Handler: s.postRecipePreview},
		{Method: http.MethodPost, Path: "/guilds/:guild/recipe/apply", Obj: objGuildSettings, Act: actWrite,
			Summary: "Import a recipe: create what the guild lacks, never change what it has (within plan limits; also needs economy, rules and milestones write; audited)", Status: 200,
			Body: "Recipe", Handler: s.postRecipeApply},
		{Method: http.MethodGet, Path: "/guilds/:guild/audit", Obj: objGuildAudit, Act: actRead, Summary: "The guild's audit log, newest first, with before and after", Status: 200,
			Query: []queryParam{qLimit, qBefore}, Handler: s.getGuildAudit},

		{Method: http.MethodGet, Path: "/guilds/:guild/channels", Obj: objGuildOverview, Act: actRead, Summary: "The guild's channels (deleted ones marked), for pickers", Status: 200, Handler: s.getChannels},
		{Method: http.MethodGet, Path: "/guilds/:guild/roles", Obj: objGuildOverview, Act: actRead, Summary: "The guild's roles (deleted ones marked), for pickers", Status: 200, Handler: s.getRoles},
		{Method: http.MethodGet, Path: "/guilds/:guild/overview", Obj: objGuildOverview, Act: actRead, Summary: "Membership, activity, economy and engines at a glance", Status: 200, Handler: s.getOverview},
		{Method: http.MethodGet, Path: "/guilds/:guild/leaderboard", Obj: objGuildEconomy, Act: actRead, Summary: "A currency's leaderboard, live or of a past season", Status: 200,
			Query: []queryParam{{"currency", "currency code (default: the primary currency)"}, {"season", "a past season's id (default: live balances)"}, {"limit", "page size (1-100, default 25)"}, qOffset}, Handler: s.getLeaderboard},
		{Method: http.MethodGet, Path: "/guilds/:guild/seasons", Obj: objGuildEconomy, Act: actRead, Summary: "The guild's seasons, newest first", Status: 200, Handler: s.getSeasons},
		{Method: http.MethodGet, Path: "/guilds/:guild/members", Obj: objGuildEconomy, Act: actRead, Summary: "Search the guild's members by name", Status: 200,
			Query: []queryParam{{"q", "part of the display name"}, qLimit, qAfter}, Handler: s.listMembers},
		{Method: http.MethodGet, Path: "/guilds/:guild/members/:user", Obj: objGuildEconomy, Act: actRead, Summary: "A member's profile: wallets, achievements, progress, transactions", Status: 200, Handler: s.getMember},
		{Method: http.MethodGet, Path: "/guilds/:guild/activity", Obj: objGuildEconomy, Act: actRead, Summary: "Activity feed: wallet postings and milestone awards, newest first", Status: 200,
			Query: []queryParam{qLimit, qBefore}, Handler: s.getActivity},
		{Method: http.MethodGet, Path: "/guilds/:guild/currencies", Obj: objGuildEconomy, Act: actRead, Summary: "The guild's currencies with supply and holders", Status: 200, Handler: s.listCurrencies},
		{Method: http.MethodPost, Path: "/guilds/:guild/currencies", Obj: objGuildEconomy, Act: actWrite, Summary: "Create a currency (audited)", Status: 201,
			Body: "CurrencyRequest", Handler: s.createCurrency},
		{Method: http.MethodPatch, Path: "/guilds/:guild/currencies/:currency", Obj: objGuildEconomy, Act: actWrite, Summary: "Change a currency's fields (audited; code and decimals are fixed)", Status: 200,
			Body: "CurrencyRequest", Handler: s.patchCurrency},
		{Method: http.MethodPost, Path: "/guilds/:guild/awards", Obj: objGuildAwards, Act: actWrite, Summary: "Award (amount > 0) or deduct (amount < 0) a currency to a member (audited; Idempotency-Key header honoured)", Status: 201,
			Body: "AwardRequest", Handler: s.postAward},

		{Method: http.MethodGet, Path: "/guilds/:guild/rules", Obj: objGuildRules, Act: actRead, Summary: "The guild's rules", Status: 200, Handler: s.listRules},
		{Method: http.MethodGet, Path: "/guilds/:guild/rules/catalog", Obj: objGuildRules, Act: actRead, Summary: "Triggers, condition and effect types, and example rules for the editor", Status: 200, Handler: s.getRuleCatalog},
		{Method: http.MethodPost, Path: "/guilds/:guild/rules", Obj: objGuildRules, Act: actWrite, Summary: "Create a rule (validated; errors name the document's field; audited)", Status: 201,
			Body: "RuleRequest", Handler: s.createRule},
		{Method: http.MethodPost, Path: "/guilds/:guild/rules/dry-run", Obj: objGuildRules, Act: actRead, Summary: "What a draft rule would do to pasted or recent events, with no side effects", Status: 200,
			Body: "DryRunRequest", Handler: s.postDryRun},
		{Method: http.MethodPost, Path: "/guilds/:guild/rules/backtests", Obj: objGuildRules, Act: actWrite, Summary: "Queue a backtest of a draft rule over the last days of history (202; poll its id)", Status: 202,
			Body: "BacktestRequest", Handler: s.postBacktest},
		{Method: http.MethodPost, Path: "/guilds/:guild/rules/presets/classic", Obj: objGuildRules, Act: actWrite,
			Summary: "Install the Classic Gamification preset: its currencies, milestones, zones and rules (also needs guild.economy and guild.milestones write; idempotent: what exists is kept, changed says whether anything was created; audited)", Status: 200,
			Handler: s.postClassicPreset},
		{Method: http.MethodGet, Path: "/guilds/:guild/rules/backtests/:backtest", Obj: objGuildRules, Act: actRead, Summary: "A backtest's progress and outcome", Status: 200, Handler: s.getBacktest},
		{Method: http.MethodGet, Path: "/guilds/:guild/rules/:rule", Obj: objGuildRules, Act: actRead, Summary: "A rule and its versions", Status: 200, Handler: s.getRule},
		{Method: http.MethodPut, Path: "/guilds/:guild/rules/:rule", Obj: objGuildRules, Act: actWrite, Summary: "Store a new version of a rule (409 if version moved on; audited)", Status: 200,
			Body: "RuleRequest", Handler: s.putRule},
		{Method: http.MethodPut, Path: "/guilds/:guild/rules/:rule/enabled", Obj: objGuildRules, Act: actWrite, Summary: "Enable or disable a rule (audited)", Status: 200,
			Body: "EnabledRequest", Handler: s.putRuleEnabled},
		{Method: http.MethodDelete, Path: "/guilds/:guild/rules/:rule", Obj: objGuildRules, Act: actWrite, Summary: "Delete a rule (audited)", Status: 204, Handler: s.deleteRule},
		{Method: http.MethodGet, Path: "/guilds/:guild/modules", Obj: objGuildRules, Act: actRead,
			Summary: "The guild's rule modules (a preset's rules share one), with how many rules each has and how many are on", Status: 200, Handler: s.listModules},
		{Method: http.MethodPut, Path: "/guilds/:guild/modules/:module/enabled", Obj: objGuildRules, Act: actWrite,
			Summary: "Switch all of a module's rules on or off (\"_\": the rules of no module; audited per rule and per module)", Status: 200,
			Body: "EnabledRequest", Handler: s.putModuleEnabled},
		{Method: http.MethodGet, Path: "/guilds/:guild/zones", Obj: objGuildRules, Act: actRead, Summary: "The guild's zones", Status: 200, Handler: s.listZones},
		{Method: http.MethodPost, Path: "/guilds/:guild/zones", Obj: objGuildRules, Act: actWrite, Summary: "Create a zone (audited)", Status: 201,
			Body: "ZoneRequest", Handler: s.createZone},
		{Method: http.MethodPut, Path: "/guilds/:guild/zones/:zone", Obj: objGuildRules, Act: actWrite, Summary: "Replace a zone (audited)", Status: 200,
			Body: "ZoneRequest", Handler: s.putZone},
		{Method: http.MethodDelete, Path: "/guilds/:guild/zones/:zone", Obj: objGuildRules, Act: actWrite, Summary: "Delete a zone (audited)", Status: 204, Handler: s.deleteZone},

		{Method: http.MethodGet, Path: "/guilds/:guild/milestones", Obj: objGuildMilesto, Act: actRead, Summary: "The achievements gallery: templates with award counts", Status: 200, Handler: s.listMilestones},
		{Method: http.MethodPost, Path: "/guilds/:guild/milestones", Obj: objGuildMilesto, Act: actWrite, Summary: "Create a milestone template (audited)", Status: 201,
			Body: "MilestoneRequest", Handler: s.createMilestone},
		{Method: http.MethodPut, Path: "/guilds/:guild/milestones/:milestone", Obj: objGuildMilesto, Act: actWrite, Summary: "Replace a milestone template (409 if version moved on; audited)", Status: 200,
			Body: "MilestoneRequest", Handler: s.putMilestone},
		{Method: http.MethodDelete, Path: "/guilds/:guild/milestones/:milestone", Obj: objGuildMilesto, Act: actWrite, Summary: "Delete a milestone template and its awards (audited)", Status: 204, Handler: s.deleteMilestone},

		{Method: http.MethodGet, Path: "/tenants/:tenant/members", Obj: objTenantMembers, Act: actRead, Summary: "The tenant's operators and their roles", Status: 200,
			Query: []queryParam{qLimit, qAfter}, Handler: s.listTenantMembers},
		{Method: http.MethodPut, Path: "/tenants/:tenant/members/:user", Obj: objTenantMembers, Act: actWrite, Summary: "Grant a tenant role (owner only, audited)", Status: 200,
			Body: "RoleRequest", Handler: s.putTenantMember},
		{Method: http.MethodDelete, Path: "/tenants/:tenant/members/:user", Obj: objTenantMembers, Act: actWrite,
			Summary: "Take a tenant role away (owner only, audited; 409 for the last owner)", Status: 204, Handler: s.deleteTenantMember},

		{Method: http.MethodPost, Path: "/tenants/:tenant/servers", Obj: objTenantGuilds, Act: actWrite,
			Summary: "Add another Discord server to the tenant (within the plan's server limit): Discord's consent page for it; the bot's arrival registers it here (audited)", Status: 201,
			Body: "ServerInviteRequest", Handler: s.postServerInvite},
		{Method: http.MethodGet, Path: "/tenants/:tenant/billing", Obj: objTenantBilling, Act: actRead,
			Summary: "The tenant's plan in force, its subscription, limits and usage, and the plans on sale", Status: 200, Handler: s.getBilling},
		{Method: http.MethodPost, Path: "/tenants/:tenant/billing/checkout", Obj: objTenantBilling, Act: actWrite,
			Summary: "Start buying a plan: the Stripe Checkout page to send the owner to (the plan changes when Stripe confirms payment)", Status: 201,
			Body: "CheckoutRequest", Handler: s.postCheckout},
		{Method: http.MethodPost, Path: "/tenants/:tenant/billing/portal", Obj: objTenantBilling, Act: actWrite,
			Summary: "The Stripe customer portal: change or cancel the subscription, update the payment method", Status: 201, Handler: s.postPortal},
		{Method: http.MethodPost, Path: "/billing/stripe/webhook", Summary: "Stripe webhook events (authenticated by their Stripe-Signature; applied once, in order)", Status: 200,
			Handler: s.postStripeWebhook},

		{Method: http.MethodGet, Path: "/platform/shards", Obj: objPlatformShard, Act: actRead, Summary: "Shard leases and checkpoints (platform operator)", Status: 200, Handler: s.getShards},
	}
}
