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
}

// knownPresent reports whether the shard saw the member in the guild, with
// that joined_at, and no leave since.
func (g *guildState) knownPresent(user int64, joinedAt time.Time) bool {
	k, ok := g.known[user]
	return ok && k.joinedAt != 0 && k.joinedAt == joinedAt.UnixMilli()
}

// present notes that a member is in the guild, with its joined_at.
func (g *guildState) present(m discord.Member) {
	if m.JoinedAt == nil {
		return
	}
	if len(g.known) >= maxMemberSigs {
		clear(g.known)
	}
	k := g.known[int64(m.User.ID)]
	k.joinedAt = m.JoinedAt.UnixMilli()
	g.known[int64(m.User.ID)] = k
}

func (g *guildState) captures(t lake.Type) bool { return g.settings().Captures(t) }

// afkChannel reports whether time in ch counts as AFK.
func (g *guildState) isAFKChannel(ch int64) bool {
	return (g.afkChannel != 0 && ch == g.afkChannel) || g.settings().AFKChannels[ch]
}
