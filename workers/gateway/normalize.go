package gateway

import (
	"hash/maphash"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"

	"github.com/synapsehq/synapse/engine/lake"
)

// normalizer turns one shard's gateway events into lake events. It runs on
// the shard's read goroutine and holds that shard's guild state.
type normalizer struct {
	guilds map[int64]*guildState
	clock  discordClock
	seed   maphash.Seed
	// seq is the sequence number of the dispatch being normalized: part of
	// minted ids, so two events alike in every field, in the same
	// millisecond of the clock (a member leaving and rejoining a channel
	// during a fast replay), stay two rows.
	seq int64
	// watch is what voice keeps beyond the open stretches, and when the
	// connection watched (see voiceWatch).
	watch voiceWatch
	// expiredJoins are the joins skipped because the guild's retention no
	// longer keeps their day, for the shard to log and count.
	expiredJoins []expiredJoin
}

func newNormalizer(wall func() time.Time) *normalizer {
	return &normalizer{guilds: map[int64]*guildState{}, clock: discordClock{wall: wall}, seed: maphash.MakeSeed()}
}

func (n *normalizer) now() time.Time { return n.clock.now() }

// discordClock tells the time on Discord's side for events Discord does not
// timestamp (voice, reactions, leaves): the newest snowflake time seen,
// advanced by the local time elapsed since. Against Discord it is the wall
// clock corrected for skew and for how far behind the stream runs; against
// the simulator it follows simulated time, so voice durations and
// partitions agree with the messages around them even when a day is
// replayed in a minute.
type discordClock struct {
	wall   func() time.Time
	anchor time.Time // the newest snowflake's time
	seenAt time.Time // wall time when it arrived
}

func (c *discordClock) now() time.Time {
	w := c.wall()
	if c.anchor.IsZero() {
		return w
	}
	return c.anchor.Add(w.Sub(c.seenAt))
}

// observe re-anchors the clock on a newer snowflake, even one older than
// now(): when the stream falls behind (a backlog at Discord, a replay), a
// snowflake arrives later after its time than the previous one did, and
// the clock steps back to it. Measured from the old anchor instead,
// reactions and voice events were stamped (and their ids minted) seconds
// after the messages received with them, ever more as the backlog grew,
// which also scattered the lake's inserts across its natural-key index.
// Holding the clock until the stream caught up would be no better: events
// minted meanwhile would share one millisecond, and their ids only the
// low bits. A step back is as long as the stream fell behind since the
// previous message (a voice duration spanning it is clamped at 0).
func (c *discordClock) observe(t time.Time) {
	if c.anchor.IsZero() || t.After(c.anchor) {
		c.anchor, c.seenAt = t, c.wall()
	}
}

// mint makes a source id for an event Discord gives none: its time, and
// low bits that differ between the events of one millisecond.
func (n *normalizer) mint(at time.Time, parts ...int64) int64 {
	var h maphash.Hash
	h.SetSeed(n.seed)
	for _, p := range parts {
		var b [8]byte
		for i := range b {
			b[i] = byte(p >> (8 * i))
		}
		h.Write(b[:])
	}
	return lake.MintSnowflake(at, h.Sum64())
}

// stable mints with a fixed seed, for ids that must be the same in every
// process (a member join seen by two workers).
func stableMint(at time.Time, parts ...int64) int64 {
	var h uint64 = 1469598103934665603
	for _, p := range parts {
		for i := 0; i < 8; i++ {
			h ^= uint64(byte(p >> (8 * i)))
			h *= 1099511628211
		}
	}
	return lake.MintSnowflake(at, h)
}

