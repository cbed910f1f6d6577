package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
)

// registerTimeout bounds one attempt to register a guild: a lock held on
// the row fails the attempt, which is then retried.
const registerTimeout = 5 * time.Second

// registerGuild records a guild of a GUILD_CREATE in the directory (a
// guild no tenant has claimed gets a tenant of its own) and returns its
// entry. Until the directory has it, the shard cannot tell which tenant
// the guild's events belong to and would drop them; so a failure is
// retried with backoff until it succeeds, and the read loop waits here:
// no later dispatch of the shard is read meanwhile. A read loop held for
// the pipeline's MaxBlock parks its shard as for a full buffer (park.go;
// the session stays resumable) and resumes it once the guild is
// registered, and Discord replays what came meanwhile. Only a refusal of
// the data itself (the pipeline's permanent errors) is given up on,
// logged and counted. It returns an error only then, or when the shard
// stops.
func (s *shardRun) registerGuild(g discord.GatewayGuild, now time.Time) (*guildEntry, error) {
	id := int64(g.ID)
	joinedAt := g.JoinedAt // when the bot joined, on Discord's clock
	if joinedAt.IsZero() {
		joinedAt = now
	}
	var parked func() bool
	defer func() {
		if parked != nil && parked() {
			s.resumeAfterPark()
		}
	}()
	start, backoff := time.Now(), 100*time.Millisecond
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(s.ctx, registerTimeout)
		entry, err := s.w.dir.Join(ctx, id, g.Name, idOf(g.AfkChannelID), joinedAt, attestedUntil(g))
		cancel()
		switch {
		case err == nil:
			if attempt > 1 {
				s.log.Info("guild registered after retrying", slog.Int64("guild_id", id), slog.Int("attempts", attempt))
			}
			return entry, nil
		case s.ctx.Err() != nil:
			return nil, s.ctx.Err()
		case permanent(err):
			s.w.registerFailures.WithLabelValues("permanent").Inc()
			s.log.Error("guild create: the database refuses the guild; its events are not captured", slog.Int64("guild_id", id), slog.Any("err", err))
			return nil, err
		}
		s.w.registerFailures.WithLabelValues("transient").Inc()
		s.log.Warn("guild create: cannot register the guild yet; retrying (the shard reads no further meanwhile)",
			slog.Int64("guild_id", id), slog.Int("attempt", attempt), slog.Duration("backoff", backoff), slog.Any("err", err))
		if parked == nil {
			parked = s.parkAfterMaxBlock(time.Since(start))
		}
		select {
		case <-s.ctx.Done():
			return nil, s.ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// attestedUntil is the newest time a GUILD_CREATE shows on Discord's
// clock: the bot's and members' joins, the channels' last messages, the
// threads. Discord sent the guild no earlier, so a member it lists joined
// before this shard could capture the join. It is a lower bound: the
// local clock is no use against a simulator replaying another day, and a
// bound too late would drop the joins between the truth and it.
func attestedUntil(g discord.GatewayGuild) time.Time {
	t := g.JoinedAt
	later := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	for _, m := range g.Members {
		if m.JoinedAt != nil {
			later(*m.JoinedAt)
		}
	}
	for _, c := range g.Channels {
		if mc, ok := c.(discord.GuildMessageChannel); ok && mc.LastMessageID() != nil {
			later(mc.LastMessageID().Time())
		}
	}
	for _, th := range g.Threads {
		later(th.ID().Time())
	}
	return t.UTC()
}
