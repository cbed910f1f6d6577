package discordsim

import (
	"context"
	"slices"
)

type memberAddWire struct {
	*Member
	GuildID ID `json:"guild_id"`
}

// MemberJoin creates a new synthetic user, adds them to the guild and
// dispatches GUILD_MEMBER_ADD. It returns the new user's ID.
func (s *Server) MemberJoin(ctx context.Context, guildID ID) (ID, error) {
	now := s.clock.Now()
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil {
		s.world.mu.Unlock()
		return 0, notFound("guild", guildID)
	}
	s.rngMu.Lock()
	u := newSyntheticUser(s.world, s.rng, s.clock, now)
	s.rngMu.Unlock()
	m := &Member{User: u, JoinedAt: now, Roles: []ID{}}
	g.Members[u.ID] = m
	g.MemberOrder = append(g.MemberOrder, u.ID)
	d := s.encodeMemberAdd(m, guildID)
	s.world.mu.Unlock()
	s.dispatch(event{guildID: guildID, typ: "GUILD_MEMBER_ADD", key: pairKey(guildID, u.ID), intent: IntentGuildMembers, d: plain(d), at: now})
	return u.ID, nil
}

// RepeatMemberAdd re-sends GUILD_MEMBER_ADD for an existing member, as
// Discord occasionally does. The record is marked Repeat.
func (s *Server) RepeatMemberAdd(ctx context.Context, guildID, userID ID) error {
	s.world.mu.RLock()
	g := s.world.guilds[guildID]
	if g == nil || g.Members[userID] == nil {
		s.world.mu.RUnlock()
		return notFound("member", userID)
	}
	d := s.encodeMemberAdd(g.Members[userID], guildID)
	s.world.mu.RUnlock()
	s.dispatch(event{guildID: guildID, typ: "GUILD_MEMBER_ADD", key: pairKey(guildID, userID),
		intent: IntentGuildMembers, d: plain(d), repeat: true, at: s.clock.Now()})
	return nil
}

// MemberLeave removes a member (ending any voice session first, as Discord
// does) and dispatches GUILD_MEMBER_REMOVE.
func (s *Server) MemberLeave(ctx context.Context, guildID, userID ID) error {
	if userID == s.AppID() {
		return invalid("use RemoveBot to remove the bot")
	}
	s.world.mu.RLock()
	g := s.world.guilds[guildID]
	inVoice := g != nil && g.Voice[userID] != nil
	s.world.mu.RUnlock()
	if inVoice {
		if err := s.VoiceLeave(ctx, guildID, userID); err != nil {
			return err
		}
	}
	s.world.mu.Lock()
	if g == nil || g.Members[userID] == nil {
		s.world.mu.Unlock()
		return notFound("member", userID)
	}
	if g.OwnerID == userID {
		s.world.mu.Unlock()
		return invalid("the owner cannot leave guild %s", guildID)
	}
	u := g.Members[userID].User
	g.removeMemberLocked(userID)
	d := s.encodeMemberRemove(guildID, u)
	s.world.mu.Unlock()
	s.dispatch(event{guildID: guildID, typ: "GUILD_MEMBER_REMOVE", key: pairKey(guildID, userID), intent: IntentGuildMembers, d: plain(d), at: s.clock.Now()})
	return nil
}

// SetMemberRole adds or removes a role and dispatches GUILD_MEMBER_UPDATE.
func (s *Server) SetMemberRole(ctx context.Context, guildID, userID, roleID ID, add bool) error {
	s.world.mu.Lock()
	g := s.world.guilds[guildID]
	if g == nil {
		s.world.mu.Unlock()
		return notFound("guild", guildID)
	}
	m := g.Members[userID]
	if m == nil {
		s.world.mu.Unlock()
		return notFound("member", userID)
	}
	if g.role(roleID) == nil || roleID == guildID {
		s.world.mu.Unlock()
		return notFound("role", roleID)
	}
	has := slices.Contains(m.Roles, roleID)
	switch {
	case add && !has:
		m.Roles = append(m.Roles, roleID)
	case !add && has:
		m.Roles = slices.DeleteFunc(m.Roles, func(r ID) bool { return r == roleID })
	default:
		s.world.mu.Unlock()
		return nil // Discord answers 204 and sends nothing when nothing changed
	}
	d := s.encodeMemberAdd(m, guildID)
	s.world.mu.Unlock()
	s.dispatch(event{guildID: guildID, typ: "GUILD_MEMBER_UPDATE", key: pairKey(guildID, userID), intent: IntentGuildMembers, d: plain(d), at: s.clock.Now()})
	return nil
}
