package milestones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/tenants"
)

// "Holds a role" reads the roles the gateway stores on the member's row:
// given, it is met; deleted from the guild (Discord then sends no member
// update), it no longer is.
func TestRoleRequirementReadsStoredRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	u := b.member(t, g, time.Time{}, 0)
	const helper, mod = int64(555), int64(556)
	b.template(t, g, Template{Key: "helper", Requirement: Requirement{Type: ReqRole, RoleID: helper}})
	b.template(t, g, Template{Key: "helper_mod", Requirement: Requirement{All: []Requirement{
		{Type: ReqRole, RoleID: helper}, {Type: ReqRole, RoleID: mod}}}})
	now := time.Now()

	as, err := b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, now)
	require.NoError(t, err)
	require.Empty(t, as, "no roles stored yet")

	scope := tenants.NewStore(b.db.Bun).ForTenant(b.tenant)
	require.NoError(t, scope.Members().UpsertMany(b.ctx, g, []tenants.Member{{UserID: u, DisplayName: "ada", Roles: tenants.Snowflakes{helper}}}))
	as, err = b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, now)
	require.NoError(t, err)
	require.Equal(t, []string{"helper"}, keys(as))
	ps, err := b.ms.progress(b.ctx, g, u, now)
	require.NoError(t, err)
	require.Equal(t, "1/2 requirements", progressOf(t, ps, "helper_mod").Label)

	require.NoError(t, scope.Directory().DeleteRole(b.ctx, g, helper))
	require.NoError(t, scope.Members().UpsertMany(b.ctx, g, []tenants.Member{{UserID: u, DisplayName: "ada", Roles: tenants.Snowflakes{mod}}}))
	ps, err = b.ms.progress(b.ctx, g, u, now)
	require.NoError(t, err)
	require.Equal(t, "1/2 requirements", progressOf(t, ps, "helper_mod").Label, "the deleted role is gone, the new one counts")
	as, err = b.ms.check(b.ctx, CheckRequest{GuildID: g, UserID: u}, now)
	require.NoError(t, err)
	require.Empty(t, as, "helper and moderator were never held together")
}
