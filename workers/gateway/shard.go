package gateway

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
	"github.com/gorilla/websocket"

	"github.com/synapsehq/synapse/engine/lake"
)

// Resume is a persisted gateway session a shard can continue instead of
// identifying again (after a handoff between workers).
type Resume struct {
	SessionID   string
	ResumeURL   string
	Seq         int64
	LastEventAt time.Time // when the last committed event was received
	// GapSince is when a gap began that the previous owner had not
	// finished backfilling (zero: none).
	GapSince time.Time
}

// shardRun is one shard's gateway connection and capture state.
type shardRun struct {
	id, count int
	fence     int64
	w         *Worker
	gw        gateway.Gateway
	norm      *normalizer
	log       *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	mu            sync.Mutex
	committedSeq  int64
	committedCond *sync.Cond
	lastSeq       int64 // last sequence handed to the pipeline (read loop only)
	// Read loop only: the session being captured, when its last event
	// happened (Discord time), the backfill of the gap before it when it
	// could not be resumed, and the guilds of that gap whose GUILD_CREATE
	// has not come yet (it may name channels the backfill does not read
	// yet).
	session     string
	lastEventAt time.Time
	gap         *gapFill
	gapGuilds   map[int64]bool
	// pendingGap is the gap whose backfill is not done yet: every
	// checkpoint carries when it began until it is (see gapFill.check).
	pendingGap atomic.Pointer[gapFill]
	isFenced   atomic.Bool
	// orphanClosing: the gateway of a run that is over is being closed
	orphanClosing atomic.Bool
	// parkMu guards reopening: a parked shard is resuming (see park.go).
	parkMu    sync.Mutex
	reopening bool
	lastEvent atomic.Int64 // unix ms of the last dispatch
	live      atomic.Bool  // the session delivered its first dispatch (see markLive)
	members   chan memberUpdate
	// guilds whose member list to request (see requestMembers)
	memberRequests chan int64
}

func (s *shardRun) committed(seq int64) {
	s.mu.Lock()
	if seq > s.committedSeq {
		s.committedSeq = seq
	}
	s.mu.Unlock()
	s.committedCond.Broadcast()
}

func (s *shardRun) fenced() {
	if s.isFenced.CompareAndSwap(false, true) {
		s.log.Warn("shard fenced: another worker owns it now")
		s.cancel()
		s.committedCond.Broadcast()
	}
}

// waitCommitted blocks until the pipeline committed everything up to seq,
// the shard is fenced, or ctx ends.
func (s *shardRun) waitCommitted(ctx context.Context, seq int64) bool {
	stop := context.AfterFunc(ctx, s.committedCond.Broadcast)
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.committedSeq < seq && !s.isFenced.Load() && ctx.Err() == nil {
		s.committedCond.Wait()
	}
	return s.committedSeq >= seq
}

