package jobs

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A milestone earned by holding a role (the stored roles, even of a member
// who never posts: found by the sweep) grants its role reward on Discord
// once, through the action queue.
func TestMilestoneRoleRewardIsGrantedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	const booster, veteran = int64(7001), int64(7002)
	holder := tenanttest.Member(ctx, t, db.Bun, g, &tenanttest.MemberOpts{Roles: []int64{booster}})
	tenanttest.Member(ctx, t, db.Bun, g, nil) // holds nothing: earns nothing
	svc := ledger.New(db, log)
	ms := milestones.New(db, svc, log)
	_, err := ms.ForTenant(tn.ID).Create(ctx, tenants.Actor{ID: "1"}, milestones.Template{GuildID: g.ID, Key: "supporter", Name: "Supporter",
		Requirement: milestones.Requirement{Type: milestones.ReqRole, RoleID: booster},
		Rewards:     []milestones.Reward{{Type: milestones.RewardRole, RoleID: veteran}}})
	require.NoError(t, err)

	announcer := NewAnnouncer(ms, tenants.NewStore(db.Bun), NewActionQueue(asynq.NewClientFromRedisClient(rdb), rdb), rdb, log, ops.NewRegistry())
	sweep := &MilestoneSweep{milestones: ms, tenants: tenants.NewStore(db.Bun), log: log, onAwards: announcer.OnAwards}
	n, err := sweep.Run(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	// The same awards reported again (a retried task) enqueue nothing new.
	awards, err := ms.ForTenant(tn.ID).Awards(ctx, g.ID, holder.UserID)
	require.NoError(t, err)
	require.NoError(t, announcer.OnAwards(ctx, tn.ID, awards))
	n, err = sweep.Run(ctx)
	require.NoError(t, err)
	require.Zero(t, n)

	queued, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(QueueDiscord)
	require.NoError(t, err)
	require.Len(t, queued, 1, "one role grant, no announcement channel configured")
	var p actionPayload
	require.NoError(t, json.Unmarshal(queued[0].Payload, &p))
	require.Equal(t, rules.EffectGrantRole, p.Kind)
	var grant rules.GrantRole
	require.NoError(t, json.Unmarshal(p.Action, &grant))
	require.Equal(t, holder.UserID, grant.UserID)
	require.Equal(t, veteran, grant.RoleID)
	require.Equal(t, g.ID, grant.GuildID)
}
