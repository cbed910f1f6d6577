package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/api/auth"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

func TestAdapterKeepsPoliciesWithTheirTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)

	az, err := auth.NewAuthorizer(db.Pool, time.Millisecond)
	require.NoError(t, err)
	require.NoError(t, az.SetRole(ctx, auth.UserSubject(7), auth.TenantDomain(tn.ID), auth.RoleViewer))
	require.NoError(t, az.SetRole(ctx, auth.UserSubject(7), auth.GuildDomain(g.ID), auth.RoleGuildAdmin))
	require.NoError(t, az.SetRole(ctx, auth.UserSubject(7), auth.TenantDomain(tn.ID), auth.RoleModerator))

	var tenantRules, platformRules int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE tenant_id = $1), count(*) FILTER (WHERE tenant_id IS NULL) FROM casbin_rules`, tn.ID).
		Scan(&tenantRules, &platformRules))
	require.Equal(t, 2, tenantRules, "the guild grant is filed under the guild's tenant; the replaced role is gone")
	require.Equal(t, len(auth.RolePolicies)+1, platformRules, "role definitions and the operator grant")

	// A second process sees the same policy from Postgres.
	other, err := auth.NewAuthorizer(db.Pool, time.Millisecond)
	require.NoError(t, err)
	d, err := other.Check(auth.UserSubject(7), []string{auth.GuildDomain(g.ID), auth.TenantDomain(tn.ID)}, "guild.settings", "write")
	require.NoError(t, err)
	require.Equal(t, auth.Allowed, d)
	d, err = other.Check(auth.UserSubject(7), []string{auth.TenantDomain(tn.ID)}, "guild.settings", "write")
	require.NoError(t, err)
	require.Equal(t, auth.Denied, d, "a moderator of the tenant may not write settings")
	d, err = other.Check(auth.UserSubject(7), []string{auth.TenantDomain(tn.ID + 1000)}, "guild.settings", "read")
	require.NoError(t, err)
	require.Equal(t, auth.Stranger, d)
	d, err = other.Check(auth.OperatorSubject, []string{auth.PlatformDomain}, "platform.shards", "read")
	require.NoError(t, err)
	require.Equal(t, auth.Allowed, d)

	// Grants removed in one process reach the other after MaxAge.
	require.NoError(t, az.SetRole(ctx, auth.UserSubject(7), auth.GuildDomain(g.ID), ""))
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, other.Refresh(ctx))
	require.Empty(t, other.RolesIn(auth.UserSubject(7), auth.GuildDomain(g.ID)))

	// SavePolicy writes back exactly what the model holds.
	e, err := casbin.NewEnforcer("testdata/model.conf", auth.NewAdapter(db.Pool))
	require.NoError(t, err)
	_, err = e.AddGroupingPolicy("user:8", auth.RoleOwner, auth.TenantDomain(tn.ID))
	require.NoError(t, err)
	require.NoError(t, e.SavePolicy())
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM casbin_rules WHERE v0 = 'user:8' AND tenant_id = $1`, tn.ID).Scan(&n))
	require.Equal(t, 1, n)
	_, err = e.RemoveFilteredGroupingPolicy(0, "user:8")
	require.NoError(t, err)
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM casbin_rules WHERE v0 = 'user:8'`).Scan(&n))
	require.Zero(t, n)
}