// handle runs on the gateway's read goroutine for every dispatch. It does
// only in-memory work, plus a database round trip when a guild first
// appears, and hands the result to the pipeline.
func (s *shardRun) handle(gw gateway.Gateway, t gateway.EventType, seq int, ev gateway.EventData) {
	if s.isFenced.Load() || s.ctx.Err() != nil {
		// This run is over (stopped, dropped, fenced, or its start failed)
		// but its gateway is still connected: disgo reconnects on its own
		// after a zombie or RECONNECT. Close it rather than let it hold
		// the session (a resume here ends the next owner's connection)
		// while every event it reads is thrown away.
		if s.orphanClosing.CompareAndSwap(false, true) {
			go func() {
				gw.CloseWithCode(context.Background(), websocket.CloseServiceRestart, "shard no longer runs here")
				s.orphanClosing.Store(false)
			}()
		}
		return
	}
	now := time.Now()
	s.lastEvent.Store(now.UnixMilli())
	if t != gateway.EventTypeHeartbeatAck && s.live.CompareAndSwap(false, true) {
		go s.markLive()
	}
	// What the connection watched, for voice time (see voiceWatch): READY
	// starts a new session, a resuming one replays what it missed.
	s.norm.startWatch(s.lastEventAt)
	if _, ok := ev.(gateway.EventReady); ok {
		s.norm.newSession()
	}
	status := gw.Status()
	s.norm.delivered(status == gateway.StatusReady, status == gateway.StatusResuming)
	var reconciled []lake.Event
	switch e := ev.(type) {
	case gateway.EventReady:
		// A new session after another one: Discord will not replay the gap.
		if s.session != "" && e.SessionID != s.session && !s.lastEventAt.IsZero() {
			s.log.Warn("session could not be resumed; backfilling messages of the gap", slog.Time("since", s.lastEventAt))
			s.startGap(e.Guilds)
		}
		s.session = e.SessionID
		s.leaveGuildsMissingFrom(e.Guilds, now)
	case gateway.EventResumed:
		s.resumeGap()
	case gateway.EventGuildCreate:
		// The gap's backfill first: it needs no database round trip when
		// the guild's tenant is known (restored by LoadShard or seen
		// before), and a message of the gap is in history only until
		// someone deletes it.
		gapGuild := s.gapGuilds[int64(e.ID)]
		gapUnfilled := gapGuild
		delete(s.gapGuilds, int64(e.ID))
		if g := s.norm.guilds[int64(e.ID)]; gapUnfilled && g != nil {
			tenant, channels := g.tenantID, historyChannels(e.Channels)
			s.gap.launch(func(f *gapFill) { f.fill(s.ctx, e.ID, tenant, channels) })
			gapUnfilled = false
		}
		entry, err := s.registerGuild(e.GatewayGuild, now)
		if err != nil {
			if gapGuild {
				s.gap.seen()
			}
			break
		}
		reconciled = s.norm.loadGuild(e.GatewayGuild, entry)
		g := s.norm.guilds[int64(e.ID)]
		g.history = historyChannels(e.Channels)
		for _, m := range e.Members {
			g.present(m) // present, though not recorded by this shard yet (see noteMember)
		}
		s.queueMembers(memberUpdate{tenantID: entry.tenantID, guildID: int64(e.ID), guild: guildListsOf(e.GatewayGuild)})
		s.queueMembers(memberUpdate{tenantID: entry.tenantID, guildID: int64(e.ID), members: e.Members})
		if needsMemberList(e.GatewayGuild) {
			s.queueMemberRequest(int64(e.ID))
		}
		if gapUnfilled { // a guild of the gap this shard had not seen: its tenant is known now
			channels := historyChannels(e.Channels)
			s.gap.launch(func(f *gapFill) { f.fill(s.ctx, e.ID, entry.tenantID, channels) })
		}
		if gapGuild {
			s.gap.seen() // after its fill launched: the gap is not done before that fill is
		}
	case gateway.EventInteractionCreate:
		if ai, ok := e.Interaction.(discord.ApplicationCommandInteraction); ok && s.w.cfg.Commands != nil {
			// Discord wants an answer within 3 s; never hold the read loop for it.
			go s.w.cfg.Commands.Handle(s.ctx, ai)
		}
	case gateway.EventGuildUpdate:
		var afkChanged bool
		if reconciled, afkChanged = s.norm.guildUpdate(e.GatewayGuild); afkChanged {
			s.recordAFKChannel(int64(e.ID), idOf(e.AfkChannelID))
		}
	case gateway.EventGuildDelete:
		if !e.Unavailable { // the bot was removed, not an outage
			s.guildRemoved(int64(e.ID), now)
			if s.gapGuilds[int64(e.ID)] { // its GUILD_CREATE will not come: nothing of it to read
				delete(s.gapGuilds, int64(e.ID))
				s.gap.seen()
			}
		} else {
			s.norm.guildUnavailable(int64(e.ID))
		}
	}
	if t == gateway.EventTypeHeartbeatAck || seq == 0 {
		s.followDirectory(ev, now)
		return
	}
	// Normalized before the directory follows the event: a member add is
	// a join unless the shard knew the member present already, and
	// following it records the member.
	events := s.norm.normalize(ev, seq)
	if len(reconciled) > 0 { // rare: copying every dispatch's events was an allocation each
		events = append(reconciled, events...)
	}
	it := item{shard: s, events: events, seq: int64(seq), received: now}
	s.followDirectory(ev, now)
	for _, j := range s.norm.takeExpiredJoins() {
		s.w.expiredJoins.Inc()
		s.log.Warn("member join older than the guild's retention; not stored", slog.Int64("guild_id", j.guildID),
			slog.Int64("user_id", j.userID), slog.Time("joined_at", j.joinedAt))
	}
	if len(it.events) > 0 {
		s.lastEventAt = s.norm.now()
	}
	if sid := gw.SessionID(); sid != nil {
		it.session = *sid
	}
	it.gapSince = s.gapSince()
	if u := gw.ResumeURL(); u != nil {
		it.resume = *u
	}
	s.lastSeq = int64(seq)
	if s.w.pipe.Trace != nil {
		s.w.pipe.Trace("R", s.id, it.session, it.seq, len(it.events))
	}
	if err := s.w.pipe.submit(s.ctx, it); err != nil {
		s.log.Warn("shard stopping with a dispatch not handed over; it will be replayed on resume", slog.Int("seq", seq))
	}
	for _, a := range s.norm.takeActivated() {
		go s.recordActive(it.seq, a)
	}
}

