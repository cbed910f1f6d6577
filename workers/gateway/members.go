package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/disgoorg/disgo/discord"
	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/tenants"
)

// memberUpdate is a change to the guild directory (members, their roles,
// channels, roles), applied in order off the read loop: a guild's lists
// (GUILD_CREATE), a join or member update, a leave, or a channel or role
// created, updated or deleted. Exactly one of the change fields is set.
type memberUpdate struct {
	tenantID, guildID int64
	members           []discord.Member // upserted with their roles and display names
	left              int64            // user id when a member left
	at                time.Time

	guild          *guildLists      // GUILD_CREATE: every channel and role
	channel        *tenants.Channel // created or updated
	channelDeleted int64
	role           *tenants.Role // created or updated
	roleDeleted    int64
}

// guildLists are a guild's full channel and role lists.
type guildLists struct {
	channels []tenants.Channel
	roles    []tenants.Role
}

// maxSyncBatch bounds how many queued updates one pass applies.
const maxSyncBatch = 512

// syncMembers applies directory updates in arrival order until ctx ends.
// Whatever is queued is taken at once and consecutive member upserts of a
// guild become one statement, so a burst of member updates (a role given
// to hundreds of members) costs one round trip, not hundreds. The members
// table gives rules and milestones join times, bot flags, roles and who is
// still in the guild.
func (s *shardRun) syncMembers(ctx context.Context, updates <-chan memberUpdate) {
	batch := make([]memberUpdate, 0, maxSyncBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-updates:
			batch = append(batch[:0], u)
		drain:
			for len(batch) < maxSyncBatch {
				select {
				case u := <-updates:
					batch = append(batch, u)
				default:
					break drain
				}
			}
			s.applyDirectory(ctx, batch)
		}
	}
}

// applyDirectory applies a batch in order, merging runs of member upserts
// for the same guild, in one transaction: joins and leaves interleave, so
// a batch is many statements, and committing each on its own cost a WAL
// flush apiece, the database's busiest wait at max rate. The transaction
// commits asynchronously (synchronous_commit off): the directory mirrors
// Discord, and what a crash loses of its last moments the next
// GUILD_CREATE and member sync put back. Should a statement fail, the
// batch is applied again one update at a time, so one bad update costs
// only itself.
func (s *shardRun) applyDirectory(ctx context.Context, batch []memberUpdate) {
	err := s.w.dir.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		return eachDirectoryUpdate(batch, func(u memberUpdate) error { return applyOne(ctx, tx, u) })
	})
	if err == nil || ctx.Err() != nil {
		return
	}
	s.log.Info("directory batch failed; applying its updates one by one", slog.Int("updates", len(batch)), slog.Any("err", err))
	_ = eachDirectoryUpdate(batch, func(u memberUpdate) error {
		if err := applyOne(ctx, s.w.dir.db, u); err != nil && ctx.Err() == nil {
			s.log.Warn("directory sync failed", slog.Int64("guild_id", u.guildID), slog.Any("err", err))
		}
		return nil
	})
}

// eachDirectoryUpdate calls apply for the batch's updates in order, runs of
// member upserts for one guild merged into one; it stops at an error.
func eachDirectoryUpdate(batch []memberUpdate, apply func(memberUpdate) error) error {
	for i := 0; i < len(batch); {
		u := batch[i]
		j := i + 1
		if u.members != nil {
			var ms []discord.Member
			for ; j < len(batch) && batch[j].members != nil && batch[j].guildID == u.guildID; j++ {
				if ms == nil {
					ms = append(ms, u.members...)
				}
				ms = append(ms, batch[j].members...)
			}
			if ms != nil {
				u.members = ms
			}
		}
		if err := apply(u); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func applyOne(ctx context.Context, db bun.IDB, u memberUpdate) error {
	scope := tenants.NewStore(db).ForTenant(u.tenantID)
	switch {
	case u.left != 0:
		return scope.Members().MarkLeft(ctx, u.guildID, u.left, u.at)
	case u.guild != nil:
		return scope.Directory().SyncGuild(ctx, u.guildID, u.guild.channels, u.guild.roles)
	case u.channel != nil:
		return scope.Directory().UpsertChannel(ctx, *u.channel)
	case u.channelDeleted != 0:
		return scope.Directory().DeleteChannel(ctx, u.guildID, u.channelDeleted)
	case u.role != nil:
		return scope.Directory().UpsertRole(ctx, *u.role)
	case u.roleDeleted != 0:
		return scope.Directory().DeleteRole(ctx, u.guildID, u.roleDeleted)
	default:
		return scope.Members().UpsertMany(ctx, u.guildID, memberRows(u.members))
	}
}

func memberRows(ms []discord.Member) []tenants.Member {
	out := make([]tenants.Member, 0, len(ms))
	for _, m := range ms {
		row := tenants.Member{UserID: int64(m.User.ID), DisplayName: displayName(m), JoinedAt: m.JoinedAt,
			Roles: make(tenants.Snowflakes, len(m.RoleIDs))}
		for i, r := range m.RoleIDs {
			row.Roles[i] = int64(r)
		}
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

// channelRow is a guild channel as the directory keeps it.
func channelRow(guildID int64, c discord.GuildChannel) tenants.Channel {
	row := tenants.Channel{GuildID: guildID, ID: int64(c.ID()), Name: c.Name(), Type: int16(c.Type()), Position: int32(c.Position())}
	if p := c.ParentID(); p != nil {
		row.ParentID = int64(*p)
	}
	return row
}

// roleRow is a role as the directory keeps it.
func roleRow(guildID int64, r discord.Role) *tenants.Role {
	return &tenants.Role{GuildID: guildID, ID: int64(r.ID), Name: r.Name, Color: int32(r.Color), Position: int32(r.Position),
		Permissions: int64(r.Permissions), Managed: r.Managed}
}

// guildListsOf takes a GUILD_CREATE's channels (threads excluded: they
// come and go and are not part of the directory) and roles.
func guildListsOf(g discord.GatewayGuild) *guildLists {
	id := int64(g.ID)
	out := &guildLists{channels: make([]tenants.Channel, 0, len(g.Channels)), roles: make([]tenants.Role, 0, len(g.Roles))}
	for _, c := range g.Channels {
		if _, thread := c.(discord.GuildThread); thread {
			continue
		}
		out.channels = append(out.channels, channelRow(id, c))
	}
	for _, r := range g.Roles {
		out.roles = append(out.roles, *roleRow(id, r))
	}
	return out
}
