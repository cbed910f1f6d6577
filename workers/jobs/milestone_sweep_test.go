package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// The hourly sweep awards what time alone earns (a year of membership),
// pays its reward once, and a second sweep awards nothing more.
func TestMilestoneSweepAwardsTimeBasedMilestonesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	veteran := tenanttest.Member(ctx, t, db.Bun, g, &tenanttest.MemberOpts{JoinedAt: time.Now().AddDate(-2, 0, 0)})
	tenanttest.Member(ctx, t, db.Bun, g, &tenanttest.MemberOpts{JoinedAt: time.Now().AddDate(0, 0, -3)}) // a newcomer: nothing yet
	svc := ledger.New(db, log)
	ms := milestones.New(db, svc, log)
	_, err := ms.ForTenant(tn.ID).InstallClassic(ctx, tenants.Actor{ID: "1"}, g.ID)
	require.NoError(t, err)

	var announced []milestones.Award
	sweep := &MilestoneSweep{milestones: ms, tenants: tenants.NewStore(db.Bun), log: log,
		onAwards: func(_ context.Context, _ int64, aws []milestones.Award) error {
			announced = append(announced, aws...)
			return nil
		}}
	n, err := sweep.Run(ctx)
	require.NoError(t, err)
	require.Positive(t, n)
	require.NotEmpty(t, announced)
	for _, a := range announced {
		require.Equal(t, veteran.UserID, a.UserID, "only the year-old member earned something")
	}
	n, err = sweep.Run(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "awarded once")
}
