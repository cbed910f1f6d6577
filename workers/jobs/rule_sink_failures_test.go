package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/disgoorg/disgo/rest"
	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// A rule crediting a currency deleted after it was saved is refused by
// the ledger on every event: each refusal counts as the rule's run-time
// failure, and the DefaultFailureThreshold-th in a row disables it with
// an audit entry, while the guild's other rule keeps paying.
func TestRuleTheLedgerKeepsRefusingIsDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	rdb := testenv.Redis(t)
	log := testenv.Logger(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	actor := tenants.Actor{ID: "1"}
	led := ledger.New(db, log).ForTenant(tn.ID)
	for _, code := range []string{"xp", "gold"} {
		_, err := led.CreateCurrency(ctx, actor, ledger.Currency{GuildID: g.ID, Code: code, Name: code})
		require.NoError(t, err)
	}
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	require.NoError(t, err)
	store := rules.NewStore(db.Bun, comp).ForTenant(tn.ID)
	create := func(doc string) rules.Rule {
		var d rules.Document
		require.NoError(t, json.Unmarshal([]byte(doc), &d))
		r, err := store.CreateRule(ctx, actor, g.ID, d)
		require.NoError(t, err)
		return r
	}
	gold := create(`{"name":"gold","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"gold","amount":"1"}]}`)
	xpRule := create(`{"name":"xp","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"2"}]}`)
	_, err = db.Bun.ExecContext(ctx, "DELETE FROM ledger_currencies WHERE tenant_id = ? AND guild_id = ? AND code = 'gold'", tn.ID, g.ID)
	require.NoError(t, err)

	pipe, err := NewRulesPipeline(db, rdb, rest.New(rest.NewClient("unused")), log, ops.NewRegistry())
	require.NoError(t, err)
	const member = int64(900000000000000001)
	at := time.Now().UTC()
	event := func(i int) {
		ev := rules.Event{Name: "message_create", TenantID: tn.ID, GuildID: g.ID, SourceID: at.UnixNano() + int64(i),
			OccurredAt: at.Add(time.Duration(i) * time.Second), UserID: member, ChannelID: 5, Magnitude: 50}
		require.NoError(t, pipe.Evaluator.rounds(ctx, tn.ID, []rules.Event{ev}, nil), "a refusal is no task error")
	}
	enabled := func() bool {
		r, err := store.GetRule(ctx, g.ID, gold.ID)
		require.NoError(t, err)
		return r.Enabled
	}
	for i := 1; i < rules.DefaultFailureThreshold; i++ {
		event(i)
		require.True(t, enabled(), "after %d refusals", i)
	}
	event(rules.DefaultFailureThreshold)
	r, err := store.GetRule(ctx, g.ID, gold.ID)
	require.NoError(t, err)
	require.False(t, r.Enabled)
	require.Contains(t, r.DisabledReason, "5 consecutive failures")
	require.Contains(t, r.DisabledReason, "ledger refused the effect: currency not found")
	es, err := tenants.NewStore(db.Bun).ForTenant(tn.ID).Audit().List(ctx, tenants.AuditFilter{GuildID: &g.ID, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, "rule.auto_disable", es[0].Action)
	require.Equal(t, "system", es[0].Actor)

	event(rules.DefaultFailureThreshold + 1)
	xp, err := led.CurrencyByCode(ctx, g.ID, "xp")
	require.NoError(t, err)
	w, err := led.Balance(ctx, g.ID, xp.ID, member)
	require.NoError(t, err)
	require.Equal(t, int64(2*(rules.DefaultFailureThreshold+1)), w.Balance, "the other rule paid on every event")
	r, err = store.GetRule(ctx, g.ID, xpRule.ID)
	require.NoError(t, err)
	require.True(t, r.Enabled)
}
