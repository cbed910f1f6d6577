package milestones

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/rules"
)

// OnAwarded gets each award's milestone.awarded event, chained after the
// rule whose check made it, the same on a retried check; rewards left to
// the caller are paid by CreditRewardsExcept, minus what it says was paid
// elsewhere.
func TestAdapterReportsAwardedEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	b.template(t, g, Template{Key: "first", Rarity: Rare, Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1},
		Rewards: []Reward{{Type: RewardCurrency, Currency: "stars", Amount: 3}, {Type: RewardCurrency, Currency: "gold", Amount: 20}}})
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 1, 0)

	var got [][]Awarded
	ad := &Adapter{Service: b.svc, OnAwarded: func(_ context.Context, tenantID int64, aw []Awarded) error {
		require.Equal(t, b.tenant, tenantID)
		got = append(got, aw)
		return nil
	}}
	checks := []rules.MilestoneCheck{{Origin: rules.Origin{GuildID: g, RuleID: 8, RuleVersion: 1, Event: "ledger.credited", SourceID: 99, Chain: []int64{4}}, UserID: u}}
	for range 2 {
		require.NoError(t, ad.Check(b.ctx, b.tenant, checks))
	}
	require.Len(t, got, 2)
	first, again := got[0][0], got[1][0]
	require.Equal(t, rules.EventMilestoneAwarded, first.Event.Name)
	require.Equal(t, u, first.Event.UserID)
	require.Equal(t, []int64{4, 8}, first.Event.Chain, "after the checking rule")
	require.Equal(t, "first", first.Event.Data["milestone"])
	require.Equal(t, first.Award.ID, first.Event.Data["award_id"])
	require.Equal(t, Rare, first.Event.Data["rarity"])
	require.Equal(t, int64(3), first.Event.Data["stars"])
	require.Equal(t, first.Event.SourceID, again.Event.SourceID, "a replayed award is the same event")
	require.True(t, again.Award.Replayed)

	balance := func(code string) int64 {
		c, err := b.led.CurrencyByCode(b.ctx, g, code)
		require.NoError(t, err)
		w, err := b.led.Balance(b.ctx, g, c.ID, u)
		require.NoError(t, err)
		return w.Balance
	}
	require.Zero(t, balance("stars"), "the adapter left the rewards to the caller")
	starsByRule := func(_ Award, currency string) bool { return currency == "stars" }
	for range 2 {
		require.NoError(t, b.ms.CreditRewardsExcept(b.ctx, []Award{first.Award}, starsByRule))
	}
	require.Zero(t, balance("stars"))
	require.Equal(t, int64(20), balance("gold"), "paid once")
}
