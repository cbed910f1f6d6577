package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/apperr"
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
	rival := tenanttest.Tenant(ctx, t, db.Bun, nil)
	require.ErrorIs(t, st.ForTenant(rival.ID).InviteGuild(ctx, tenants.Actor{ID: "9"}, 9, 8101, now), apperr.ErrConflict,
		"another account's live invite stands")
	require.NoError(t, st.ForTenant(tn.ID).InviteGuild(ctx, tenants.Actor{ID: "7"}, 7, 8103, now.Add(-2*tenants.InviteTTL)))
	require.NoError(t, st.ForTenant(rival.ID).InviteGuild(ctx, tenants.Actor{ID: "9"}, 9, 8103, now), "an expired one does not")

	dir := NewDirectory(db)
	entry, err := dir.Join(ctx, 8101, "invited", 0, now, now)
	require.NoError(t, err)
	require.Equal(t, tn.ID, entry.tenantID)
	var pending int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM guild_invites WHERE guild_id = 8101`).Scan(&pending))
	require.Zero(t, pending, "the invite is spent")

	entry, err = dir.Join(ctx, 8103, "rival's", 0, now, now)
	require.NoError(t, err)
	require.Equal(t, rival.ID, entry.tenantID, "the live invite that replaced the expired one")

	entry, err = dir.Join(ctx, 8102, "expired invite", 0, now, now)
	require.NoError(t, err)
	require.NotEqual(t, tn.ID, entry.tenantID)
	other, err := st.Get(ctx, entry.tenantID)
	require.NoError(t, err)
	require.Equal(t, tenants.StatusUnclaimed, other.Status)
}
