package discordsim

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func recordTypes(rs []Record) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Type+" "+r.Key)
	}
	return out
}

// Role and channel changes dispatch what Discord dispatches, and a deleted
// role leaves its holders without any GUILD_MEMBER_UPDATE.
func TestRoleAndChannelChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := setup(t, nil)
	g := s.Guilds()[0]
	require.True(t, g.BotPresent)
	member := g.Members[2]

	from := uint64(len(s.GroundTruth()))
	r, err := s.CreateRole(ctx, g.ID, RoleOptions{Name: "Helper", Color: 0x00ff00, Position: 2, Permissions: PermManageMessages})
	require.NoError(t, err)
	require.Equal(t, "8192", r.Permissions)
	require.NoError(t, s.UpdateRole(ctx, g.ID, r.ID, RoleOptions{Name: "Helpers", Position: 2}))
	require.NoError(t, s.SetMemberRole(ctx, g.ID, member, r.ID, true))
	require.NoError(t, s.DeleteRole(ctx, g.ID, r.ID))
	require.Equal(t, []string{
		"GUILD_ROLE_CREATE " + r.ID.String(), "GUILD_ROLE_UPDATE " + r.ID.String(),
		"GUILD_MEMBER_UPDATE " + g.ID.String() + ":" + member.String(), "GUILD_ROLE_DELETE " + r.ID.String(),
	}, recordTypes(s.GroundTruthSince(from, 0)))
	s.world.mu.RLock()
	held := slices.Contains(s.world.guilds[g.ID].Members[member].Roles, r.ID)
	s.world.mu.RUnlock()
	require.False(t, held, "the deleted role is gone from its holders")
	_, ok := s.Guilds()[0].Roles["Helpers"]
	require.False(t, ok)
	require.Error(t, s.DeleteRole(ctx, g.ID, g.ID), "@everyone cannot be deleted")

	from = uint64(len(s.GroundTruth()))
	general := g.Channels["general"]
	_, err = s.UpdateChannel(ctx, general, "chat", 3, 0)
	require.NoError(t, err)
	_, err = s.UpdateChannel(ctx, general, "chat", 3, general)
	require.Error(t, err, "a text channel is not a category")
	require.Error(t, s.DeleteChannel(ctx, g.AFKChannel), "the AFK channel stays")
	require.NoError(t, s.DeleteChannel(ctx, general))
	require.Equal(t, []string{"CHANNEL_UPDATE " + general.String(), "CHANNEL_DELETE " + general.String()}, recordTypes(s.GroundTruthSince(from, 0)))
	_, ok = s.Guilds()[0].Channels["chat"]
	require.False(t, ok)
}
