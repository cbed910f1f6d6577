package discordsim

import (
	"net/http"
	"slices"
	"strconv"
)

func (s *Server) restGateway(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	writeJSON(w, http.StatusOK, map[string]any{"url": s.GatewayURL()})
	return nil
}

func (s *Server) restGatewayBot(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	st := s.limiter.snapshot()
	reset := st.ResetAfterMS
	if reset == 0 {
		reset = 86400000
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"url":    s.GatewayURL(),
		"shards": s.cfg.Shards,
		"session_start_limit": map[string]any{
			"total": st.Total, "remaining": st.Remaining, "reset_after": reset, "max_concurrency": st.MaxConcurrency,
		},
	})
	return nil
}

func (s *Server) restMe(w http.ResponseWriter, r *http.Request, who restCaller) error {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	if who.bot {
		u := *s.world.botUser
		writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "username": u.Username, "discriminator": "0",
			"global_name": u.GlobalName, "avatar": u.Avatar, "bot": true, "verified": true, "mfa_enabled": true,
			"flags": 0, "public_flags": 0, "locale": "en-US"})
		return nil
	}
	if !slices.Contains(who.scopes, "identify") {
		return errUnauthorized
	}
	u := s.world.users[who.userID]
	if u == nil {
		return notFound("user", who.userID)
	}
	out := map[string]any{"id": u.ID, "username": u.Username, "discriminator": "0", "global_name": u.GlobalName,
		"avatar": u.Avatar, "mfa_enabled": false, "locale": "en-US", "flags": 0, "premium_type": 0, "public_flags": 0}
	if slices.Contains(who.scopes, "email") {
		out["email"] = u.Username + "@users.sim.invalid"
		out["verified"] = true
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// restMyGuilds lists the OAuth2 user's guilds with their permission bitfield,
// which the dashboard uses to decide who may manage a guild.
func (s *Server) restMyGuilds(w http.ResponseWriter, r *http.Request, who restCaller) error {
	if !who.bot && !slices.Contains(who.scopes, "guilds") {
		return errUnauthorized
	}
	uid := who.userID
	if who.bot {
		uid = s.AppID() // bots list the guilds they are in
	}
	q := r.URL.Query()
	limit := 200
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return invalid("limit must be 1..200")
		}
		limit = n
	}
	before, _ := ParseID(q.Get("before"))
	after, _ := ParseID(q.Get("after"))
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	ids := slices.Clone(s.world.order)
	slices.Sort(ids)
	out := []map[string]any{}
	for _, gid := range ids {
		g := s.world.guilds[gid]
		if g.Members[uid] == nil || gid <= after || (before != 0 && gid >= before) || len(out) >= limit {
			continue
		}
		out = append(out, map[string]any{
			"id": g.ID, "name": g.Name, "icon": nil, "banner": nil, "owner": g.OwnerID == uid,
			"permissions": permString(g.memberPermissions(uid)), "features": []string{"COMMUNITY"},
			"approximate_member_count": len(g.Members),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) restApplication(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": s.world.appID, "name": "Synapse", "icon": nil, "description": "Simulated application",
		"bot_public": true, "bot_require_code_grant": false, "verify_key": "00", "flags": s.appFlags(),
		"bot": s.world.botUser, "redirect_uris": []string{},
	})
	return nil
}

// appFlags reports the privileged intents enabled for the application
// (GATEWAY_GUILD_MEMBERS 1<<14, GATEWAY_MESSAGE_CONTENT 1<<18, GATEWAY_PRESENCE 1<<12).
func (s *Server) appFlags() int {
	f := 0
	if s.cfg.PrivilegedIntents&IntentGuildMembers != 0 {
		f |= 1 << 14
	}
	if s.cfg.PrivilegedIntents&IntentMessageContent != 0 {
		f |= 1 << 18
	}
	if s.cfg.PrivilegedIntents&IntentGuildPresences != 0 {
		f |= 1 << 12
	}
	return f
}
