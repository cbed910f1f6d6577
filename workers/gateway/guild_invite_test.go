package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A guild an operator invited the bot to joins their tenant when its
// GUILD_CREATE arrives, instead of a new unclaimed tenant; an expired
// invite does not count.
func TestInvitedGuildJoinsTheInvitingTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	st := tenants.NewStore(db.Bun)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	now := time.Now()
	require.NoError(t, st.ForTenant(tn.ID).InviteGuild(ctx, tenants.Actor{ID: "7"}, 7, 8101, now))
	require.NoError(t, st.ForTenant(tn.ID).InviteGuild(ctx, tenants.Actor{ID: "7"}, 7, 8102, now.Add(-2*tenants.InviteTTL)))

	dir := NewDirectory(db)
	entry, err := dir.Join(ctx, 8101, "invited", 0, now, now)
	require.NoError(t, err)
	require.Equal(t, tn.ID, entry.tenantID)
	var pending int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM guild_invites WHERE guild_id = 8101`).Scan(&pending))
	require.Zero(t, pending, "the invite is spent")

	entry, err = dir.Join(ctx, 8102, "expired invite", 0, now, now)
	require.NoError(t, err)
	require.NotEqual(t, tn.ID, entry.tenantID)
	other, err := st.Get(ctx, entry.tenantID)
	require.NoError(t, err)
	require.Equal(t, tenants.StatusUnclaimed, other.Status)
}
