package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
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

// backfill recovers the messages of a gap that Discord will not replay (a
// session that could not be resumed), from each text channel's history.
// The lake's unique index drops the messages capture already had. Only
// messages can be recovered: reactions, voice and member events of the gap
// are gone, as Discord keeps no history of them.
func (s *shardRun) backfill(ctx context.Context, gg discord.GatewayGuild, tenantID int64, since time.Time) {
	if s.w.rest == nil {
		return
	}
	after := snowflake.ID(lake.MintSnowflake(since.Add(-backfillMargin), 0))
	recovered := 0
	for _, ch := range gg.Channels {
		switch ch.Type() {
		case discord.ChannelTypeGuildText, discord.ChannelTypeGuildNews:
		default:
			continue
		}
		cursor := after
		for page := 0; page < maxBackfillPages; page++ {
			msgs, err := s.w.rest.GetMessages(ch.ID(), 0, 0, cursor, 100, rest.WithCtx(ctx))
			if err != nil {
				s.log.Warn("backfill: channel history", slog.Int64("channel_id", int64(ch.ID())), slog.Any("err", err))
				break
			}
			var events []lake.Event
			for _, m := range msgs {
				if m.ID > cursor {
					cursor = m.ID
				}
				if m.GuildID == nil {
					m.GuildID = &gg.ID // history omits it
				}
				if ev, ok := messageEvent(m, tenantID, false); ok {
					ev.Flags |= lake.FlagBackfilled
					events = append(events, ev)
				}
			}
			if len(events) > 0 {
				// Sequence 0: backfilled rows move no checkpoint.
				if err := s.w.pipe.submit(ctx, item{shard: s, events: events, received: time.Now()}); err != nil {
					return
				}
				recovered += len(events)
			}
			if len(msgs) < 100 {
				break
			}
			if page == maxBackfillPages-1 {
				s.log.Error("backfill: channel history longer than the backfill bound; later messages of the gap are not recovered",
					slog.Int64("channel_id", int64(ch.ID())), slog.Int("pages", maxBackfillPages))
			}
		}
	}
	s.log.Info("backfilled a gap from channel history", slog.Int64("guild_id", int64(gg.ID)),
		slog.Time("since", since), slog.Int("messages", recovered))
}
