package discordsim

import "net/http"

// Handler returns the simulator's HTTP handler: gateway websockets at
// /gateway and /gateway-resume, REST under /api/v10, OAuth2 pages under
// /oauth2 and the admin API under /_sim/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+gatewayPath, s.serveGateway("gateway"))
	mux.HandleFunc("GET "+resumePath, s.serveGateway("resume"))

	s.route(mux, "GET", "/gateway", authNone, s.restGateway)
	s.route(mux, "GET", "/gateway/bot", authBot, s.restGatewayBot)
	s.route(mux, "GET", "/users/@me", authBotOrBearer, s.restMe)
	s.route(mux, "GET", "/users/@me/guilds", authBotOrBearer, s.restMyGuilds)
	s.route(mux, "POST", "/users/@me/channels", authBot, s.restCreateDM)
	s.route(mux, "GET", "/applications/@me", authBot, s.restApplication)
	s.route(mux, "GET", "/oauth2/applications/@me", authBot, s.restApplication)

	s.route(mux, "GET", "/applications/{app_id}/commands", authBot, s.restGetCommands)
	s.route(mux, "PUT", "/applications/{app_id}/commands", authBot, s.restPutCommands)
	s.route(mux, "GET", "/applications/{app_id}/guilds/{guild_id}/commands", authBot, s.restGetCommands)
	s.route(mux, "PUT", "/applications/{app_id}/guilds/{guild_id}/commands", authBot, s.restPutCommands)
	s.route(mux, "POST", "/interactions/{interaction_id}/{token}/callback", authNone, s.restInteractionCallback)
	s.route(mux, "POST", "/webhooks/{app_id}/{token}", authNone, s.restFollowup)
	s.route(mux, "GET", "/webhooks/{app_id}/{token}/messages/@original", authNone, s.restGetOriginal)
	s.route(mux, "PATCH", "/webhooks/{app_id}/{token}/messages/@original", authNone, s.restEditOriginal)

	s.route(mux, "GET", "/channels/{channel_id}", authBot, s.restGetChannel)
	s.route(mux, "GET", "/channels/{channel_id}/messages", authBot, s.restGetMessages)
	s.route(mux, "POST", "/channels/{channel_id}/messages", authBot, s.restCreateMessage)
	s.route(mux, "GET", "/guilds/{guild_id}", authBot, s.restGetGuild)
	s.route(mux, "GET", "/guilds/{guild_id}/channels", authBot, s.restGetGuildChannels)
	s.route(mux, "GET", "/guilds/{guild_id}/roles", authBot, s.restGetRoles)
	s.route(mux, "GET", "/guilds/{guild_id}/members", authBot, s.restGetMembers)
	s.route(mux, "GET", "/guilds/{guild_id}/members/{user_id}", authBot, s.restGetMember)
	s.route(mux, "PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", authBot, s.restMemberRole(true))
	s.route(mux, "DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", authBot, s.restMemberRole(false))

	s.route(mux, "POST", "/oauth2/token", authNone, s.restOAuthToken)
	mux.HandleFunc("GET /oauth2/authorize", s.oauthAuthorizePage)
	mux.HandleFunc("POST /oauth2/authorize", s.oauthAuthorizeSubmit)

	s.adminRoutes(mux)
	return mux
}
