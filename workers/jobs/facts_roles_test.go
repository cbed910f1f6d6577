package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/workers/gateway"
	"github.com/synapsehq/synapse/workers/gateway/gatewaytest"
)

// A role given on Discord (GUILD_MEMBER_UPDATE through the gateway worker)
// makes the member satisfy a has_role condition; taking it away undoes it.
func TestHasRoleFollowsDiscordRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild, cfg.Shards = 1, 10, 1
	cfg.IdentifyInterval = 10 * time.Millisecond
	sim := gatewaytest.Sim(t, cfg)
	w, _ := gatewaytest.Capture(t, db, sim, gateway.Config{})
	require.NoError(t, w.StartShard(ctx, 0, 1, 0, nil))

	g := sim.Guilds()[0]
	member, mod := g.Members[2], g.Roles["Moderator"]
	facts := NewMemberFacts(tenants.NewStore(db.Bun), ledger.New(db, testenv.Logger(t)))
	var tenantID int64
	var err error
	require.Eventually(t, func() bool {
		tenantID, err = tenants.NewStore(db.Bun).TenantOfGuild(ctx, int64(g.ID))
		if err != nil {
			return false
		}
		_, err := tenants.NewStore(db.Bun).ForTenant(tenantID).Members().Get(ctx, int64(g.ID), int64(member))
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "GUILD_CREATE's members synced")

	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	cond := json.RawMessage(`{"roles":["` + mod.String() + `"]}`)
	cr, err := comp.Compile(rules.Rule{ID: 1, Version: 1, Enabled: true, Document: rules.Document{
		Name: "mods earn", Trigger: rules.Trigger{Events: []string{"message_create"}},
		Conditions: []rules.ConditionSpec{{Type: rules.CondHasRole, Params: cond}},
		Effects:    []rules.EffectSpec{{Type: rules.EffectCredit, Params: json.RawMessage(`{"currency":"xp","amount":"1"}`)}},
	}})
	require.NoError(t, err)
	set := rules.NewRuleSet(tenantID, int64(g.ID), []*rules.CompiledRule{cr}, nil)
	eng, err := rules.NewEngine(rules.Options{State: rules.NewMemoryState(), Facts: facts})
	require.NoError(t, err)
	n := int64(0)
	fires := func() bool {
		n++
		at := time.Now().UTC()
		res, err := eng.Evaluate(ctx, set, rules.Event{Name: "message_create", TenantID: tenantID, GuildID: int64(g.ID),
			SourceID: lake.MintSnowflake(at, uint64(n)), OccurredAt: at, UserID: int64(member), ChannelID: 1, Magnitude: 10})
		require.NoError(t, err)
		return len(res.Effects) == 1
	}

	if fires() { // the synthetic member happened to be a moderator already
		require.NoError(t, sim.SetMemberRole(ctx, g.ID, member, mod, false))
		require.Eventually(t, func() bool { return !fires() }, 10*time.Second, 20*time.Millisecond)
	}
	require.NoError(t, sim.SetMemberRole(ctx, g.ID, member, mod, true))
	require.Eventually(t, fires, 10*time.Second, 20*time.Millisecond, "the role given on Discord satisfies has_role")
	require.NoError(t, sim.SetMemberRole(ctx, g.ID, member, mod, false))
	require.Eventually(t, func() bool { return !fires() }, 10*time.Second, 20*time.Millisecond, "and taking it away undoes it")
}
