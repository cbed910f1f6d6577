package gateway

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"github.com/synapsehq/synapse/engine/lake"
)

// gapFill is the backfill of one gap (a session that could not be
// resumed): which channels are being read, so that each is read once
// whichever source names it first.
//
// A message written in the gap is in history only until someone deletes
// it, so a channel's read starts as soon as the channel is known, from
// whichever of these comes first: the channels this process last saw of
// the guild (at READY), Discord's list of them over REST (at READY, for a
// guild this process has not seen: a shard taken over from another
// worker), or the guild's GUILD_CREATE — before the database round trip
// that registers the guild. The backfill used to wait for that round
// trip, one guild after another on the read loop; in the chaos load test
// a message written 24 ms before the new IDENTIFY and deleted 25-30 ms
// after READY was gone by the time its channel was read.
type gapFill struct {
	s     *shardRun
	since time.Time
	after snowflake.ID // the margin before the gap: older messages were captured

	mu      sync.Mutex
	claimed map[snowflake.ID]bool          // channels whose read has started
	slots   map[snowflake.ID]chan struct{} // per guild: bounds its channels read at once
	counts  map[snowflake.ID]*atomic.Int64 // per guild: messages recovered
	// The gap is done when no read runs (active) and no guild of it is
	// still to come (waiting: named by READY, no GUILD_CREATE yet). Until
	// then the shard's checkpoints carry since, and a worker that takes
	// the shard over reads the gap again.
	active, waiting int
	finished        bool
	launched        atomic.Bool
	// failed: a read stopped short. The gap stays pending (its since in
	// every checkpoint), for the next process that owns the shard to
	// read again, rather than be taken for done.
	failed atomic.Bool
}

func newGapFill(s *shardRun, since time.Time) *gapFill {
	return &gapFill{s: s, since: since, after: snowflake.ID(lake.MintSnowflake(since.Add(-backfillMargin), 0)),
		claimed: map[snowflake.ID]bool{}, slots: map[snowflake.ID]chan struct{}{}, counts: map[snowflake.ID]*atomic.Int64{}}
}

// historyChannel reports whether a channel has message history to read.
// Threads are not read (a thread's messages in a gap are not recovered).
func historyChannel(t discord.ChannelType) bool {
	return t == discord.ChannelTypeGuildText || t == discord.ChannelTypeGuildNews
}

// historyChannels lists a guild's channels with message history.
func historyChannels(chs []discord.GuildChannel) []snowflake.ID {
	var out []snowflake.ID
	for _, ch := range chs {
		if historyChannel(ch.Type()) {
			out = append(out, ch.ID())
		}
	}
	return out
}

// launch runs a read of the gap in its own goroutine.
func (f *gapFill) launch(read func(*gapFill)) {
	f.launched.Store(true)
	f.mu.Lock()
	f.active++
	f.mu.Unlock()
	go func() {
		defer f.end()
		read(f)
	}()
}

func (f *gapFill) end() {
	f.mu.Lock()
	f.active--
	f.mu.Unlock()
	f.check()
}

// seen notes that a guild of the gap sent its GUILD_CREATE (and that the
// read of it, if any, was launched).
func (f *gapFill) seen() {
	f.mu.Lock()
	f.waiting--
	f.mu.Unlock()
	f.check()
}

// check ends the gap once nothing of it is left to read: its messages are
// handed to the pipeline, in the shard's lane ahead of any later dispatch,
// so the first checkpoint without the gap commits after them.
func (f *gapFill) check() {
	f.mu.Lock()
	done := !f.finished && f.active == 0 && f.waiting <= 0
	if done {
		f.finished = true
	}
	f.mu.Unlock()
	switch {
	case done && f.failed.Load():
		f.s.log.Warn("backfill of a gap stopped short; it stays pending for the shard's next owner", slog.Time("since", f.since))
	case done:
		f.s.pendingGap.CompareAndSwap(f, nil)
	}
}

// fill reads the history of those of a guild's channels not yet claimed,
// at once (up to backfillChannels of the guild at a time), and logs what
// it recovered when they are done.
func (f *gapFill) fill(ctx context.Context, guildID snowflake.ID, tenantID int64, channels []snowflake.ID) {
	f.mu.Lock()
	var mine []snowflake.ID
	for _, ch := range channels {
		if !f.claimed[ch] {
			f.claimed[ch] = true
			mine = append(mine, ch)
		}
	}
	slots, recovered := f.slots[guildID], f.counts[guildID]
	if slots == nil {
		slots, recovered = make(chan struct{}, backfillChannels), &atomic.Int64{}
		f.slots[guildID], f.counts[guildID] = slots, recovered
	}
	f.mu.Unlock()
	if len(mine) == 0 || f.s.w.rest == nil {
		return
	}
	var wg sync.WaitGroup
	for _, ch := range mine {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-slots }()
			n, ok := f.s.backfillChannel(ctx, guildID, ch, tenantID, f.after)
			recovered.Add(int64(n))
			if !ok {
				f.failed.Store(true)
			}
		}()
	}
	wg.Wait()
	f.s.log.Info("backfilled a gap from channel history", slog.Int64("guild_id", int64(guildID)),
		slog.Time("since", f.since), slog.Int("channels", len(mine)), slog.Int64("messages", recovered.Load()))
}

// fillFromREST asks Discord for a guild's channels, then fills them.
func (f *gapFill) fillFromREST(ctx context.Context, guildID snowflake.ID, tenantID int64) {
	if f.s.w.rest == nil {
		return
	}
	chs, err := f.s.w.rest.GetGuildChannels(guildID, rest.WithCtx(ctx))
	if err != nil {
		// After READY, GUILD_CREATE still names them; after a resume
		// nothing will: the gap is not done either way.
		f.s.log.Warn("backfill: guild channels", slog.Int64("guild_id", int64(guildID)), slog.Any("err", err))
		f.failed.Store(true)
		return
	}
	f.fill(ctx, guildID, tenantID, historyChannels(chs))
}

// noteHistory keeps a guild's list of channels with history current
// (CHANNEL_CREATE, CHANNEL_DELETE), for the next gap. Read loop only.
func (s *shardRun) noteHistory(c discord.GuildChannel, deleted bool) {
	if c == nil || !historyChannel(c.Type()) {
		return
	}
	g := s.norm.guilds[int64(c.GuildID())]
	if g == nil {
		return
	}
	kept := g.history[:0:0]
	for _, id := range g.history {
		if id != c.ID() {
			kept = append(kept, id)
		}
	}
	if !deleted {
		kept = append(kept, c.ID())
	}
	g.history = kept
}