// recordActive records, once the dispatch at seq is committed (and with it
// the stretch's own row), that a member's open stretch is no longer muted
// and deafened throughout: a worker that takes the shard over after this
// one is killed restores it so, instead of the state the stretch began
// with. The stretch is named by its start, so a stretch that ended or was
// split meanwhile is left alone (a stop records the current state itself).
func (s *shardRun) recordActive(seq int64, a activeStretch) {
	if !s.waitCommitted(s.ctx, seq) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
	defer cancel()
	if err := lake.MarkVoiceSessionActive(ctx, s.w.dir.pool, a.tenantID, a.guildID, a.userID, a.start); err != nil {
		s.log.Warn("record voice session unmuted", slog.Int64("guild_id", a.guildID), slog.Any("err", err))
	}
}

// recordAFKChannel stores a guild's new AFK channel (GUILD_UPDATE), where
// a restored shard and the milestones read it. Rare: done on the read loop.
func (s *shardRun) recordAFKChannel(guildID, channelID int64) {
	g := s.norm.guilds[guildID]
	if g == nil || s.w == nil || s.w.dir == nil {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	if _, err := s.w.dir.pool.Exec(ctx, `UPDATE guilds SET afk_channel_id = $3 WHERE tenant_id = $1 AND id = $2`,
		g.tenantID, guildID, channelID); err != nil {
		s.log.Error("guild update: cannot record the AFK channel", slog.Int64("guild_id", guildID), slog.Any("err", err))
	}
}

// startGap starts backfilling the gap before a new session (READY), for
// every guild whose tenant is known: from the channels this process last
// saw of it, or else from Discord's list of them. GUILD_CREATE adds the
// channels neither knew of, and the guilds of unknown tenant.
func (s *shardRun) startGap(guilds []discord.UnavailableGuild) {
	since := s.lastEventAt
	if p := s.pendingGap.Load(); p != nil && p.since.Before(since) {
		since = p.since // an earlier gap not read to its end: read from there
	}
	s.gap, s.gapGuilds = newGapFill(s, since), map[int64]bool{}
	s.gap.waiting = len(guilds)
	s.pendingGap.Store(s.gap)
	for _, ug := range guilds {
		s.gapGuilds[int64(ug.ID)] = true
		g := s.norm.guilds[int64(ug.ID)]
		if g == nil {
			continue
		}
		// Read here, not in the read's goroutine: the read loop owns them.
		tenant, history := g.tenantID, g.history
		if len(history) > 0 {
			s.gap.launch(func(f *gapFill) { f.fill(s.ctx, ug.ID, tenant, history) })
		} else {
			s.gap.launch(func(f *gapFill) { f.fillFromREST(s.ctx, ug.ID, tenant) })
		}
	}
	s.gap.check()
}

// resumeGap reads again the gap the shard's previous owner had not
// finished backfilling, once the session it saved is resumed: from
// Discord's list of each guild's channels, as no GUILD_CREATE comes.
func (s *shardRun) resumeGap() {
	f := s.pendingGap.Load()
	if f == nil || f.launched.Load() {
		return
	}
	s.log.Warn("resumed a session whose gap the previous owner had not finished backfilling; reading it again", slog.Time("since", f.since))
	s.gap = f
	for id, g := range s.norm.guilds {
		tenant := g.tenantID
		f.launch(func(f *gapFill) { f.fillFromREST(s.ctx, snowflake.ID(id), tenant) })
	}
	f.check()
}

// gapSince is when the shard's gap pending backfill began (zero: none).
func (s *shardRun) gapSince() time.Time {
	if f := s.pendingGap.Load(); f != nil {
		return f.since
	}
	return time.Time{}
}

// queueMembers hands a member update to the shard's member sync; it blocks
// only if thousands are already waiting (back-pressure, like the lake).
// guildRemoved stops capturing a guild the bot was removed from and marks
// it left (its data stays until retention).
func (s *shardRun) guildRemoved(guildID int64, now time.Time) {
	if err := s.w.dir.Leave(s.ctx, guildID, now); err != nil {
		s.log.Error("guild left: cannot record it", slog.Int64("guild_id", guildID), slog.Any("err", err))
	}
	delete(s.norm.guilds, guildID)
}

// leaveGuildsMissingFrom marks left the guilds this shard knew that a new
// session's READY does not list: the bot was removed while no session of
// the shard was connected, and Discord sends no GUILD_DELETE for that.
func (s *shardRun) leaveGuildsMissingFrom(listed []discord.UnavailableGuild, now time.Time) {
	in := make(map[int64]bool, len(listed))
	for _, g := range listed {
		in[int64(g.ID)] = true
	}
	for id := range s.norm.guilds {
		if !in[id] {
			s.log.Info("the bot left a guild while the shard was away", slog.Int64("guild_id", id))
			s.guildRemoved(id, now)
		}
	}
}

func (s *shardRun) queueMembers(u memberUpdate) {
	// A full queue means the directory's writer, so the database, is
	// behind: park as for the ingest buffer, not leave ACKs unread.
	_ = sendParking(s.ctx, s, s.members, u)
}

// stop closes the connection so the session stays resumable, closes open
// voice sessions as leaves, and waits until everything received is
// committed (with the checkpoint) before returning.
func (s *shardRun) stop(ctx context.Context) {
	live := s.gw.Status() == gateway.StatusReady // watching until now
	// 1012 (service restart), not 1000: a normal closure would end the
	// Discord session and make the next owner identify again.
	s.gw.CloseWithCode(ctx, websocket.CloseServiceRestart, "handing shard over")
	if s.isFenced.Load() {
		s.cancel()
		return
	}
	if !s.waitCommitted(ctx, s.lastSeq) {
		s.log.Warn("shard stopped before its last events were committed", slog.Int64("last_seq", s.lastSeq))
	}
	if leaves := s.norm.closeAllVoice(live); len(leaves) > 0 {
		// The leaves go at the last dispatch's position, which is committed
		// already: waiting for it returned at once, and the next owner could
		// restore voice_sessions before the leaves were written (or their
		// checkpoint was refused under its newer lease, and the leaves were
		// dropped). Everything before them is committed now, so the
		// position comes back only with the leaves' own commit.
		s.mu.Lock()
		if s.lastSeq > 0 && s.committedSeq >= s.lastSeq {
			s.committedSeq = s.lastSeq - 1
		}
		s.mu.Unlock()
		it := item{shard: s, events: leaves, seq: s.lastSeq, received: time.Now()}
		if sid := s.gw.SessionID(); sid != nil {
			it.session = *sid
		}
		if u := s.gw.ResumeURL(); u != nil {
			it.resume = *u
		}
		if err := s.w.pipe.submit(ctx, it); err != nil {
			s.log.Error("could not hand over synthetic voice leaves", slog.Int("events", len(leaves)))
		} else if !s.waitCommitted(ctx, s.lastSeq) {
			s.log.Warn("shard stopped before its synthetic voice leaves were committed", slog.Int("events", len(leaves)))
		}
	}
	s.cancel()
}

// markLive records the shard as running as soon as its session delivers:
// READY, or the first replayed event of a RESUME Discord accepted. disgo's
// Open returns only at RESUMED, which Discord sends after replaying
// everything the session missed; after a takeover at full load that
// replay (the dead owner's uncommitted events and the outage) took
// seconds, and the shard, capturing all along, showed as starting.
func (s *shardRun) markLive() {
	if s.w == nil || s.w.dir == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 5*time.Second)
	defer cancel()
	// Only from starting, and only for this lease: a start that failed
	// meanwhile (failed) or a newer owner (another fence) is left alone.
	if _, err := s.w.dir.pool.Exec(ctx, `UPDATE shard_sessions SET state = 'running', updated_at = now()
		WHERE shard_count = $1 AND shard_id = $2 AND fence = $3 AND state = 'starting'`, s.count, s.id, s.fence); err != nil {
		s.log.Warn("mark shard running", slog.Any("err", err))
	}
}
