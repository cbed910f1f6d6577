package tenants_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

func TestDirectorySyncUpdatesAndDeletes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	g := tenanttest.Guild(ctx, t, db, tn.ID, nil)
	scope := tenants.NewStore(db).ForTenant(tn.ID)
	dir := scope.Directory()

	cat := tenants.Channel{ID: 11, Name: "Community", Type: 4, Position: 0}
	general := tenants.Channel{ID: 12, Name: "general", Type: 0, ParentID: 11, Position: 1}
	voice := tenants.Channel{ID: 13, Name: "Lounge", Type: 2, ParentID: 11, Position: 2}
	everyone := tenants.Role{ID: g.ID, Name: "@everyone", Position: 0, Permissions: 1 << 10}
	mod := tenants.Role{ID: 21, Name: "Moderator", Color: 0xff0000, Position: 3, Permissions: 1 << 13}
	helper := tenants.Role{ID: 22, Name: "Helper", Position: 2}
	bot := tenants.Role{ID: 23, Name: "Synapse", Position: 1, Managed: true}
	require.NoError(t, dir.SyncGuild(ctx, g.ID, []tenants.Channel{cat, general, voice}, []tenants.Role{everyone, mod, helper, bot}))

	m1 := tenanttest.Member(ctx, t, db, g, nil)
	m2 := tenanttest.Member(ctx, t, db, g, nil)
	require.NoError(t, scope.Members().UpsertMany(ctx, g.ID, []tenants.Member{
		{UserID: m1.UserID, DisplayName: "ada", Roles: tenants.Snowflakes{21, 22}},
		{UserID: m2.UserID, DisplayName: "bob", Roles: tenants.Snowflakes{22}},
	}))

	chans, err := dir.Channels(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{11, 12, 13}, channelIDs(chans))
	require.Equal(t, int64(11), chans[1].ParentID)
	roles, err := dir.Roles(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{21, 22, 23, g.ID}, roleIDs(roles), "highest first")
	require.True(t, roles[2].Managed)
	require.Equal(t, int32(0xff0000), roles[0].Color)

	has, err := dir.HasRole(ctx, g.ID, m1.UserID, 21)
	require.NoError(t, err)
	require.True(t, has)
	has, err = dir.HasRole(ctx, g.ID, m2.UserID, 21)
	require.NoError(t, err)
	require.False(t, has)
	with, err := dir.MembersWithRole(ctx, g.ID, 22, 0, 10)
	require.NoError(t, err)
	require.ElementsMatch(t, []int64{m1.UserID, m2.UserID}, with)

	// Updates, a deletion, and a later GUILD_CREATE that no longer lists one.
	general.GuildID, general.Name = g.ID, "chat"
	require.NoError(t, dir.UpsertChannel(ctx, general))
	require.NoError(t, dir.DeleteChannel(ctx, g.ID, voice.ID))
	mod.GuildID, mod.Name = g.ID, "Mods"
	require.NoError(t, dir.UpsertRole(ctx, mod))
	require.NoError(t, dir.DeleteRole(ctx, g.ID, helper.ID))

	chans, err = dir.Channels(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{11, 12}, channelIDs(chans))
	require.Equal(t, "chat", chans[1].Name)
	gone, err := dir.Channel(ctx, g.ID, voice.ID)
	require.NoError(t, err)
	require.True(t, gone.Deleted, "a deleted channel keeps its name")
	require.Equal(t, "Lounge", gone.Name)
	roles, err = dir.Roles(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{21, 23, g.ID}, roleIDs(roles))
	require.Equal(t, "Mods", roles[0].Name)
	all, err := dir.AllChannels(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{11, 12, 13}, channelIDs(all), "deleted ones last")
	require.True(t, all[2].Deleted)
	allRoles, err := dir.AllRoles(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{21, 23, g.ID, 22}, roleIDs(allRoles))
	require.True(t, allRoles[3].Deleted)
	r1, err := dir.MemberRoles(ctx, g.ID, m1.UserID)
	require.NoError(t, err)
	require.Equal(t, []int64{21}, r1, "a deleted role is taken from its holders")
	r2, err := dir.MemberRoles(ctx, g.ID, m2.UserID)
	require.NoError(t, err)
	require.Empty(t, r2)

	require.NoError(t, dir.SyncGuild(ctx, g.ID, []tenants.Channel{cat, voice}, []tenants.Role{everyone, mod}))
	chans, err = dir.Channels(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{11, 13}, channelIDs(chans), "listed again: live; not listed: deleted")
	roles, err = dir.Roles(ctx, g.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{21, g.ID}, roleIDs(roles))

	_, err = dir.MemberRoles(ctx, g.ID, 999)
	require.ErrorIs(t, err, apperr.ErrNotFound)
}

