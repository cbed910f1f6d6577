package gateway

import (
	"time"

	"github.com/disgoorg/disgo/discord"

	"github.com/synapsehq/synapse/engine/lake"
)

// voice pairs VOICE_STATE_UPDATEs into joins, moves and leaves.
//
// A session is split at every move: voice_move and voice_leave each carry
// the duration of the stretch that just ended (magnitude, seconds) and
// FlagAFK when that stretch was in an AFK channel or spent self-muted and
// self-deafened throughout. Summing the magnitude of non-AFK moves and
// leaves gives a member's active voice time.
func (n *normalizer) voice(vs discord.VoiceState, bot bool) []lake.Event {
	g := n.guilds[int64(vs.GuildID)]
	if g == nil {
		return nil
	}
	user := int64(vs.UserID)
	now := n.now().UTC()
	cur := g.voice[user]
	mutedDeaf := vs.SelfMute && vs.SelfDeaf
	var out []lake.Event
	emit := func(t lake.Type, channel, target int64, magnitude int32, afk, startsMutedDeaf bool) {
		if !g.captures(t) {
			return
		}
		ev := lake.Event{TenantID: g.tenantID, GuildID: int64(vs.GuildID), OccurredAt: now, Type: t,
			UserID: user, ChannelID: channel, TargetID: target, Magnitude: magnitude}
		ev.SourceID = n.mint(now, user, int64(t), channel, target, n.seq)
		if afk {
			ev.Flags |= lake.FlagAFK
		}
		if bot {
			ev.Flags |= lake.FlagBot
		}
		if startsMutedDeaf {
			ev.Flags |= lake.FlagMutedDeaf
		}
		out = append(out, ev)
	}
	switch {
	case cur == nil && vs.ChannelID != nil:
		ch := int64(*vs.ChannelID)
		g.voice[user] = &voiceSession{channel: ch, start: now, mutedDeafAll: mutedDeaf}
		n.watch.setMutedDeaf(int64(vs.GuildID), user, mutedDeaf)
		emit(lake.VoiceJoin, ch, 0, 0, g.isAFKChannel(ch), mutedDeaf)
	case cur != nil && vs.ChannelID == nil:
		delete(g.voice, user)
		n.watch.forget(int64(vs.GuildID), user)
		emit(lake.VoiceLeave, cur.channel, 0, seconds(now.Sub(cur.start)), g.afk(cur), false)
	case cur != nil && int64(*vs.ChannelID) != cur.channel:
		ch := int64(*vs.ChannelID)
		emit(lake.VoiceMove, ch, cur.channel, seconds(now.Sub(cur.start)), g.afk(cur), mutedDeaf)
		g.voice[user] = &voiceSession{channel: ch, start: now, mutedDeafAll: mutedDeaf}
		n.watch.setMutedDeaf(int64(vs.GuildID), user, mutedDeaf)
	case cur != nil:
		// Same channel: mute or deafen changed.
		if cur.mutedDeafAll && !mutedDeaf {
			n.watch.activate(g.tenantID, int64(vs.GuildID), user, cur.start)
		}
		cur.mutedDeafAll = cur.mutedDeafAll && mutedDeaf
		n.watch.setMutedDeaf(int64(vs.GuildID), user, mutedDeaf)
	}
	return out
}

func (g *guildState) afk(s *voiceSession) bool { return s.mutedDeafAll || g.isAFKChannel(s.channel) }

// closeAllVoice ends every open session now, as leave events: used when a
// shard stops, so no session is left open with no end. Each leave ends the
// stretch so far (StaysInVoice): the member's next stretch starts at the
// leave, muted and deafened (FlagMutedDeaf) if the member is now, which
// the next owner restores.
func (n *normalizer) closeAllVoice() []lake.Event {
	now := n.now().UTC()
	var out []lake.Event
	for gid, g := range n.guilds {
		for user, s := range g.voice {
			if g.captures(lake.VoiceLeave) {
				out = append(out, lake.Event{TenantID: g.tenantID, GuildID: gid, OccurredAt: now, Type: lake.VoiceLeave,
					UserID: user, ChannelID: s.channel, Magnitude: seconds(now.Sub(s.start)),
					SourceID: n.mint(now, user, int64(lake.VoiceLeave), s.channel),
					Flags:    lake.FlagSynthetic | afkFlag(g.afk(s)) | mutedDeafFlag(n.watch.isMutedDeaf(gid, user, s)), StaysInVoice: true})
			}
			delete(g.voice, user)
			n.watch.forget(gid, user)
		}
	}
	return out
}

func afkFlag(afk bool) lake.Flags {
	if afk {
		return lake.FlagAFK
	}
	return 0
}

func seconds(d time.Duration) int32 {
	if d < 0 {
		return 0
	}
	return int32(d / time.Second)
}

