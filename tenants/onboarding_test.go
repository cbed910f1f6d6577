package tenants_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

func auditActions(t *testing.T, db bun.IDB, tenantID int64) []string {
	t.Helper()
	var actions []string
	require.NoError(t, db.NewSelect().Table("audit_log").Column("action").Where("tenant_id = ?", tenantID).Order("id").Scan(context.Background(), &actions))
	return actions
}

// A user who adds the bot to a guild, or manages one the bot already
// joined, gets its tenant unless an operator already runs it.
func TestOnboardCreatesClaimsOrLeavesAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	st := tenants.NewStore(db)
	actor := tenants.Actor{ID: "42"}
	now := time.Now().UTC()

	// Not registered yet: a tenant of its own, owned by the user.
	out, err := st.Onboard(ctx, actor, 42, 9001, "Fresh guild", now)
	require.NoError(t, err)
	require.Equal(t, tenants.OnboardCreated, out.Outcome)
	tn, err := st.Get(ctx, out.TenantID)
	require.NoError(t, err)
	require.Equal(t, tenants.StatusActive, tn.Status)
	require.Equal(t, "Fresh guild", tn.Name)
	role, err := st.ForTenant(out.TenantID).Operators().Role(ctx, 42)
	require.NoError(t, err)
	require.Equal(t, "owner", role)
	got, err := st.TenantOfGuild(ctx, 9001)
	require.NoError(t, err)
	require.Equal(t, out.TenantID, got)
	require.Contains(t, auditActions(t, db, out.TenantID), "tenant.created_by_invite")

	// Adopted by the gateway, unclaimed: the user's now.
	unclaimed := tenanttest.Tenant(ctx, t, db, &tenanttest.TenantOpts{Status: tenants.StatusUnclaimed})
	tenanttest.Guild(ctx, t, db, unclaimed.ID, &tenanttest.GuildOpts{ID: 9002})
	out, err = st.Onboard(ctx, actor, 42, 9002, "", now)
	require.NoError(t, err)
	require.Equal(t, tenants.Onboarded{TenantID: unclaimed.ID, Outcome: tenants.OnboardClaimed}, out)
	tn, _ = st.Get(ctx, unclaimed.ID)
	require.Equal(t, tenants.StatusActive, tn.Status)
	require.Contains(t, auditActions(t, db, unclaimed.ID), "tenant.claimed")

	// Run by someone else: nothing changes for this user.
	active := tenanttest.Tenant(ctx, t, db, nil)
	tenanttest.Guild(ctx, t, db, active.ID, &tenanttest.GuildOpts{ID: 9003})
	before := auditActions(t, db, active.ID)
	out, err = st.Onboard(ctx, tenants.Actor{ID: "43"}, 43, 9003, "", now)
	require.NoError(t, err)
	require.Equal(t, tenants.Onboarded{TenantID: active.ID, Outcome: tenants.OnboardManaged}, out)
	_, err = st.ForTenant(active.ID).Operators().Role(ctx, 43)
	require.Error(t, err, "no role in a tenant someone else runs")
	require.Equal(t, before, auditActions(t, db, active.ID))

	// Claiming twice is harmless: the second finds it managed, or the
	// claimer's own.
	out, err = st.Onboard(ctx, tenants.Actor{ID: "44"}, 44, 9002, "", now)
	require.NoError(t, err)
	require.Equal(t, tenants.OnboardManaged, out.Outcome)
	out, err = st.Onboard(ctx, actor, 42, 9002, "", now)
	require.NoError(t, err)
	require.Equal(t, tenants.OnboardMember, out.Outcome)

	// A tenant with operators but no owner yet is not a guild admin's to take.
	staffed := tenanttest.Tenant(ctx, t, db, &tenanttest.TenantOpts{Status: tenants.StatusUnclaimed})
	tenanttest.Guild(ctx, t, db, staffed.ID, &tenanttest.GuildOpts{ID: 9004})
	require.NoError(t, st.ForTenant(staffed.ID).Operators().Set(ctx, tenants.Actor{ID: "operator"}, 46, "moderator"))
	out, err = st.Onboard(ctx, tenants.Actor{ID: "47"}, 47, 9004, "", now)
	require.NoError(t, err)
	require.Equal(t, tenants.OnboardManaged, out.Outcome)

	// An owner granted by the platform operator claims the tenant too.
	granted := tenanttest.Tenant(ctx, t, db, &tenanttest.TenantOpts{Status: tenants.StatusUnclaimed})
	require.NoError(t, st.ForTenant(granted.ID).Operators().Set(ctx, tenants.Actor{ID: "operator"}, 45, "admin"))
	tn, _ = st.Get(ctx, granted.ID)
	require.Equal(t, tenants.StatusUnclaimed, tn.Status, "an admin is not an owner")
	require.NoError(t, st.ForTenant(granted.ID).Operators().Set(ctx, tenants.Actor{ID: "operator"}, 45, "owner"))
	tn, _ = st.Get(ctx, granted.ID)
	require.Equal(t, tenants.StatusActive, tn.Status)
}

