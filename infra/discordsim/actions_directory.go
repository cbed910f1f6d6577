package discordsim

import (
	"context"
	"slices"
)

// RoleOptions describe a role to create or the new state of one to update.
type RoleOptions struct {
	Name        string
	Color       int
	Position    int
	Permissions uint64
	Managed     bool
}

type roleWire struct {
	GuildID ID    `json:"guild_id"`
	Role    *Role `json:"role"`
}

// CreateRole adds a role to a guild and dispatches GUILD_ROLE_CREATE.
func (s *Server) CreateRole(ctx context.Context, guildID ID, o RoleOptions) (*Role, error) {
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil {
		s.world.mu.Unlock()
		return nil, notFound("guild", guildID)
	}
	r := &Role{ID: s.clock.Snowflake()}
	r.set(o)
	g.Roles = append(g.Roles, r)
	d := mustJSON(roleWire{GuildID: guildID, Role: r})
	out := *r
	s.world.mu.Unlock()
	s.dispatch(event{guildID: guildID, typ: "GUILD_ROLE_CREATE", key: idKey(r.ID), intent: IntentGuilds, d: plain(d), at: s.clock.Now()})
	return &out, nil
}

// UpdateRole replaces a role's name, color, position, permissions and
// managed flag and dispatches GUILD_ROLE_UPDATE.
func (s *Server) UpdateRole(ctx context.Context, guildID, roleID ID, o RoleOptions) error {
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil {
		s.world.mu.Unlock()
		return notFound("guild", guildID)
	}
	r := g.role(roleID)
	if r == nil {
		s.world.mu.Unlock()
		return notFound("role", roleID)
	}
	r.set(o)
	d := mustJSON(roleWire{GuildID: guildID, Role: r})
	s.world.mu.Unlock()
	s.dispatch(event{guildID: guildID, typ: "GUILD_ROLE_UPDATE", key: idKey(roleID), intent: IntentGuilds, d: plain(d), at: s.clock.Now()})
	return nil
}

// DeleteRole removes a role from the guild and from every member holding
// it, and dispatches GUILD_ROLE_DELETE only: like Discord, no
// GUILD_MEMBER_UPDATE follows for the members who lost it.
func (s *Server) DeleteRole(ctx context.Context, guildID, roleID ID) error {
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil {
		s.world.mu.Unlock()
		return notFound("guild", guildID)
	}
	if roleID == guildID || g.role(roleID) == nil {
		s.world.mu.Unlock()
		return notFound("role", roleID)
	}
	g.Roles = slices.DeleteFunc(g.Roles, func(r *Role) bool { return r.ID == roleID })
	for _, m := range g.Members {
		m.Roles = slices.DeleteFunc(m.Roles, func(r ID) bool { return r == roleID })
	}
	d := mustJSON(map[string]any{"guild_id": guildID, "role_id": roleID})
	s.world.mu.Unlock()
	s.dispatch(event{guildID: guildID, typ: "GUILD_ROLE_DELETE", key: idKey(roleID), intent: IntentGuilds, d: plain(d), at: s.clock.Now()})
	return nil
}

func (r *Role) set(o RoleOptions) {
	r.Name, r.Color, r.Position, r.Managed = o.Name, o.Color, o.Position, o.Managed
	r.perms = o.Permissions
	r.Permissions = permString(o.Permissions)
}

// UpdateChannel renames and moves a guild channel (parentID 0: out of any
// category) and dispatches CHANNEL_UPDATE.
func (s *Server) UpdateChannel(ctx context.Context, channelID ID, name string, position int, parentID ID) (*Channel, error) {
	s.world.mu.Lock()
	c := s.world.channels[channelID]
	if c == nil || c.Type == ChannelPublicThread {
		s.world.mu.Unlock()
		return nil, notFound("channel", channelID)
	}
	if parentID != 0 {
		p := s.world.channels[parentID]
		if p == nil || p.GuildID != c.GuildID || p.Type != ChannelCategory {
			s.world.mu.Unlock()
			return nil, notFound("category", parentID)
		}
		c.ParentID = &parentID
	} else {
		c.ParentID = nil
	}
	c.Name, c.Position = name, position
	d := mustJSON(c)
	out := *c
	s.world.mu.Unlock()
	s.dispatch(event{guildID: out.GuildID, typ: "CHANNEL_UPDATE", key: idKey(channelID), intent: IntentGuilds, d: plain(d), at: s.clock.Now()})
	return &out, nil
}

// DeleteChannel removes a guild channel (its messages stay reachable by
// id, as the simulator keeps history) and dispatches CHANNEL_DELETE.
func (s *Server) DeleteChannel(ctx context.Context, channelID ID) error {
	s.world.mu.Lock()
	c := s.world.channels[channelID]
	if c == nil || c.Type == ChannelPublicThread {
		s.world.mu.Unlock()
		return notFound("channel", channelID)
	}
	g := s.world.guilds[c.GuildID]
	if g == nil {
		s.world.mu.Unlock()
		return notFound("guild", c.GuildID)
	}
	if g.AFKChannelID == channelID {
		s.world.mu.Unlock()
		return invalid("channel %s is the guild's AFK channel", channelID)
	}
	for _, vs := range g.Voice {
		if vs.ChannelID != nil && *vs.ChannelID == channelID {
			s.world.mu.Unlock()
			return invalid("channel %s has members in voice", channelID)
		}
	}
	g.Channels = slices.DeleteFunc(g.Channels, func(x *Channel) bool { return x.ID == channelID })
	delete(s.world.channels, channelID)
	d := mustJSON(c)
	s.world.mu.Unlock()
	s.dispatch(event{guildID: g.ID, typ: "CHANNEL_DELETE", key: idKey(channelID), intent: IntentGuilds, d: plain(d), at: s.clock.Now()})
	return nil
}
