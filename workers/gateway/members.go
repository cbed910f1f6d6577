package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"

	"github.com/synapsehq/synapse/tenants"
)

// memberUpdate is a change to the members table, applied in order off the
// read loop: a guild's member list (GUILD_CREATE), a join, or a leave.
type memberUpdate struct {
	tenantID, guildID int64
	members           []discord.Member
	left              int64 // user id when a member left
	at                time.Time
}

// syncMembers applies member updates in arrival order until ctx ends. The
// members table gives rules and milestones join times, bot flags and who
// is still in the guild.
func (s *shardRun) syncMembers(ctx context.Context, updates <-chan memberUpdate) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-updates:
			store := tenants.NewStore(s.w.dir.db).ForTenant(u.tenantID).Members()
			var err error
			if u.left != 0 {
				err = store.MarkLeft(ctx, u.guildID, u.left, u.at)
			} else {
				err = store.UpsertMany(ctx, u.guildID, memberRows(u.members))
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("member sync failed", slog.Int64("guild_id", u.guildID), slog.Any("err", err))
			}
		}
	}
}

func memberRows(ms []discord.Member) []tenants.Member {
	out := make([]tenants.Member, 0, len(ms))
	for _, m := range ms {
		row := tenants.Member{UserID: int64(m.User.ID), DisplayName: displayName(m), JoinedAt: m.JoinedAt}
		if m.User.Bot {
			row.Flags |= tenants.MemberBot
		}
		out = append(out, row)
	}
	return out
}

func displayName(m discord.Member) string {
	switch {
	case m.Nick != nil && *m.Nick != "":
		return *m.Nick
	case m.User.GlobalName != nil && *m.User.GlobalName != "":
		return *m.User.GlobalName
	default:
		return m.User.Username
	}
}