// The bot's GUILD_CREATE (the gateway adopting the guild into an unclaimed
// tenant) and the inviting user's callback race: whichever wins, the guild
// ends in exactly one tenant, active and owned by the user.
func TestOnboardRacingTheGatewayLeavesOneTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	st := tenants.NewStore(db)
	adopt := func(guildID int64) error { // what the gateway's directory does
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tenants.NewStore(tx).TenantOfGuild(ctx, guildID); err == nil {
				return nil
			}
			tn, err := tenants.NewStore(tx).Create(ctx, tenants.Tenant{Name: "auto", Status: tenants.StatusUnclaimed})
			if err != nil {
				return err
			}
			_, err = tenants.NewStore(tx).ForTenant(tn.ID).Guilds().Upsert(ctx, guildID, "g", time.Now(), time.Now())
			return err
		})
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		guildID := int64(7000 + i)
		wg.Add(2)
		go func() { defer wg.Done(); errs <- adopt(guildID) }()
		go func() {
			defer wg.Done()
			_, err := st.Onboard(ctx, tenants.Actor{ID: "42"}, 42, guildID, "g", time.Now())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			require.ErrorContains(t, err, "another tenant", "only the adopter may lose the race")
		}
	}
	for i := range n {
		guildID := int64(7000 + i)
		tenantID, err := st.TenantOfGuild(ctx, guildID)
		require.NoError(t, err)
		tn, err := st.Get(ctx, tenantID)
		require.NoError(t, err)
		require.Equal(t, tenants.StatusActive, tn.Status, fmt.Sprintf("guild %d", guildID))
		role, err := st.ForTenant(tenantID).Operators().Role(ctx, 42)
		require.NoError(t, err)
		require.Equal(t, "owner", role)
	}
}

// An owner may remove operators, but never the last owner; a removal is
// audited with the role it took away.
func TestRemovingOperatorsKeepsAnOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	ops := tenants.NewStore(db).ForTenant(tn.ID).Operators()
	actor := tenants.Actor{ID: "1"}
	require.NoError(t, ops.Set(ctx, actor, 1, "owner"))
	require.NoError(t, ops.Set(ctx, actor, 2, "admin"))
	require.NoError(t, ops.Remove(ctx, actor, 2))
	_, err := ops.Role(ctx, 2)
	require.ErrorIs(t, err, apperr.ErrNotFound)
	require.ErrorIs(t, ops.Remove(ctx, actor, 2), apperr.ErrNotFound)
	require.ErrorIs(t, ops.Remove(ctx, actor, 1), apperr.ErrConflict, "the last owner")
	require.ErrorIs(t, ops.Set(ctx, actor, 1, "admin"), apperr.ErrConflict, "nor demoted")
	role, err := ops.Role(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "owner", role)
	require.NoError(t, ops.Set(ctx, actor, 3, "owner"))
	require.NoError(t, ops.Remove(ctx, actor, 1), "another owner remains")
	require.Contains(t, auditActions(t, db, tn.ID), "tenant.operator.remove")
}
