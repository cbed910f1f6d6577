package gateway

import (
	"hash/fnv"
	"strconv"

	"github.com/disgoorg/disgo/discord"
)

// Discord lists only the bot and members in voice in GUILD_CREATE unless
// the bot has GUILD_PRESENCES, which Synapse never asks for. So members'
// roles and names also come from the member objects that messages,
// reactions and voice updates carry: the acting member, whose roles the
// rules and milestones are about to read. A shard remembers a signature
// of what it last recorded per member and queues an upsert only when it
// differs (once per active member per session, then on change).

// maxMemberSigs bounds the signatures kept per guild; past it they are
// forgotten, which only costs repeated upserts.
const maxMemberSigs = 50000

// noteMember records an event's member object when it differs from what
// this shard last recorded for that member. user fills a message's
// member, which Discord sends without its user.
func (s *shardRun) noteMember(guildID int64, m *discord.Member, user *discord.User) {
	g := s.norm.guilds[guildID]
	if g == nil || m == nil {
		return
	}
	mm := *m
	if user != nil {
		mm.User = *user
	}
	if mm.User.ID == 0 || !s.remember(g, mm) {
		return
	}
	s.queueMembers(memberUpdate{tenantID: g.tenantID, guildID: guildID, members: []discord.Member{mm}})
}

// remember stores the member's signature, and that it is in the guild
// with its joined_at; false if the signature was already known.
func (s *shardRun) remember(g *guildState, m discord.Member) bool {
	sig := memberSig(m)
	id := int64(m.User.ID)
	old, ok := g.known[id]
	if ok && old.sig == sig {
		return false
	}
	k := old
	k.sig = sig
	if m.JoinedAt != nil {
		k.sawJoinedAt(m.JoinedAt.UnixMilli())
	}
	g.keep(id, k)
	return true
}

// memberSig covers what the members table keeps of a member.
func memberSig(m discord.Member) uint64 {
	h := fnv.New64a()
	var buf [256]byte // most members fit: no allocation
	b := buf[:0]
	b = strconv.AppendInt(b, int64(m.User.ID), 10)
	b = append(b, 0)
	b = append(b, displayName(m)...)
	b = append(b, 0)
	for _, r := range m.RoleIDs {
		b = strconv.AppendInt(b, int64(r), 10)
		b = append(b, ',')
	}
	if m.JoinedAt != nil {
		b = strconv.AppendInt(b, m.JoinedAt.UnixMilli(), 10)
	}
	if m.User.Bot {
		b = append(b, 'b')
	}
	h.Write(b)
	return h.Sum64()
}