// normalize returns the lake events an event produces (often none).
// seq distinguishes otherwise identical events within one session.
func (n *normalizer) normalize(ev gateway.EventData, seq int) []lake.Event {
	n.seq = int64(seq)
	switch e := ev.(type) {
	case gateway.EventMessageCreate:
		return n.message(e.Message)
	case gateway.EventMessageReactionAdd:
		if e.GuildID == nil {
			return nil
		}
		ev := lake.Event{Type: lake.ReactionAdd, UserID: int64(e.UserID), ChannelID: int64(e.ChannelID), MessageID: int64(e.MessageID),
			ParentID: n.threadParent(int64(*e.GuildID), int64(e.ChannelID))}
		if e.MessageAuthorID != nil {
			ev.TargetID = int64(*e.MessageAuthorID)
		}
		if e.Member != nil && e.Member.User.Bot {
			ev.Flags |= lake.FlagBot
		}
		return n.stamped(int64(*e.GuildID), ev, int64(e.MessageID), int64(seq))
	case gateway.EventMessageReactionRemove:
		if e.GuildID == nil {
			return nil
		}
		ev := lake.Event{Type: lake.ReactionRemove, UserID: int64(e.UserID), ChannelID: int64(e.ChannelID), MessageID: int64(e.MessageID),
			ParentID: n.threadParent(int64(*e.GuildID), int64(e.ChannelID))}
		return n.stamped(int64(*e.GuildID), ev, int64(e.MessageID), int64(seq))
	case gateway.EventThreadCreate:
		return n.thread(e)
	case gateway.EventVoiceStateUpdate:
		return n.voice(e.VoiceState, e.Member.User.Bot)
	case gateway.EventGuildMemberAdd:
		return n.memberJoin(e.Member)
	case gateway.EventGuildMemberRemove:
		ev := lake.Event{Type: lake.MemberLeave, UserID: int64(e.User.ID)}
		if e.User.Bot {
			ev.Flags |= lake.FlagBot
		}
		return n.stamped(int64(e.GuildID), ev, int64(e.User.ID), int64(seq))
	case gateway.EventChannelCreate:
		return nil
	}
	return nil
}

// threadParent is the parent channel of a thread the shard knows, else 0.
func (n *normalizer) threadParent(guildID, channelID int64) int64 {
	if g := n.guilds[guildID]; g != nil {
		return g.threads[channelID]
	}
	return 0
}

// stamped fills tenant, guild, time and a minted source id, and applies
// the guild's capture toggles.
func (n *normalizer) stamped(guildID int64, ev lake.Event, parts ...int64) []lake.Event {
	g := n.guilds[guildID]
	if g == nil || !g.captures(ev.Type) {
		return nil
	}
	ev.TenantID, ev.GuildID = g.tenantID, guildID
	ev.OccurredAt = n.now().UTC()
	ev.SourceID = n.mint(ev.OccurredAt, append(parts, int64(ev.Type), ev.UserID)...)
	return []lake.Event{ev}
}

func (n *normalizer) message(m discord.Message) []lake.Event {
	if m.GuildID == nil {
		return nil // DMs are not community activity
	}
	g := n.guilds[int64(*m.GuildID)]
	if g == nil || !g.captures(lake.MessageCreate) {
		return nil
	}
	n.clock.observe(m.ID.Time())
	parent, inThread := g.threads[int64(m.ChannelID)]
	ev, ok := messageEvent(m, g.tenantID, inThread, parent)
	if !ok {
		return nil
	}
	return []lake.Event{ev}
}

// messageEvent turns a guild message into its lake row; false for system
// messages (joins, pins, boosts). The text is measured and dropped here.
// inThread says m was posted in a thread the shard knows, and parent is
// that thread's parent channel.
func messageEvent(m discord.Message, tenantID int64, inThread bool, parent int64) (lake.Event, bool) {
	if m.GuildID == nil || (m.Type != discord.MessageTypeDefault && m.Type != discord.MessageTypeReply) {
		return lake.Event{}, false
	}
	q := lake.MeasureText(m.Content)
	mentions := len(m.Mentions) + len(m.MentionRoles)
	if m.MentionEveryone {
		mentions++
	}
	ev := lake.Event{
		TenantID: tenantID, GuildID: int64(*m.GuildID),
		OccurredAt: m.ID.Time().UTC(), SourceID: int64(m.ID), Type: lake.MessageCreate,
		UserID: int64(m.Author.ID), ChannelID: int64(m.ChannelID),
		Counts:    lake.PackCounts(q.CodeBlocks, q.Links, q.Emoji, len(m.Attachments), mentions),
		Magnitude: int32(q.Length),
	}
	if m.Author.Bot || m.WebhookID != nil {
		ev.Flags |= lake.FlagBot
	}
	if m.MessageReference != nil && m.Type == discord.MessageTypeReply {
		ev.Flags |= lake.FlagReply
		if m.ReferencedMessage != nil {
			ev.TargetID = int64(m.ReferencedMessage.Author.ID)
		}
	}
	if inThread {
		ev.Flags |= lake.FlagInThread
		ev.ParentID = parent
	}
	if len(m.Embeds) > 0 {
		ev.Flags |= lake.FlagEmbeds
	}
	if len(m.StickerItems) > 0 {
		ev.Flags |= lake.FlagSticker
	}
	return ev, true
}

