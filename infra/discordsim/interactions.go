package discordsim

import (
	"context"
	"fmt"
	"sync"
)

// SlashCommandOptions describes a slash command invocation by a member.
type SlashCommandOptions struct {
	GuildID   ID
	ChannelID ID
	UserID    ID
	Name      string
	// Options are top-level command options: name -> value (string, number, bool).
	Options map[string]any
}

// Interaction is what the simulator remembers of an interaction: the
// token for callbacks and every response the application made.
type Interaction struct {
	ID        ID               `json:"id"`
	Token     string           `json:"token"`
	GuildID   ID               `json:"guild_id"`
	ChannelID ID               `json:"channel_id"`
	UserID    ID               `json:"user_id"`
	Name      string           `json:"name"`
	Responses []map[string]any `json:"responses"`
	// OriginalID is the message created by a type 4 callback (or first follow-up).
	OriginalID ID `json:"original_id,omitempty"`
}

type interactionStore struct {
	mu      sync.Mutex
	byID    map[ID]*Interaction
	byToken map[string]*Interaction
}

func newInteractionStore() *interactionStore {
	return &interactionStore{byID: map[ID]*Interaction{}, byToken: map[string]*Interaction{}}
}

// SlashCommand dispatches INTERACTION_CREATE (type 2, application command).
func (s *Server) SlashCommand(ctx context.Context, o SlashCommandOptions) (*Interaction, error) {
	now := s.clock.Now()
	s.world.mu.Lock()
	c, g, err := s.channelGuildLocked(o.ChannelID)
	if err != nil {
		s.world.mu.Unlock()
		return nil, err
	}
	if o.GuildID != 0 && o.GuildID != g.ID {
		s.world.mu.Unlock()
		return nil, invalid("channel %s is not in guild %s", o.ChannelID, o.GuildID)
	}
	mem := g.Members[o.UserID]
	if mem == nil {
		s.world.mu.Unlock()
		return nil, notFound("member", o.UserID)
	}
	cmdID := s.commandIDLocked(g.ID, o.Name)
	if cmdID == 0 {
		s.world.mu.Unlock()
		return nil, notFound(fmt.Sprintf("command %q", o.Name), 0)
	}
	id := s.clock.Snowflake()
	in := &Interaction{ID: id, Token: fmt.Sprintf("aW50ZXJhY3Rpb246%s:%x", id, uint64(id)*2654435761), GuildID: g.ID,
		ChannelID: c.ID, UserID: o.UserID, Name: o.Name, Responses: []map[string]any{}}
	opts := []map[string]any{}
	for name, v := range o.Options {
		typ := 3 // STRING
		switch v.(type) {
		case bool:
			typ = 5
		case int, int64:
			typ = 4
		case float64:
			typ = 10
		}
		opts = append(opts, map[string]any{"name": name, "type": typ, "value": v})
	}
	type memberWithPerms struct {
		*Member
		Permissions string `json:"permissions"`
	}
	perms := permString(g.memberPermissions(o.UserID))
	payload := map[string]any{
		"id": id, "application_id": s.world.appID, "type": 2, "token": in.Token, "version": 1,
		"guild_id": g.ID, "channel_id": c.ID,
		"channel":         map[string]any{"id": c.ID, "type": c.Type, "name": c.Name, "guild_id": g.ID, "permissions": perms},
		"member":          memberWithPerms{Member: mem, Permissions: perms},
		"data":            map[string]any{"id": cmdID, "name": o.Name, "type": 1, "options": opts, "guild_id": g.ID},
		"app_permissions": permString(g.memberPermissions(s.world.appID)), "locale": "en-US", "guild_locale": "en-US",
		"entitlements": []any{}, "authorizing_integration_owners": map[string]any{"0": g.ID}, "context": 0,
		"attachment_size_limit": 10485760,
	}
	d := mustJSON(payload)
	s.world.mu.Unlock()

	s.interactions.mu.Lock()
	s.interactions.byID[id] = in
	s.interactions.byToken[in.Token] = in
	s.interactions.mu.Unlock()
	s.dispatch(event{guildID: g.ID, typ: "INTERACTION_CREATE", key: idKey(id), d: plain(d), at: now})
	cp := *in
	return &cp, nil
}

// commandIDLocked finds a registered guild or global command by name.
func (s *Server) commandIDLocked(guildID ID, name string) ID {
	for _, list := range [][]map[string]any{s.world.guildCommands[guildID], s.world.globalCommands} {
		for _, c := range list {
			if c["name"] == name {
				id, _ := c["id"].(ID)
				return id
			}
		}
	}
	return 0
}

// InteractionResponses returns what the application answered to interaction id.
func (s *Server) InteractionResponses(id ID) []map[string]any {
	s.interactions.mu.Lock()
	defer s.interactions.mu.Unlock()
	in := s.interactions.byID[id]
	if in == nil {
		return nil
	}
	return append([]map[string]any(nil), in.Responses...)
}

// interactionMessage posts a bot message in reply to an interaction.
func (s *Server) interactionMessage(ctx context.Context, in *Interaction, data map[string]any) (*Message, error) {
	content, _ := data["content"].(string)
	o := MessageOptions{ChannelID: in.ChannelID, AuthorID: s.AppID(), Content: content}
	if embeds, ok := data["embeds"].([]any); ok {
		for _, e := range embeds {
			if m, ok := e.(map[string]any); ok {
				o.Embeds = append(o.Embeds, m)
			}
		}
	}
	return s.SendMessage(ctx, o)
}
