package discordsim

import (
	"net/http"
	"slices"
	"strconv"
)

// botGuildLocked returns the guild if the bot is in it; Discord answers
// 403 Missing Access otherwise.
func (s *Server) botGuildLocked(r *http.Request) (*Guild, error) {
	gid, err := pathID(r, "guild_id")
	if err != nil {
		return nil, err
	}
	g := s.world.guilds[gid]
	if g == nil {
		return nil, notFound("guild", gid)
	}
	if !g.BotPresent {
		return nil, errMissingAccess
	}
	return g, nil
}

func (s *Server) restGetGuild(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	g, err := s.botGuildLocked(r)
	if err != nil {
		return err
	}
	p := g.restGuildLocked()
	if r.URL.Query().Get("with_counts") == "true" {
		n := len(g.Members)
		p.ApproximateMemberCount = &n
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) restGetGuildChannels(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	g, err := s.botGuildLocked(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g.Channels) // threads are not listed here, as on Discord
	return nil
}

func (s *Server) restGetRoles(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	g, err := s.botGuildLocked(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g.Roles)
	return nil
}

// restGetMembers pages members by ascending user ID: ?limit=1..1000&after=ID.
// Like Discord it requires the GUILD_MEMBERS privileged intent to be enabled.
func (s *Server) restGetMembers(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	if s.cfg.PrivilegedIntents&IntentGuildMembers == 0 {
		return errMissingAccess
	}
	limit := 1
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalid("limit must be 1..1000")
		}
		limit = n
	}
	var after ID
	if v := r.URL.Query().Get("after"); v != "" {
		id, err := ParseID(v)
		if err != nil {
			return invalid("after must be a snowflake")
		}
		after = id
	}
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	g, err := s.botGuildLocked(r)
	if err != nil {
		return err
	}
	ids := make([]ID, 0, len(g.Members))
	for id := range g.Members {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]*Member, 0, len(ids))
	for _, id := range ids {
		out = append(out, g.Members[id])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) restGetMember(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	uid, err := pathID(r, "user_id")
	if err != nil {
		return err
	}
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	g, err := s.botGuildLocked(r)
	if err != nil {
		return err
	}
	m := g.Members[uid]
	if m == nil {
		return notFound("member", uid)
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) restMemberRole(add bool) restHandler {
	return func(w http.ResponseWriter, r *http.Request, _ restCaller) error {
		gid, err := pathID(r, "guild_id")
		if err != nil {
			return err
		}
		uid, err := pathID(r, "user_id")
		if err != nil {
			return err
		}
		rid, err := pathID(r, "role_id")
		if err != nil {
			return err
		}
		s.world.mu.RLock()
		_, err = s.botGuildLocked(r)
		s.world.mu.RUnlock()
		if err != nil {
			return err
		}
		if err := s.SetMemberRole(r.Context(), gid, uid, rid, add); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) restGetChannel(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	if dm := s.dmChannelLocked(r); dm != nil {
		writeJSON(w, http.StatusOK, dm)
		return nil
	}
	c, err := s.botChannelLocked(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) botChannelLocked(r *http.Request) (*Channel, error) {
	cid, err := pathID(r, "channel_id")
	if err != nil {
		return nil, err
	}
	c, g, err := s.channelGuildLocked(cid)
	if err != nil {
		return nil, err
	}
	if !g.BotPresent {
		return nil, errMissingAccess
	}
	return c, nil
}
