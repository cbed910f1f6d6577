package discordsim

import (
	"context"
)

// AddBot makes the bot join guildID (as the OAuth2 bot-invite flow does) and
// dispatches GUILD_CREATE to the sessions of the guild's shard.
func (s *Server) AddBot(ctx context.Context, guildID ID) error {
	now := s.clock.Now()
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil {
		s.world.mu.Unlock()
		return notFound("guild", guildID)
	}
	if g.BotPresent {
		s.world.mu.Unlock()
		return nil
	}
	joinBotLocked(s.world, g, now)
	s.world.mu.Unlock()

	// GUILD_CREATE depends on each session's intents, so encode per session.
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	var deliveries []gtDelivery
	s.hub.forGuild(guildID, func(sess *session) {
		s.world.mu.RLock()
		d := mustJSON(g.gatewayGuildLocked(sess.intents, sess.largeThreshold))
		s.world.mu.RUnlock()
		sess.mu.Lock()
		if !sess.dead {
			deliveries = append(deliveries, s.delivery(sess, sess.pushLocked("GUILD_CREATE", plain(d))))
		}
		sess.mu.Unlock()
	})
	s.gt.add(&event{at: now, guildID: guildID, typ: "GUILD_CREATE", key: idKey(guildID)}, deliveries)
	s.stats.dispatched("GUILD_CREATE", len(deliveries))
	return nil
}

// RemoveBot removes the bot from guildID and dispatches GUILD_DELETE
// (without `unavailable`, which is how Discord says "you were removed").
func (s *Server) RemoveBot(ctx context.Context, guildID ID) error {
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil || !g.BotPresent {
		s.world.mu.Unlock()
		return notFound("guild", guildID)
	}
	g.BotPresent = false
	g.removeMemberLocked(s.world.appID)
	s.world.mu.Unlock()
	d := mustJSON(map[string]any{"id": guildID})
	s.dispatch(event{guildID: guildID, typ: "GUILD_DELETE", key: idKey(guildID), intent: IntentGuilds, d: plain(d), at: s.clock.Now(), botRemoved: true})
	return nil
}

// CreateChannel adds a guild channel and dispatches CHANNEL_CREATE.
// typ must be a guild channel type (text, voice, category, announcement, forum, stage).
func (s *Server) CreateChannel(ctx context.Context, guildID ID, name string, typ int, parentID ID) (*Channel, error) {
	switch typ {
	case ChannelText, ChannelVoice, ChannelCategory, ChannelAnnouncement, ChannelForum, ChannelStage:
	default:
		return nil, invalid("channel type %d is not a guild channel type", typ)
	}
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil {
		s.world.mu.Unlock()
		return nil, notFound("guild", guildID)
	}
	c := &Channel{ID: s.clock.Snowflake(), Type: typ, Name: name, Position: len(g.Channels)}
	if parentID != 0 {
		p := s.world.channels[parentID]
		if p == nil || p.GuildID != guildID || p.Type != ChannelCategory {
			s.world.mu.Unlock()
			return nil, notFound("category", parentID)
		}
		c.ParentID = &parentID
	}
	switch typ {
	case ChannelVoice, ChannelStage:
		c.Bitrate = 64000
	case ChannelForum:
		c.AvailableTags = []any{}
	}
	s.world.addChannelLocked(g, c)
	d := mustJSON(c)
	out := *c
	s.world.mu.Unlock()
	s.dispatch(event{guildID: guildID, typ: "CHANNEL_CREATE", key: idKey(c.ID), intent: IntentGuilds, d: plain(d), at: s.clock.Now()})
	return &out, nil
}
