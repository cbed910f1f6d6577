package rules_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// The Classic preset's rules form one module, switched off and on
// together: every rule's toggle and the module's are audited; rules
// already in the asked state, and other modules, are left alone.
func TestModuleSwitchesItsRulesTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	actor := tenants.Actor{ID: "7"}
	_, err = ledger.New(db, testenv.Logger(t)).ForTenant(tn.ID).InstallPreset(ctx, actor, g.ID, ledger.PresetClassic)
	require.NoError(t, err)
	st := rules.NewStore(db.Bun, comp).ForTenant(tn.ID)
	_, err = st.InstallPreset(ctx, actor, g.ID, rules.Classic())
	require.NoError(t, err)
	own, err := st.CreateRule(ctx, actor, g.ID, rules.Document{Name: "Own rule", Trigger: rules.Trigger{Events: []string{"message_create"}},
		Effects: []rules.EffectSpec{{Type: "credit", Params: []byte(`{"currency":"xp","amount":"1"}`)}}})
	require.NoError(t, err)

	mods, err := st.Modules(ctx, g.ID)
	require.NoError(t, err)
	require.Len(t, mods, 2)
	require.Equal(t, rules.ClassicKey, mods[0].Module)
	require.Equal(t, mods[0].Rules, mods[0].Enabled)
	require.Equal(t, rules.NoModule, mods[1].Module, "the rules of no module come last")
	classic := mods[0].Rules

	changed, err := st.SetModuleEnabled(ctx, actor, g.ID, rules.ClassicKey, false)
	require.NoError(t, err)
	require.Len(t, changed, classic)
	mods, err = st.Modules(ctx, g.ID)
	require.NoError(t, err)
	require.Zero(t, mods[0].Enabled)
	require.Equal(t, 1, mods[1].Enabled, "another module is untouched")
	r, err := st.GetRule(ctx, g.ID, own.ID)
	require.NoError(t, err)
	require.True(t, r.Enabled)

	changed, err = st.SetModuleEnabled(ctx, actor, g.ID, rules.ClassicKey, false)
	require.NoError(t, err)
	require.Empty(t, changed, "already off")
	_, err = st.SetModuleEnabled(ctx, actor, g.ID, "nope", true)
	require.ErrorIs(t, err, apperr.ErrNotFound)

	var toggles, modules int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'rule.disable'), count(*) FILTER (WHERE action = 'rules.module.set_enabled')
		FROM audit_log WHERE tenant_id = $1`, tn.ID).Scan(&toggles, &modules))
	require.Equal(t, classic, toggles)
	require.Equal(t, 1, modules)
}