func (n *normalizer) thread(e gateway.EventThreadCreate) []lake.Event {
	g := n.guilds[int64(e.GuildID())]
	if g == nil {
		return nil
	}
	g.threads[int64(e.ID())] = idOf(e.ParentID())
	n.clock.observe(e.ID().Time())
	if !e.NewlyCreated || !g.captures(lake.ThreadCreate) {
		return nil // also sent when the bot is added to an existing private thread
	}
	var parent int64
	if p := e.ParentID(); p != nil {
		parent = int64(*p)
	}
	return []lake.Event{{
		TenantID: g.tenantID, GuildID: int64(e.GuildID()), OccurredAt: e.ID().Time().UTC(),
		SourceID: int64(e.ID()), Type: lake.ThreadCreate, UserID: int64(e.OwnerID),
		ChannelID: parent, TargetID: int64(e.ID()),
	}}
}

// memberJoin turns a GUILD_MEMBER_ADD into a join, unless it is Discord
// sending the add again for a member already in the guild: one this shard
// knows present with the same joined_at (it saw the join, a member list
// or the member's activity, and no leave since), or one who joined before
// the bot did or before capture of the guild began. When the add arrives
// does not matter: a join replayed minutes late (a shard parked while the
// database stalled, a resume after an outage) is still a join. A repeat the shard cannot tell (another
// worker stored the join, this one restarted since) carries the same
// joined_at, so the same source id, and the lake's unique index keeps one.
func (n *normalizer) memberJoin(m discord.Member) []lake.Event {
	g := n.guilds[int64(m.GuildID)]
	if g == nil || !g.captures(lake.MemberJoin) {
		return nil
	}
	now := n.now().UTC()
	at := now
	if m.JoinedAt != nil {
		at = m.JoinedAt.UTC()
	}
	user := int64(m.User.ID)
	switch {
	case g.repeatedAdd(user, at, now):
		// Not emitted again: the lake would refuse it on its unique index,
		// but only by failing the whole batch's COPY.
		return nil
	case !g.botJoinedAt.IsZero() && at.Before(g.botJoinedAt),
		// Listed already when capture began (a shard that resumed another
		// worker's session has no member list to tell it).
		!g.captureSince.IsZero() && !at.After(g.captureSince):
		return nil
	case at.Before(retainedFrom(now, g.settings().RetentionDays)):
		// A join the guild's retention no longer keeps: stored, it would
		// recreate a lake partition retention already dropped.
		n.expiredJoins = append(n.expiredJoins, expiredJoin{guildID: int64(m.GuildID), userID: user, joinedAt: at})
		return nil
	}
	g.joined(user, at)
	ev := lake.Event{TenantID: g.tenantID, GuildID: int64(m.GuildID), OccurredAt: at, Type: lake.MemberJoin, UserID: user,
		// Minted from joined_at and the user, without a per-process seed,
		// so every worker and every replay agree.
		SourceID: stableMint(at, user),
	}
	if m.User.Bot {
		ev.Flags |= lake.FlagBot
	}
	return []lake.Event{ev}
}

// retainedFrom is the first UTC day a guild keeping days of data still
// holds (as the retention job computes it).
func retainedFrom(now time.Time, days int) time.Time {
	if days <= 0 {
		days = lake.DefaultRetentionDays
	}
	return now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -days)
}

// expiredJoin is a join older than its guild's retention, not stored.
type expiredJoin struct {
	guildID, userID int64
	joinedAt        time.Time
}

// takeExpiredJoins returns the joins skipped for retention since the last call.
func (n *normalizer) takeExpiredJoins() []expiredJoin {
	out := n.expiredJoins
	n.expiredJoins = nil
	return out
}

// idOf is *id, or 0 for nil.
func idOf(id *snowflake.ID) int64 {
	if id == nil {
		return 0
	}
	return int64(*id)
}
