package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/snowflake/v2"

	"github.com/synapsehq/synapse/engine/lake"
)

// backfillMargin reaches a little before the last event seen: the events
// just before a disconnect may not have been committed either.
const backfillMargin = 30 * time.Second

// maxBackfillPages bounds one channel's backfill (100 messages a page):
// 100,000 messages. It was 50 pages, which silently stopped short of the
// gap in any channel with more than 5,000 messages between the margin and
// the gap's end (a busy channel, a long outage, or the simulator at max
// rate, whose clock puts a whole run inside the margin). Reaching it is
// logged.
const maxBackfillPages = 1000

// backfillChannels bounds how many channels of a guild are read at once.
const backfillChannels = 8

// backfillChannel reads one channel's history from its newest message back
// to after, and returns how many messages it handed to the pipeline, and
// false if it stopped short (a REST error, or the shard stopping): the gap
// is then not done.
//
// A gap's backfill (see gapFill) recovers this way the messages of a
// session that could not be resumed, which Discord will not replay, from
// each text channel's history. The lake's unique index drops the messages capture
// already had. Only messages can be recovered: reactions, voice and member
// events of the gap are gone, as Discord keeps no history of them.
//
// Channels are read at the same time, each from its newest message back
// to the margin before the gap: a message of the gap is in history only
// until someone deletes it, and the gap is the newest part of the window.
// Reading each channel from the margin forward, one channel after
// another, reached the gap of the last channels only after every older
// page — in the chaos load test, a message written in the gap and deleted
// 26 ms after the new session's READY was gone by then, and lost.
func (s *shardRun) backfillChannel(ctx context.Context, guildID, channelID snowflake.ID, tenantID int64, after snowflake.ID) (int, bool) {
	recovered := 0
	var before snowflake.ID // zero: the newest page
	for page := 0; page < maxBackfillPages; page++ {
		if !s.capturesMessages(guildID) {
			return recovered, true // the guild's message capture is off (or the bot left it)
		}
		msgs, err := s.w.rest.GetMessages(channelID, 0, before, 0, 100, rest.WithCtx(ctx))
		if err != nil {
			s.log.Warn("backfill: channel history", slog.Int64("channel_id", int64(channelID)), slog.Any("err", err))
			return recovered, false
		}
		done := len(msgs) < 100
		var events []lake.Event
		for _, m := range msgs {
			if before == 0 || m.ID < before {
				before = m.ID
			}
			if m.ID <= after {
				done = true // older than the margin: capture had it
				continue
			}
			if m.GuildID == nil {
				m.GuildID = &guildID // history omits it
			}
			if ev, ok := messageEvent(m, tenantID, false, 0); ok {
				ev.Flags |= lake.FlagBackfilled
				events = append(events, ev)
			}
		}
		if len(events) > 0 {
			// Sequence 0: backfilled rows move no checkpoint.
			if err := s.w.pipe.submit(ctx, item{shard: s, events: events, received: time.Now()}); err != nil {
				return recovered, false
			}
			recovered += len(events)
		}
		if done {
			return recovered, true
		}
	}
	s.log.Error("backfill: channel history longer than the backfill bound; the oldest messages of the margin are not recovered",
		slog.Int64("channel_id", int64(channelID)), slog.Int("pages", maxBackfillPages))
	return recovered, true
}

// capturesMessages reports whether a guild captures messages under its
// current settings (the directory's entry, which the settings refresh
// keeps current), like live capture does: a gap's messages are stored only
// if its live ones would be. False for a guild no longer captured.
func (s *shardRun) capturesMessages(guildID snowflake.ID) bool {
	d := s.w.dir
	d.mu.RLock()
	e := d.guilds[int64(guildID)]
	d.mu.RUnlock()
	return e != nil && e.settings().Captures(lake.MessageCreate)
}
