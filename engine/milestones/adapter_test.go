package milestones

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/rules"
)

func TestAdapterIsIdempotentOnTheCheckKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	b.template(t, g, Template{Key: "first", Requirement: Requirement{Type: ReqEvents, Event: "message_create", Min: 1},
		Rewards: []Reward{{Type: RewardCurrency, Currency: "stars", Amount: 3}, {Type: RewardAnnounce}}})
	b.template(t, g, Template{Key: "other", Requirement: Requirement{Type: ReqEvents, Event: "reaction_add", Min: 1}})
	u := b.member(t, g, time.Time{}, 0)
	b.count(t, g, u, time.Now(), lake.MessageCreate, 1, 1, 0)
	b.count(t, g, u, time.Now(), lake.ReactionAdd, 1, 1, 0)

	var reported [][]Award
	ad := &Adapter{Service: b.svc, CreditRewards: true, OnAwards: func(_ context.Context, tenantID int64, as []Award) error {
		require.Equal(t, b.tenant, tenantID)
		reported = append(reported, as)
		return nil
	}}
	var checker rules.MilestoneChecker = ad
	checks := []rules.MilestoneCheck{
		{Origin: rules.Origin{GuildID: g, RuleID: 1, RuleVersion: 1, Event: "message_create", SourceID: 99}, UserID: u, Milestone: "first"},
		{Origin: rules.Origin{GuildID: g, RuleID: 1, RuleVersion: 1, Event: "message_create", SourceID: 99, Index: 1}, UserID: u, Milestone: "deleted_since"},
	}
	for range 3 { // a retried task delivers the same effects again
		require.NoError(t, checker.Check(b.ctx, b.tenant, checks))
	}
	require.Len(t, reported, 3)
	require.Equal(t, []string{"first"}, keys(reported[0]))
	require.False(t, reported[0][0].Replayed)
	require.Equal(t, []string{"first"}, keys(reported[2]), "the retry reports the same award")
	require.True(t, reported[2][0].Replayed)
	require.Equal(t, reported[0][0].ID, reported[2][0].ID)

	stars, err := b.led.CurrencyByCode(b.ctx, g, "stars")
	require.NoError(t, err)
	w, err := b.led.Balance(b.ctx, g, stars.ID, u)
	require.NoError(t, err)
	require.Equal(t, int64(3), w.Balance, "paid once")

	awards, err := b.ms.Awards(b.ctx, g, u)
	require.NoError(t, err)
	require.Equal(t, []string{"first"}, keys(awards), "the key-scoped check did not award 'other'")

	ev := AwardedEvent(b.tenant, reported[0][0], Common)
	require.Equal(t, rules.EventMilestoneAwarded, ev.Name)
	require.Equal(t, int64(3), ev.Data["stars"])
	require.Equal(t, ev.SourceID, AwardedEvent(b.tenant, reported[2][0], Common).SourceID)
}

func TestSweepChecksEveryMember(t *testing.T) {
	t.Parallel()
	b := setup(t)
	g := b.guild(t, "")
	b.template(t, g, Template{Key: "old_timer", Requirement: Requirement{Type: ReqMemberDays, Min: 10}})
	var old []int64
	for i := range 5 {
		joined := time.Now().AddDate(0, 0, -20)
		if i%2 == 1 {
			joined = time.Now().AddDate(0, 0, -5)
		} else {
			old = append(old, 0)
		}
		b.member(t, g, joined, 0)
	}
	var got []Award
	after := int64(0)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		next, as, err := b.ms.Sweep(b.ctx, g, after, 2)
		require.NoError(t, err)
		got = append(got, as...)
		if next == 0 {
			break
		}
		after = next
	}
	require.Len(t, got, len(old))
}