// loadGuild (re)builds a guild's state from GUILD_CREATE: its AFK channel,
// active threads and who is in voice. Sessions restored from the database
// (restore) continue when the member is still in the same channel (no
// longer muted and deafened throughout if the member is not now); those
// that ended while nobody watched are closed, and members found in voice
// without a known session start one now. Both are marked synthetic: the
// gateway never said when they really began or ended.
func (n *normalizer) loadGuild(gg discord.GatewayGuild, e *guildEntry) []lake.Event {
	id := int64(gg.ID)
	g := n.guilds[id]
	if g == nil {
		g = newGuildState(e)
		n.guilds[id] = g
	}
	g.guildEntry = e
	g.afkChannel = 0
	if gg.AfkChannelID != nil {
		g.afkChannel = int64(*gg.AfkChannelID)
	}
	for _, t := range gg.Threads {
		g.threads[int64(t.ID())] = idOf(t.ParentID())
	}
	now := n.now().UTC()
	inVoice := map[int64]discord.VoiceState{}
	for _, vs := range gg.VoiceStates {
		if vs.ChannelID != nil {
			inVoice[int64(vs.UserID)] = vs
		}
	}
	var out []lake.Event
	synthetic := func(t lake.Type, user, channel int64, magnitude int32, flags lake.Flags) {
		if g.captures(t) {
			out = append(out, lake.Event{TenantID: g.tenantID, GuildID: id, OccurredAt: now, Type: t, UserID: user, ChannelID: channel,
				Magnitude: magnitude, Flags: flags | lake.FlagSynthetic, SourceID: n.mint(now, user, int64(t), channel)})
		}
	}
	for user, s := range g.voice {
		if vs, ok := inVoice[user]; ok && int64(*vs.ChannelID) == s.channel {
			mutedDeaf := vs.SelfMute && vs.SelfDeaf
			if s.mutedDeafAll && !mutedDeaf {
				n.watch.activate(g.tenantID, id, user, s.start)
			}
			s.mutedDeafAll = s.mutedDeafAll && mutedDeaf
			n.watch.setMutedDeaf(id, user, mutedDeaf)
			continue
		}
		synthetic(lake.VoiceLeave, user, s.channel, seconds(now.Sub(s.start)), afkFlag(g.afk(s)))
		delete(g.voice, user)
		n.watch.forget(id, user)
	}
	for user, vs := range inVoice {
		if _, ok := g.voice[user]; ok {
			continue
		}
		ch := int64(*vs.ChannelID)
		s := &voiceSession{channel: ch, start: now, mutedDeafAll: vs.SelfMute && vs.SelfDeaf}
		g.voice[user] = s
		n.watch.setMutedDeaf(id, user, s.mutedDeafAll)
		synthetic(lake.VoiceJoin, user, ch, 0, afkFlag(g.isAFKChannel(ch))|mutedDeafFlag(s.mutedDeafAll))
	}
	return out
}

// restore installs the guilds of a shard and their open voice sessions as
// recorded by the previous owner, before the connection opens.
func (n *normalizer) restore(guilds []shardGuild, sessions []lake.VoiceSession) {
	for _, sg := range guilds {
		st := newGuildState(sg.entry)
		st.afkChannel = sg.afkChannel
		n.guilds[sg.id] = st
	}
	for _, v := range sessions {
		if g := n.guilds[v.GuildID]; g != nil {
			g.voice[v.UserID] = &voiceSession{channel: v.ChannelID, start: v.StartedAt, mutedDeafAll: v.MutedDeaf}
			n.watch.setMutedDeaf(v.GuildID, v.UserID, v.MutedDeaf)
		}
	}
}

// voiceWatch is what the normalizer keeps of voice beyond the open
// stretches.
type voiceWatch struct {
	// mutedDeaf holds each member in voice's current self-mute and
	// self-deafen (both): the state a stretch begun now would start with.
	mutedDeaf map[[2]int64]bool
	// activated lists the stretches that stopped being muted and deafened
	// throughout in the dispatch just normalized, for the shard to record
	// with the open session once that dispatch is committed.
	activated []activeStretch
}

// activeStretch is an open stretch a member has not spent entirely
// self-muted and self-deafened.
type activeStretch struct {
	tenantID, guildID, userID int64
	start                     time.Time
}

func (w *voiceWatch) setMutedDeaf(guildID, userID int64, v bool) {
	if w.mutedDeaf == nil {
		w.mutedDeaf = map[[2]int64]bool{}
	}
	w.mutedDeaf[[2]int64{guildID, userID}] = v
}

func (w *voiceWatch) forget(guildID, userID int64) { delete(w.mutedDeaf, [2]int64{guildID, userID}) }

// isMutedDeaf is the member's current state; for a member never seen
// update, what the stretch says.
func (w *voiceWatch) isMutedDeaf(guildID, userID int64, s *voiceSession) bool {
	if v, ok := w.mutedDeaf[[2]int64{guildID, userID}]; ok {
		return v
	}
	return s.mutedDeafAll
}

func (w *voiceWatch) activate(tenantID, guildID, userID int64, start time.Time) {
	w.activated = append(w.activated, activeStretch{tenantID: tenantID, guildID: guildID, userID: userID, start: start})
}

// takeActivated returns and clears the stretches activated since last asked.
func (n *normalizer) takeActivated() []activeStretch {
	a := n.watch.activated
	n.watch.activated = nil
	return a
}

func mutedDeafFlag(v bool) lake.Flags {
	if v {
		return lake.FlagMutedDeaf
	}
	return 0
}
