package rules_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/tenants"
)

// Only guilds with an enabled rule on the trigger are listed, each once.
func TestGuildsTriggeredBy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupStore(t)
	daily := `{"name":"daily","trigger":{"events":["schedule.daily","schedule.weekly"]},
		"effects":[{"type":"send_message","channel":"5","content":"good morning"}]}`
	_, err := b.rules.CreateRule(ctx, b.actor, b.guild, doc(t, daily))
	require.NoError(t, err)
	_, err = b.rules.CreateRule(ctx, b.actor, b.guild, doc(t, daily))
	require.NoError(t, err)
	_, err = b.rules.CreateRule(ctx, b.actor, b.guild, doc(t, xpRule))
	require.NoError(t, err)
	off := guild(t, b.db, b.tenant) // its only daily rule is disabled
	r, err := b.rules.CreateRule(ctx, b.actor, off, doc(t, daily))
	require.NoError(t, err)
	_, err = b.rules.SetRuleEnabled(ctx, b.actor, off, r.ID, false)
	require.NoError(t, err)
	guild(t, b.db, b.tenant) // no rules at all

	got, err := b.store.GuildsTriggeredBy(ctx, rules.EventScheduleDaily)
	require.NoError(t, err)
	require.Equal(t, []tenants.GuildRef{{TenantID: b.tenant, GuildID: b.guild}}, got)
	got, err = b.store.GuildsTriggeredBy(ctx, rules.EventLevelUp)
	require.NoError(t, err)
	require.Empty(t, got)
}
