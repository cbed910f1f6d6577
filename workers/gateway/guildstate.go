package gateway

import (
	"time"

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
	memberSigs map[int64]uint64    // what this shard last recorded per member (see noteMember)
	joins      map[int64]time.Time // joined_at of the joins this shard emitted lately (see memberJoin)
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
	return &guildState{guildEntry: e, threads: map[int64]int64{}, voice: map[int64]*voiceSession{}, memberSigs: map[int64]uint64{}, joins: map[int64]time.Time{}}
}

func (g *guildState) captures(t lake.Type) bool { return g.settings().Captures(t) }

// afkChannel reports whether time in ch counts as AFK.
func (g *guildState) isAFKChannel(ch int64) bool {
	return (g.afkChannel != 0 && ch == g.afkChannel) || g.settings().AFKChannels[ch]
}
