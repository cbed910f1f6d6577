package gateway_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/tenants"
)

// The guild directory follows GUILD_CREATE (channels, roles, members'
// roles) and then the channel, role and member events, off the read loop.
func TestDirectoryFollowsTheGateway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards, cfg.MembersPerGuild = 1, 1, 20
	b := setup(t, cfg)
	require.NoError(t, b.worker.StartShard(ctx, 0, 1, 0, nil))
	g := b.sim.Guilds()[0]
	guildID := int64(g.ID)

	var dir *tenants.DirectoryStore
	require.Eventually(t, func() bool {
		tid, err := tenants.NewStore(b.db.Bun).TenantOfGuild(ctx, guildID)
		if err != nil {
			return false
		}
		dir = tenants.NewStore(b.db.Bun).ForTenant(tid).Directory()
		return true
	}, 10*time.Second, 20*time.Millisecond)

	channelNames := func() []string {
		cs, err := dir.Channels(ctx, guildID)
		require.NoError(t, err)
		out := make([]string, 0, len(cs))
		for _, c := range cs {
			out = append(out, c.Name)
		}
		slices.Sort(out)
		return out
	}
	roleNames := func() []string {
		rs, err := dir.Roles(ctx, guildID)
		require.NoError(t, err)
		out := make([]string, 0, len(rs))
		for _, r := range rs {
			out = append(out, r.Name)
		}
		slices.Sort(out)
		return out
	}
	holds := func(user discordsim.ID, role discordsim.ID) bool {
		ok, err := dir.HasRole(ctx, guildID, int64(user), int64(role))
		require.NoError(t, err)
		return ok
	}
	var wantChannels, wantRoles []string
	for name := range g.Channels {
		wantChannels = append(wantChannels, name)
	}
	for name := range g.Roles {
		wantRoles = append(wantRoles, name)
	}
	slices.Sort(wantChannels)
	slices.Sort(wantRoles)

	// GUILD_CREATE: every channel and role, and every member's roles.
	require.Eventually(t, func() bool {
		return slices.Equal(wantChannels, channelNames()) && slices.Equal(wantRoles, roleNames())
	}, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		with, err := dir.MembersWithRole(ctx, guildID, int64(g.Roles["Member"]), 0, 1000)
		require.NoError(t, err)
		return len(with) == len(g.Members)
	}, 10*time.Second, 20*time.Millisecond, "every synthetic member holds Member")

	// GUILD_MEMBER_UPDATE: a role given, then taken.
	member := g.Members[3]
	mod := g.Roles["Moderator"]
	if holds(member, mod) {
		require.NoError(t, b.sim.SetMemberRole(ctx, g.ID, member, mod, false))
		require.Eventually(t, func() bool { return !holds(member, mod) }, 10*time.Second, 20*time.Millisecond)
	}
	require.NoError(t, b.sim.SetMemberRole(ctx, g.ID, member, mod, true))
	require.Eventually(t, func() bool { return holds(member, mod) }, 10*time.Second, 20*time.Millisecond)

	// GUILD_ROLE_CREATE / _UPDATE / _DELETE; a deleted role leaves its holders.
	helper, err := b.sim.CreateRole(ctx, g.ID, discordsim.RoleOptions{Name: "Helper", Color: 0x00ff00, Position: 2})
	require.NoError(t, err)
	require.NoError(t, b.sim.SetMemberRole(ctx, g.ID, member, helper.ID, true))
	require.Eventually(t, func() bool { return holds(member, helper.ID) }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, b.sim.UpdateRole(ctx, g.ID, helper.ID, discordsim.RoleOptions{Name: "Helpers", Color: 0x00ff00, Position: 2, Permissions: 1 << 13}))
	require.Eventually(t, func() bool { return slices.Contains(roleNames(), "Helpers") }, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, b.sim.DeleteRole(ctx, g.ID, helper.ID))
	require.Eventually(t, func() bool { return !slices.Contains(roleNames(), "Helpers") }, 10*time.Second, 20*time.Millisecond)
	roles, err := dir.MemberRoles(ctx, guildID, int64(member))
	require.NoError(t, err)
	require.NotContains(t, roles, int64(helper.ID))
	require.Contains(t, roles, int64(mod))

	// CHANNEL_CREATE / _UPDATE / _DELETE.
	cat, err := b.sim.CreateChannel(ctx, g.ID, "Projects", discordsim.ChannelCategory, 0)
	require.NoError(t, err)
	ch, err := b.sim.CreateChannel(ctx, g.ID, "ideas", discordsim.ChannelText, cat.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c, err := dir.Channel(ctx, guildID, int64(ch.ID))
		return err == nil && c.ParentID == int64(cat.ID) && c.Type == discordsim.ChannelText
	}, 10*time.Second, 20*time.Millisecond)
	_, err = b.sim.UpdateChannel(ctx, ch.ID, "ideas-and-plans", 7, 0)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c, err := dir.Channel(ctx, guildID, int64(ch.ID))
		return err == nil && c.Name == "ideas-and-plans" && c.ParentID == 0 && c.Position == 7
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, b.sim.DeleteChannel(ctx, ch.ID))
	require.Eventually(t, func() bool {
		c, err := dir.Channel(ctx, guildID, int64(ch.ID))
		return err == nil && c.Deleted
	}, 10*time.Second, 20*time.Millisecond)
	require.NotContains(t, channelNames(), "ideas-and-plans")
	require.Contains(t, channelNames(), "Projects")
}

// Discord's GUILD_CREATE omits most members (Synapse has no presences
// intent), so a member's roles are also taken from the member object of
// what they do: a member whose row lost them gets them back from their
// next message.
func TestActiveMembersRolesComeFromTheirEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := simConfig()
	cfg.Guilds, cfg.Shards, cfg.MembersPerGuild = 1, 1, 10
	b := setup(t, cfg)
	require.NoError(t, b.worker.StartShard(ctx, 0, 1, 0, nil))
	g := b.sim.Guilds()[0]
	user := g.Members[4]
	roles := func() []int64 {
		var out []int64
		err := b.db.Pool.QueryRow(ctx, `SELECT roles FROM members WHERE guild_id = $1 AND user_id = $2`, int64(g.ID), int64(user)).Scan(&out)
		if err != nil {
			return nil
		}
		return out
	}
	require.Eventually(t, func() bool { return slices.Contains(roles(), int64(g.Roles["Member"])) }, 10*time.Second, 20*time.Millisecond)

	_, err := b.db.Pool.Exec(ctx, `UPDATE members SET roles = '{}' WHERE guild_id = $1 AND user_id = $2`, int64(g.ID), int64(user))
	require.NoError(t, err)
	_, err = b.sim.SendMessage(ctx, discordsim.MessageOptions{ChannelID: g.Channels["general"], AuthorID: user, Content: "hello"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return slices.Contains(roles(), int64(g.Roles["Member"])) }, 10*time.Second, 20*time.Millisecond,
		"the message's member object restored the roles")
}
