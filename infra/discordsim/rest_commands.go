package discordsim

import (
	"net/http"
	"regexp"
)

var commandNameRe = regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)

func (s *Server) commandScope(r *http.Request) (guildID ID, err error) {
	app, err := pathID(r, "app_id")
	if err != nil {
		return 0, err
	}
	if app != s.AppID() {
		return 0, errMissingAccess
	}
	if r.PathValue("guild_id") == "" {
		return 0, nil
	}
	gid, err := pathID(r, "guild_id")
	if err != nil {
		return 0, err
	}
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	if g := s.world.guilds[gid]; g == nil {
		return 0, notFound("guild", gid)
	} else if !g.BotPresent {
		return 0, errMissingAccess
	}
	return gid, nil
}

func (s *Server) restGetCommands(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	gid, err := s.commandScope(r)
	if err != nil {
		return err
	}
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	list := s.world.globalCommands
	if gid != 0 {
		list = s.world.guildCommands[gid]
	}
	if list == nil {
		list = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// restPutCommands is bulk overwrite: the body replaces the whole set;
// commands keep their ID when a command of the same name and type existed.
func (s *Server) restPutCommands(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	gid, err := s.commandScope(r)
	if err != nil {
		return err
	}
	var body []map[string]any
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if len(body) > 100 {
		return invalid("at most 100 commands")
	}
	s.world.mu.Lock()
	defer s.world.mu.Unlock()
	old := s.world.globalCommands
	if gid != 0 {
		old = s.world.guildCommands[gid]
	}
	out := make([]map[string]any, 0, len(body))
	seen := map[string]bool{}
	for i, c := range body {
		name, _ := c["name"].(string)
		typ := 1.0
		if t, ok := c["type"].(float64); ok {
			typ = t
		}
		desc, _ := c["description"].(string)
		if !commandNameRe.MatchString(name) {
			return invalid("%d.name: invalid command name %q", i, name)
		}
		if typ == 1 && (len(desc) < 1 || len(desc) > 100) {
			return invalid("%d.description: must be 1..100 characters", i)
		}
		if seen[name] {
			return invalid("%d.name: duplicate command name %q", i, name)
		}
		seen[name] = true
		cmd := map[string]any{}
		for k, v := range c {
			cmd[k] = v
		}
		var id ID
		for _, o := range old {
			if o["name"] == name && o["type"] == typ {
				id, _ = o["id"].(ID)
			}
		}
		if id == 0 {
			id = s.clock.Snowflake()
		}
		cmd["id"], cmd["application_id"], cmd["type"], cmd["version"] = id, s.world.appID, typ, s.clock.Snowflake()
		if _, ok := cmd["options"]; !ok && typ == 1 {
			cmd["options"] = []any{}
		}
		if _, ok := cmd["default_member_permissions"]; !ok {
			cmd["default_member_permissions"] = nil
		}
		if _, ok := cmd["nsfw"]; !ok {
			cmd["nsfw"] = false
		}
		if gid != 0 {
			cmd["guild_id"] = gid
		}
		out = append(out, cmd)
	}
	if gid != 0 {
		s.world.guildCommands[gid] = out
	} else {
		s.world.globalCommands = out
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type interactionCallbackBody struct {
	Type int            `json:"type"`
	Data map[string]any `json:"data"`
}

func (s *Server) interactionByToken(tok string) *Interaction {
	s.interactions.mu.Lock()
	defer s.interactions.mu.Unlock()
	return s.interactions.byToken[tok]
}

// restInteractionCallback records the response; type 4 (message) posts the
// reply as the bot, type 5 (deferred) waits for a follow-up or edit.
func (s *Server) restInteractionCallback(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	id, err := pathID(r, "interaction_id")
	if err != nil {
		return err
	}
	in := s.interactionByToken(r.PathValue("token"))
	if in == nil || in.ID != id {
		return notFound("interaction", id)
	}
	var b interactionCallbackBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	s.interactions.mu.Lock()
	if len(in.Responses) > 0 {
		s.interactions.mu.Unlock()
		return &apiError{http.StatusBadRequest, "Interaction has already been acknowledged.", 40060}
	}
	in.Responses = append(in.Responses, map[string]any{"kind": "callback", "type": b.Type, "data": b.Data})
	s.interactions.mu.Unlock()
	switch b.Type {
	case 4:
		m, err := s.interactionMessage(r.Context(), in, b.Data)
		if err != nil {
			return err
		}
		s.interactions.mu.Lock()
		in.OriginalID = m.ID
		s.interactions.mu.Unlock()
	case 1, 5, 6, 7, 9:
	default:
		return invalid("type: unsupported interaction callback type %d", b.Type)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restFollowup(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	in := s.interactionByToken(r.PathValue("token"))
	if in == nil {
		return notFound("webhook", 0)
	}
	var data map[string]any
	if err := decodeBody(r, &data); err != nil {
		return err
	}
	s.interactions.mu.Lock()
	in.Responses = append(in.Responses, map[string]any{"kind": "followup", "data": data})
	s.interactions.mu.Unlock()
	m, err := s.interactionMessage(r.Context(), in, data)
	if err != nil {
		return err
	}
	s.interactions.mu.Lock()
	if in.OriginalID == 0 {
		in.OriginalID = m.ID
	}
	s.interactions.mu.Unlock()
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) restGetOriginal(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	in := s.interactionByToken(r.PathValue("token"))
	if in == nil {
		return notFound("webhook", 0)
	}
	s.interactions.mu.Lock()
	orig := in.OriginalID
	s.interactions.mu.Unlock()
	s.world.mu.RLock()
	defer s.world.mu.RUnlock()
	ch, sm, h := s.world.messageAnywhereLocked(orig)
	if sm == nil {
		return notFound("message", orig)
	}
	writeJSON(w, http.StatusOK, sm.message(ch, h.guild))
	return nil
}

// restEditOriginal edits the original response, creating it after a deferred callback.
func (s *Server) restEditOriginal(w http.ResponseWriter, r *http.Request, _ restCaller) error {
	in := s.interactionByToken(r.PathValue("token"))
	if in == nil {
		return notFound("webhook", 0)
	}
	var data map[string]any
	if err := decodeBody(r, &data); err != nil {
		return err
	}
	s.interactions.mu.Lock()
	in.Responses = append(in.Responses, map[string]any{"kind": "edit_original", "data": data})
	orig := in.OriginalID
	s.interactions.mu.Unlock()
	var (
		m   *Message
		err error
	)
	if orig == 0 {
		m, err = s.interactionMessage(r.Context(), in, data)
		if err == nil {
			s.interactions.mu.Lock()
			in.OriginalID = m.ID
			s.interactions.mu.Unlock()
		}
	} else {
		content, _ := data["content"].(string)
		m, err = s.EditMessage(r.Context(), in.ChannelID, orig, content)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}
