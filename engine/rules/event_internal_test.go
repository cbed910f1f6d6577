package rules_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
)

func TestSchedulePeriod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		trigger string
		at      time.Time
		want    time.Time
	}{
		{"daily: the UTC day", rules.EventScheduleDaily, time.Date(2026, 3, 4, 23, 59, 0, 0, time.UTC), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)},
		{"daily: UTC, whatever the zone", rules.EventScheduleDaily, time.Date(2026, 3, 4, 1, 0, 0, 0, time.FixedZone("CET", 3600)), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)},
		{"weekly: a Wednesday is in Monday's week", rules.EventScheduleWeekly, time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"weekly: Monday midnight starts the week", rules.EventScheduleWeekly, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"weekly: Sunday ends it", rules.EventScheduleWeekly, time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rules.SchedulePeriod(tc.trigger, tc.at)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := rules.SchedulePeriod(rules.EventLevelUp, time.Now())
	require.Error(t, err)
}

// An internal event's source id depends only on what produced it, so a
// retried task evaluates the same event.
func TestInternalEventSourceIDsAreStable(t *testing.T) {
	t.Parallel()
	monday := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	a := rules.ScheduleEvent(rules.EventScheduleDaily, 1, 10, monday)
	require.Equal(t, a.SourceID, rules.ScheduleEvent(rules.EventScheduleDaily, 1, 10, monday).SourceID)
	require.NotEqual(t, a.SourceID, rules.ScheduleEvent(rules.EventScheduleDaily, 1, 11, monday).SourceID, "per guild")
	require.NotEqual(t, a.SourceID, rules.ScheduleEvent(rules.EventScheduleDaily, 1, 10, monday.AddDate(0, 0, 1)).SourceID, "per period")
	require.Positive(t, a.SourceID)
	require.Zero(t, a.UserID, "no actor")
	require.Equal(t, "2026-03-02", a.Data["period"])

	c := rules.Credit{Origin: rules.Origin{RuleID: 7, RuleVersion: 2, GuildID: 10, Event: "message_create", SourceID: 99, Chain: []int64{3}},
		UserID: 5, Currency: "xp", Amount: 40}
	up := rules.LevelUpEvent(c, 1, monday, 1, 3)
	require.Equal(t, rules.EventLevelUp, up.Name)
	require.Equal(t, rules.CreditedEvent(c, 1, monday).SourceID, up.SourceID)
	require.Equal(t, []int64{3, 7}, up.Chain, "the crediting rule joins the chain")
	require.Equal(t, map[string]any{"currency": "xp", "old_level": int64(1), "new_level": int64(3)}, up.Data)
}

// Every internal trigger the editor offers says when it fires.
func TestCatalogDescribesInternalTriggers(t *testing.T) {
	t.Parallel()
	c := rules.NewRegistry().Catalog()
	got := map[string]string{}
	for _, ti := range c.TriggerInfo {
		got[ti.ID] = ti.Summary
	}
	for _, name := range []string{rules.EventLedgerCredited, rules.EventLevelUp, rules.EventMilestoneAwarded, rules.EventScheduleDaily, rules.EventScheduleWeekly} {
		require.Contains(t, c.Triggers, name)
		require.NotEmpty(t, got[name], name)
	}
	require.Contains(t, got[rules.EventScheduleDaily], "00:00 UTC")
	require.Contains(t, got[rules.EventScheduleWeekly], "Monday at 00:00 UTC")
}
