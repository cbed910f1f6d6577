package gateway

import (
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
)

// followDirectory hands what an event tells about the guild directory
// (members, their roles and names, channels, roles) to the directory sync.
// It runs on the read loop and only queues.
func (s *shardRun) followDirectory(ev gateway.EventData, now time.Time) {
	switch e := ev.(type) {
	case gateway.EventMessageCreate:
		if e.GuildID != nil && e.WebhookID == nil {
			s.noteMember(int64(*e.GuildID), e.Member, &e.Author)
		}
	case gateway.EventMessageReactionAdd:
		if e.GuildID != nil {
			s.noteMember(int64(*e.GuildID), e.Member, nil)
		}
	case gateway.EventVoiceStateUpdate:
		s.noteMember(int64(e.GuildID), &e.Member, nil)
	case gateway.EventGuildMemberAdd:
		if g := s.norm.guilds[int64(e.GuildID)]; g != nil {
			s.remember(g, e.Member)
			s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: int64(e.GuildID), members: []discord.Member{e.Member}})
		}
	case gateway.EventGuildMembersChunk: // a requested member list
		if g := s.norm.guilds[int64(e.GuildID)]; g != nil && len(e.Members) > 0 {
			for _, m := range e.Members {
				s.remember(g, m)
			}
			s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: int64(e.GuildID), members: e.Members})
		}
	case gateway.EventGuildMemberUpdate: // roles, nickname
		if g := s.norm.guilds[int64(e.GuildID)]; g != nil {
			s.remember(g, e.Member)
			s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: int64(e.GuildID), members: []discord.Member{e.Member}})
		}
	case gateway.EventChannelCreate:
		s.queueChannel(e.GuildChannel, false)
		s.noteHistory(e.GuildChannel, false)
	case gateway.EventChannelUpdate:
		s.queueChannel(e.GuildChannel, false)
	case gateway.EventChannelDelete:
		s.queueChannel(e.GuildChannel, true)
		s.noteHistory(e.GuildChannel, true)
	case gateway.EventGuildRoleCreate:
		if g := s.norm.guilds[int64(e.GuildID)]; g != nil {
			s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: int64(e.GuildID), role: roleRow(int64(e.GuildID), e.Role)})
		}
	case gateway.EventGuildRoleUpdate:
		if g := s.norm.guilds[int64(e.GuildID)]; g != nil {
			s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: int64(e.GuildID), role: roleRow(int64(e.GuildID), e.Role)})
		}
	case gateway.EventGuildRoleDelete:
		if g := s.norm.guilds[int64(e.GuildID)]; g != nil {
			s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: int64(e.GuildID), roleDeleted: int64(e.RoleID)})
		}
	case gateway.EventGuildMemberRemove:
		if g := s.norm.guilds[int64(e.GuildID)]; g != nil {
			delete(g.known, int64(e.User.ID))
			s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: int64(e.GuildID), left: int64(e.User.ID), at: now})
		}
	}
}

// queueChannel hands a guild channel's creation, update or deletion to the
// directory sync (threads are not kept).
func (s *shardRun) queueChannel(c discord.GuildChannel, deleted bool) {
	if c == nil {
		return
	}
	if _, thread := c.(discord.GuildThread); thread {
		return
	}
	g := s.norm.guilds[int64(c.GuildID())]
	if g == nil {
		return
	}
	u := memberUpdate{tenantID: g.tenantID, guildID: int64(c.GuildID())}
	if deleted {
		u.channelDeleted = int64(c.ID())
	} else {
		row := channelRow(u.guildID, c)
		u.channel = &row
	}
	s.queueMembers(u)
}