// A store bound to tenant A neither reads nor changes B's channels, roles
// or members' roles.
func TestDirectoryTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	a := tenanttest.Tenant(ctx, t, db, nil)
	b := tenanttest.Tenant(ctx, t, db, nil)
	gb := tenanttest.Guild(ctx, t, db, b.ID, nil)
	dirB := tenants.NewStore(db).ForTenant(b.ID).Directory()
	require.NoError(t, dirB.SyncGuild(ctx, gb.ID, []tenants.Channel{{ID: 1, Name: "secret", Type: 0}}, []tenants.Role{{ID: 2, Name: "Inner circle"}}))
	mb := tenanttest.Member(ctx, t, db, gb, nil)
	require.NoError(t, tenants.NewStore(db).ForTenant(b.ID).Members().UpsertMany(ctx, gb.ID, []tenants.Member{{UserID: mb.UserID, DisplayName: "bob", Roles: tenants.Snowflakes{2}}}))

	dirA := tenants.NewStore(db).ForTenant(a.ID).Directory()
	chans, err := dirA.Channels(ctx, gb.ID)
	require.NoError(t, err)
	require.Empty(t, chans)
	chans, err = dirA.AllChannels(ctx, gb.ID)
	require.NoError(t, err)
	require.Empty(t, chans)
	roles, err := dirA.AllRoles(ctx, gb.ID)
	require.NoError(t, err)
	require.Empty(t, roles)
	_, err = dirA.Channel(ctx, gb.ID, 1)
	require.ErrorIs(t, err, apperr.ErrNotFound)
	roles, err = dirA.Roles(ctx, gb.ID)
	require.NoError(t, err)
	require.Empty(t, roles)
	_, err = dirA.MemberRoles(ctx, gb.ID, mb.UserID)
	require.ErrorIs(t, err, apperr.ErrNotFound)
	has, err := dirA.HasRole(ctx, gb.ID, mb.UserID, 2)
	require.NoError(t, err)
	require.False(t, has)
	with, err := dirA.MembersWithRole(ctx, gb.ID, 2, 0, 10)
	require.NoError(t, err)
	require.Empty(t, with)

	// Writes through A cannot land in B's guild (foreign key), nor change B's rows.
	require.Error(t, dirA.UpsertChannel(ctx, tenants.Channel{GuildID: gb.ID, ID: 1, Name: "hijacked"}))
	require.Error(t, dirA.SyncGuild(ctx, gb.ID, []tenants.Channel{{ID: 1, Name: "hijacked"}}, nil))
	_, err = tenants.NewStore(db).ForTenant(a.ID).Members().SetFlags(ctx, gb.ID, mb.UserID, tenants.MemberAnnounceOptOut, 0)
	require.Error(t, err, "a preference set through A cannot land in B's guild")
	require.NoError(t, dirA.DeleteChannel(ctx, gb.ID, 1))
	require.NoError(t, dirA.DeleteRole(ctx, gb.ID, 2))
	chans, err = dirB.Channels(ctx, gb.ID)
	require.NoError(t, err)
	require.Len(t, chans, 1)
	require.Equal(t, "secret", chans[0].Name)
	rolesB, err := dirB.MemberRoles(ctx, gb.ID, mb.UserID)
	require.NoError(t, err)
	require.Equal(t, []int64{2}, rolesB)
	roles, err = dirB.Roles(ctx, gb.ID)
	require.NoError(t, err)
	require.Len(t, roles, 1)
}

func channelIDs(cs []tenants.Channel) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func roleIDs(rs []tenants.Role) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
