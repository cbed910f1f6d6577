package gateway

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/snowflake/v2"
)

// memberRequestInterval paces member list requests (op 8): one every two
// seconds stays far below Discord's 120 commands a minute per connection,
// leaving room for heartbeats, and disgo's Send never waits on its limiter
// while holding the lock the read loop needs.
const memberRequestInterval = 2 * time.Second

// needsMemberList reports whether a GUILD_CREATE left members out: without
// GUILD_PRESENCES Discord lists only the bot and members in voice.
func needsMemberList(g discord.GatewayGuild) bool { return g.MemberCount > len(g.Members) }

// queueMemberRequest asks for a guild's full member list (answered by
// GUILD_MEMBERS_CHUNKs, applied like any member update); never blocks the
// read loop.
func (s *shardRun) queueMemberRequest(guildID int64) {
	select {
	case s.memberRequests <- guildID:
	default:
		s.log.Warn("member list request queue full; the guild's members are learnt from their activity", slog.Int64("guild_id", guildID))
	}
}

// requestMembers sends the queued member list requests, paced, until ctx ends.
func (s *shardRun) requestMembers(ctx context.Context) {
	empty, all := "", 0
	next := time.Now()
	for {
		var guildID int64
		select {
		case <-ctx.Done():
			return
		case guildID = <-s.memberRequests:
		}
		for attempt := 0; attempt < 5; attempt++ {
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			next = time.Now().Add(memberRequestInterval)
			err := s.gw.Send(ctx, gateway.OpcodeRequestGuildMembers, gateway.MessageDataRequestGuildMembers{
				GuildID: snowflake.ID(guildID), Query: &empty, Limit: &all})
			if err == nil {
				break
			}
			if !errors.Is(err, discord.ErrShardNotReady) && !errors.Is(err, discord.ErrShardNotConnected) {
				s.log.Warn("member list request failed", slog.Int64("guild_id", guildID), slog.Any("err", err))
				break
			}
		}
	}
}
