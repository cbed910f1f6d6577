package gateway

import (
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/snowflake/v2"

	"github.com/synapsehq/synapse/engine/lake"
)

// guildState is what capture needs to know about one guild, built from
// GUILD_CREATE and kept current by the events that change it. It is owned
// by the shard's read goroutine: no locking.
type guildState struct {
	*guildEntry
	afkChannel int64
	threads    map[int64]int64 // active thread channels, to their parent channel
	voice      map[int64]*voiceSession
	known      map[int64]knownMember // the members this shard saw in the guild (see noteMember, memberJoin)
	// history lists the channels with message history, as last seen by
	// this process (none for a guild restored from the database).
	history []snowflake.ID
}

// voiceSession is one member's current stretch in one voice channel.
type voiceSession struct {
	channel int64
	start   time.Time
	// mutedDeafAll stays true while the member has been self-muted and
	// self-deafened for the whole stretch.
	mutedDeafAll bool
}

func newGuildState(e *guildEntry) *guildState {
	return &guildState{guildEntry: e, threads: map[int64]int64{}, voice: map[int64]*voiceSession{}, known: map[int64]knownMember{}}
}

// knownMember is what a shard saw of a member still in the guild.
type knownMember struct {
	sig      uint64 // what it last recorded in the directory (see remember); 0: nothing yet
	joinedAt int64  // joined_at in Unix milliseconds; 0: unknown
	joined   bool   // this shard emitted the join of that joined_at
}

// addInFlight is how long a member's GUILD_MEMBER_ADD may trail other
// news of the member: a member list chunk served right after the join can
// reach the shard before the add itself does.
const addInFlight = time.Minute

// repeatedAdd reports whether a GUILD_MEMBER_ADD with this joined_at
// repeats what the shard knows: the join it emitted itself, or a member
// it saw in the guild (with no leave since) who joined well before now.
// A member seen only moments after joining may be seen before its add
// arrives: that add is the join.
func (g *guildState) repeatedAdd(user int64, joinedAt, now time.Time) bool {
	k, ok := g.known[user]
	if !ok || k.joinedAt == 0 || k.joinedAt != joinedAt.UnixMilli() {
		return false
	}
	return k.joined || joinedAt.Before(now.Add(-addInFlight))
}

// joined notes the join the shard emitted for a member.
func (g *guildState) joined(user int64, joinedAt time.Time) {
	k := g.known[user]
	k.joinedAt, k.joined = joinedAt.UnixMilli(), true
	g.keep(user, k)
}

// present notes that a member is in the guild, with its joined_at.
func (g *guildState) present(m discord.Member) {
	if m.JoinedAt == nil {
		return
	}
	k := g.known[int64(m.User.ID)]
	k.sawJoinedAt(m.JoinedAt.UnixMilli())
	g.keep(int64(m.User.ID), k)
}

// keep stores what the shard knows of a member, within maxMemberSigs.
func (g *guildState) keep(user int64, k knownMember) {
	if _, ok := g.known[user]; !ok && len(g.known) >= maxMemberSigs {
		clear(g.known)
	}
	g.known[user] = k
}

// sawJoinedAt records the member's joined_at: one other than the known
// is a new join, not emitted yet.
func (k *knownMember) sawJoinedAt(at int64) {
	if at != k.joinedAt {
		k.joinedAt, k.joined = at, false
	}
}

func (g *guildState) captures(t lake.Type) bool { return g.settings().Captures(t) }

// afkChannel reports whether time in ch counts as AFK.
func (g *guildState) isAFKChannel(ch int64) bool {
	return (g.afkChannel != 0 && ch == g.afkChannel) || g.settings().AFKChannels[ch]
}
