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
//
// A stretch ends when the shard learns of it, except in the replay of a
// long gap (see voiceClock): the stretch is paid up to where the gap began,
// and the next one starts when the replay is read.
func (n *normalizer) voice(vs discord.VoiceState, bot bool) []lake.Event {
	g := n.guilds[int64(vs.GuildID)]
	if g == nil {
		return nil
	}
	user := int64(vs.UserID)
	now, end := n.voiceClock()
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
		emit(lake.VoiceLeave, cur.channel, 0, seconds(end.Sub(cur.start)), g.afk(cur), false)
	case cur != nil && int64(*vs.ChannelID) != cur.channel:
		ch := int64(*vs.ChannelID)
		emit(lake.VoiceMove, ch, cur.channel, seconds(end.Sub(cur.start)), g.afk(cur), mutedDeaf)
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
// the next owner restores. live says the connection was up and ready
// until the stop; one that was not (reconnecting for longer than
// observedGap, or replaying a long gap) pays each stretch only up to when
// it last watched.
func (n *normalizer) closeAllVoice(live bool) []lake.Event {
	now, end := n.voiceClock()
	if !live && n.watch.started && !n.watch.replaying && now.Sub(n.watch.seen) > observedGap {
		end = n.watch.seen.UTC()
	}
	var out []lake.Event
	for gid, g := range n.guilds {
		watched := end
		if u, ok := n.watch.unwatched[gid]; ok && u.Before(watched) {
			watched = u.UTC() // READY came, its GUILD_CREATE not yet
		}
		for user, s := range g.voice {
			if g.captures(lake.VoiceLeave) {
				at := latest(s.start, watched)
				out = append(out, lake.Event{TenantID: g.tenantID, GuildID: gid, OccurredAt: at, Type: lake.VoiceLeave,
					UserID: user, ChannelID: s.channel, Magnitude: seconds(at.Sub(s.start)),
					SourceID: n.mint(at, user, int64(lake.VoiceLeave), s.channel),
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
// active threads and who is in voice, and reconciles the sessions known
// from before (restored from the database, or open when the previous
// connection ended) with it. Synthetic events are marked so: the gateway
// never said when those sessions really began or ended.
//
// The time between when the shard last watched the guild and this
// GUILD_CREATE is not paid when it is longer than observedGap (a restart,
// a session that could not be resumed): a session that ended meanwhile
// is paid up to when it was last watched, and a member still in the same
// channel is paid for the watched part of the stretch (a synthetic leave
// that keeps the member in voice) and starts a new stretch now. After a
// short gap, sessions continue, and those that ended are closed now.
// Members found in voice without a known session start one now.
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
	watched, unwatched := n.watch.unwatched[id]
	delete(n.watch.unwatched, id)
	inVoice := map[int64]discord.VoiceState{}
	for _, vs := range gg.VoiceStates {
		if vs.ChannelID != nil {
			inVoice[int64(vs.UserID)] = vs
		}
	}
	var out []lake.Event
	synthetic := func(t lake.Type, user, channel int64, magnitude int32, flags lake.Flags, stays bool) {
		if g.captures(t) {
			out = append(out, lake.Event{TenantID: g.tenantID, GuildID: id, OccurredAt: now, Type: t, UserID: user, ChannelID: channel,
				Magnitude: magnitude, Flags: flags | lake.FlagSynthetic, SourceID: n.mint(now, user, int64(t), channel), StaysInVoice: stays})
		}
	}
	for user, s := range g.voice {
		until := now // the stretch was watched up to then
		if unwatched {
			until = latest(s.start, watched.UTC())
		}
		lost := now.Sub(until) > observedGap
		vs, present := inVoice[user]
		present = present && int64(*vs.ChannelID) == s.channel
		mutedDeaf := present && vs.SelfMute && vs.SelfDeaf
		switch {
		case present && !lost:
			if s.mutedDeafAll && !mutedDeaf {
				n.watch.activate(g.tenantID, id, user, s.start)
			}
			s.mutedDeafAll = s.mutedDeafAll && mutedDeaf
			n.watch.setMutedDeaf(id, user, mutedDeaf)
		case present:
			synthetic(lake.VoiceLeave, user, s.channel, seconds(until.Sub(s.start)), afkFlag(g.afk(s))|mutedDeafFlag(mutedDeaf), true)
			g.voice[user] = &voiceSession{channel: s.channel, start: now, mutedDeafAll: mutedDeaf}
			n.watch.setMutedDeaf(id, user, mutedDeaf)
		default:
			if !lost {
				until = now
			}
			synthetic(lake.VoiceLeave, user, s.channel, seconds(until.Sub(s.start)), afkFlag(g.afk(s)), false)
			delete(g.voice, user)
			n.watch.forget(id, user)
		}
	}
	for user, vs := range inVoice {
		if _, ok := g.voice[user]; ok {
			continue
		}
		ch := int64(*vs.ChannelID)
		s := &voiceSession{channel: ch, start: now, mutedDeafAll: vs.SelfMute && vs.SelfDeaf}
		g.voice[user] = s
		n.watch.setMutedDeaf(id, user, s.mutedDeafAll)
		synthetic(lake.VoiceJoin, user, ch, 0, afkFlag(g.isAFKChannel(ch))|mutedDeafFlag(s.mutedDeafAll), false)
	}
	return out
}

// guildUpdate follows a GUILD_UPDATE: a new AFK channel applies from now.
// The stretches of members in the old or the new AFK channel end now
// (synthetic leaves that keep them in voice), so the time before the
// change keeps the AFK status it had. It reports whether the AFK channel
// changed.
func (n *normalizer) guildUpdate(gg discord.GatewayGuild) ([]lake.Event, bool) {
	id := int64(gg.ID)
	g := n.guilds[id]
	afk := idOf(gg.AfkChannelID)
	if g == nil || afk == g.afkChannel {
		return nil, false
	}
	now, end := n.voiceClock()
	var out []lake.Event
	for user, s := range g.voice {
		if s.channel != g.afkChannel && s.channel != afk {
			continue
		}
		mutedDeaf := n.watch.isMutedDeaf(id, user, s)
		if g.captures(lake.VoiceLeave) {
			out = append(out, lake.Event{TenantID: g.tenantID, GuildID: id, OccurredAt: now, Type: lake.VoiceLeave,
				UserID: user, ChannelID: s.channel, Magnitude: seconds(end.Sub(s.start)),
				SourceID: n.mint(now, user, int64(lake.VoiceLeave), s.channel, n.seq),
				Flags:    lake.FlagSynthetic | afkFlag(g.afk(s)) | mutedDeafFlag(mutedDeaf), StaysInVoice: true})
		}
		g.voice[user] = &voiceSession{channel: s.channel, start: now, mutedDeafAll: mutedDeaf}
	}
	g.afkChannel = afk
	return out, true
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

// observedGap is how long the shard may go without watching its guilds
// before that time stops counting as voice time. Time nobody watched is
// never paid: a member who left during it left at some unknown moment, and
// one seen in voice after it may have left and come back. Shorter gaps (a
// connection resumed within seconds) are taken as watched, as they always
// were. It must exceed Discord's heartbeat interval (41.25 s): a quiet
// connection hears from Discord only once per heartbeat.
const observedGap = time.Minute

// voiceWatch is what the normalizer knows of when its connection watched
// the guilds' voice channels, and what it keeps of voice beyond the open
// stretches.
type voiceWatch struct {
	// started: seen holds at least the previous owner's last event (see
	// startWatch).
	started bool
	// seen is the Discord time the connection last delivered something
	// live: a dispatch or a heartbeat ACK of a ready session.
	seen time.Time
	// unwatched holds the guilds waiting for a GUILD_CREATE to reconcile
	// their voice (after READY, or an outage), with the time each was
	// last watched (zero: unknown, e.g. a first start without checkpoint).
	unwatched map[int64]time.Time
	// replaying: a resumed session is replaying what it missed; gap is set
	// when that was longer than observedGap.
	replaying bool
	gap       *replayGap
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

// replayGap is the replay of a long gap by a resumed session: the events
// it replays happened between from and the replay, nobody knows when.
type replayGap struct {
	from time.Time // last watched before the gap
	at   time.Time // Discord time when the replay began
	wall time.Time // wall time then
}

// now is the Discord time while the replay is read: the clock as it was
// before the replay (replayed messages step it back to their time).
func (r *replayGap) now(wall time.Time) time.Time { return r.at.Add(wall.Sub(r.wall)) }

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

// startWatch sets, once, when the shard's guilds were last watched before
// this run: the previous owner's last committed event (zero if unknown).
// A stop (SIGTERM) also left each open session starting at the moment it
// stopped, which counts as watched too (see loadGuild).
func (n *normalizer) startWatch(lastEventAt time.Time) {
	if !n.watch.started {
		n.watch.started, n.watch.seen = true, lastEventAt
	}
}

// delivered notes that the connection delivered a dispatch or heartbeat
// ACK, before it is normalized. ready: the session is ready (a live
// event); replaying: it is resuming, and this replays what it missed.
// Neither (a heartbeat during a handshake) says nothing.
func (n *normalizer) delivered(ready, replaying bool) {
	switch {
	case replaying && !n.watch.replaying:
		n.watch.replaying = true
		if now := n.now(); now.Sub(n.watch.seen) > observedGap {
			n.watch.gap = &replayGap{from: n.watch.seen, at: now, wall: n.clock.wall()}
		}
	case ready:
		n.endReplay()
		n.watch.seen = n.now()
	}
}

// endReplay ends a replay. After a long gap the clock, which replayed
// messages stepped back to their time, catches up with the present.
func (n *normalizer) endReplay() {
	if r := n.watch.gap; r != nil {
		if t := r.now(n.clock.wall()); n.clock.now().Before(t) {
			n.clock.anchor, n.clock.seenAt = t, n.clock.wall()
		}
	}
	n.watch.replaying, n.watch.gap = false, nil
}

// newSession follows READY: a new session, whose GUILD_CREATEs will tell
// who is in voice. Until then each known guild was last watched when the
// connection last delivered something. Call before delivered.
func (n *normalizer) newSession() {
	n.endReplay()
	for id := range n.guilds {
		n.unwatch(id, n.watch.seen)
	}
}

// guildUnavailable follows a GUILD_DELETE for an outage: the guild is not
// watched until its GUILD_CREATE.
func (n *normalizer) guildUnavailable(id int64) {
	if n.guilds[id] != nil {
		_, watched := n.voiceClock()
		n.unwatch(id, watched)
	}
}

func (n *normalizer) unwatch(id int64, since time.Time) {
	if n.watch.unwatched == nil {
		n.watch.unwatched = map[int64]time.Time{}
	}
	if _, ok := n.watch.unwatched[id]; !ok {
		n.watch.unwatched[id] = since
	}
}

// voiceClock tells when a voice event happened: now, the time a stretch it
// begins starts at; and until when a stretch it ends was watched, the time
// that stretch is paid up to. Both are the clock's now, except while a
// long gap is replayed: the event then happened after the gap began (or
// after the newest message replayed since) and before the replay, and
// only what surely came before it is paid.
func (n *normalizer) voiceClock() (now, watched time.Time) {
	r := n.watch.gap
	if r == nil {
		now = n.now().UTC()
		return now, now
	}
	now = r.now(n.clock.wall()).UTC()
	watched = latest(r.from, n.clock.anchor).UTC()
	if watched.After(now) {
		watched = now
	}
	return now, watched
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func mutedDeafFlag(v bool) lake.Flags {
	if v {
		return lake.FlagMutedDeaf
	}
	return 0
}
