package rules_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/engine/rules"
)

// fixedChance rolls the same value for every key.
type fixedChance float64

func (f fixedChance) Roll(string) float64 { return float64(f) }

// oneCondition is a rule firing "credit 1 xp" under one condition.
func oneCondition(t *testing.T, triggers []string, condJSON string) rules.Document {
	t.Helper()
	var c rules.ConditionSpec
	require.NoError(t, json.Unmarshal([]byte(condJSON), &c))
	return rules.Document{Name: "r", Trigger: rules.Trigger{Events: triggers}, Conditions: []rules.ConditionSpec{c},
		Effects: []rules.EffectSpec{{Type: rules.EffectCredit, Params: json.RawMessage(`{"currency":"xp","amount":"1"}`)}}}
}

func TestConditions(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	zones := []rules.Zone{{Name: "help", Channels: []rules.Snowflake{200}}}
	young := t0.Add(-2 * 24 * time.Hour)
	facts := rules.StaticFacts{
		1: {Roles: []int64{10, 11}, JoinedAt: t0.Add(-30 * 24 * time.Hour)},
		2: {Roles: []int64{12}, JoinedAt: t0.Add(-time.Hour), AccountCreatedAt: young},
		3: {Bot: true},
		4: {Wallet: map[string]float64{"gold": 120}, Counters: map[string]float64{"messages_today": 3}},
	}
	message := func(user, channel int64, length int64, at time.Time) rules.Event {
		ev := msg(user, at, length)
		ev.ChannelID = channel
		return ev
	}
	tests := []struct {
		name   string
		cond   string
		events []rules.Event
		chance float64
		want   []bool // fired, per event in order
	}{
		{"channel in zone", `{"type":"channel_in_zone","zones":["help"]}`,
			[]rules.Event{message(1, 200, 50, t0), message(1, 100, 50, t0)}, 0, []bool{true, false}},
		{"channel in no listed zone (invert)", `{"type":"channel_in_zone","zones":["help"],"invert":true}`,
			[]rules.Event{message(1, 200, 50, t0), message(1, 100, 50, t0)}, 0, []bool{false, true}},
		{"has any role", `{"type":"has_role","roles":["11","99"]}`,
			[]rules.Event{message(1, 100, 50, t0), message(2, 100, 50, t0)}, 0, []bool{true, false}},
		{"has all roles", `{"type":"has_role","roles":["10","11"],"all":true}`,
			[]rules.Event{message(1, 100, 50, t0), message(2, 100, 50, t0)}, 0, []bool{true, false}},
		{"lacks role", `{"type":"lacks_role","roles":["12"]}`,
			[]rules.Event{message(1, 100, 50, t0), message(2, 100, 50, t0)}, 0, []bool{true, false}},
		{"not bot by facts", `{"type":"not_bot"}`,
			[]rules.Event{message(1, 100, 50, t0), message(3, 100, 50, t0)}, 0, []bool{true, false}},
		{"min length", `{"type":"min_length","chars":20}`,
			[]rules.Event{message(1, 100, 20, t0), message(1, 100, 19, t0.Add(time.Hour))}, 0, []bool{true, false}},
		{"min quality", `{"type":"min_quality","score":1.25}`,
			[]rules.Event{message(1, 100, 100, t0), message(1, 100, 50, t0.Add(time.Hour))}, 0, []bool{true, false}},
		{"account age", `{"type":"account_age","min_days":7}`,
			[]rules.Event{message(1, 100, 50, t0), message(2, 100, 50, t0)}, 0, []bool{true, false}},
		{"member age", `{"type":"member_age","min_days":1}`,
			[]rules.Event{message(1, 100, 50, t0), message(2, 100, 50, t0), message(4, 100, 50, t0)}, 0, []bool{true, false, false}},
		{"time window over midnight in a time zone", `{"type":"time_window","from":"22:00","to":"06:00","tz":"UTC"}`,
			[]rules.Event{message(1, 100, 50, time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC)), message(1, 100, 50, time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)), message(1, 100, 50, time.Date(2026, 3, 3, 5, 59, 0, 0, time.UTC))},
			0, []bool{true, false, true}},
		{"weekdays", `{"type":"time_window","weekdays":["sat","sun"]}`,
			[]rules.Event{message(1, 100, 50, t0), message(1, 100, 50, t0.AddDate(0, 0, 5))}, 0, []bool{false, true}},
		{"random chance passes below the probability", `{"type":"random_chance","probability":0.3}`,
			[]rules.Event{message(1, 100, 50, t0)}, 0.29, []bool{true}},
		{"random chance fails above it", `{"type":"random_chance","probability":0.3}`,
			[]rules.Event{message(1, 100, 50, t0)}, 0.31, []bool{false}},
		{"cooldown per user", `{"type":"cooldown","seconds":60}`,
			[]rules.Event{message(1, 100, 50, t0), message(1, 100, 50, t0.Add(59*time.Second)), message(2, 100, 50, t0.Add(59*time.Second)), message(1, 100, 50, t0.Add(time.Minute))},
			0, []bool{true, false, true, true}},
		{"cooldown per channel", `{"type":"cooldown","seconds":60,"per":"channel"}`,
			[]rules.Event{message(1, 100, 50, t0), message(2, 100, 50, t0.Add(time.Second)), message(2, 200, 50, t0.Add(time.Second))},
			0, []bool{true, false, true}},
		{"cel over wallet and counters", `{"type":"cel","expr":"wallet['gold'] >= 100.0 && counters['messages_today'] < 5.0"}`,
			[]rules.Event{message(4, 100, 50, t0)}, 0, []bool{true}},
		{"cel over member and zone", `{"type":"cel","expr":"10 in member.roles && member.member_age_days > 7.0 && zone.name == 'help' && event.length >= 50.0"}`,
			[]rules.Event{message(1, 200, 50, t0), message(1, 100, 50, t0.Add(time.Hour))}, 0, []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := ruleSet(t, c, zones, oneCondition(t, []string{"message_create"}, tc.cond))
			e := engine(t, facts, func(o *rules.Options) { o.Chance = fixedChance(tc.chance) })
			var got []bool
			for _, ev := range tc.events {
				res := eval(t, e, set, ev)
				require.Empty(t, res.Failures)
				got = append(got, len(res.Effects) == 1)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestVoiceAndReactionConditions(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	t.Run("voice not afk", func(t *testing.T) {
		t.Parallel()
		set := ruleSet(t, c, nil, oneCondition(t, []string{"voice_leave"}, `{"type":"voice_not_afk","min_seconds":120}`))
		e := engine(t, rules.StaticFacts{}, nil)
		leave := func(src int64, secs int64, flags lake.Flags) rules.Event {
			return rules.Event{Name: "voice_leave", GuildID: 42, SourceID: src, OccurredAt: t0, UserID: 1, ChannelID: 5, Magnitude: secs, Flags: flags}
		}
		require.Len(t, eval(t, e, set, leave(1, 600, 0)).Effects, 1)
		require.Empty(t, eval(t, e, set, leave(2, 600, lake.FlagAFK)).Effects)
		require.Empty(t, eval(t, e, set, leave(3, 119, 0)).Effects)
	})
	t.Run("reaction velocity: toggling earns once", func(t *testing.T) {
		t.Parallel()
		set := ruleSet(t, c, nil, oneCondition(t, []string{"reaction_add"}, `{"type":"reaction_velocity","limit":1,"window_seconds":600}`))
		e := engine(t, rules.StaticFacts{}, nil)
		react := func(src int64, from, to int64, at time.Duration) rules.Event {
			return rules.Event{Name: "reaction_add", GuildID: 42, SourceID: src, OccurredAt: t0.Add(at), UserID: from, ChannelID: 5, TargetID: to}
		}
		require.Len(t, eval(t, e, set, react(1, 1, 2, 0)).Effects, 1, "first reaction earns")
		require.Empty(t, eval(t, e, set, react(2, 1, 2, time.Second)).Effects, "re-added reaction earns nothing")
		require.Len(t, eval(t, e, set, react(1, 1, 2, 0)).Effects, 1, "the first one retried is still allowed")
		require.Len(t, eval(t, e, set, react(3, 7, 2, time.Second)).Effects, 1, "another reactor has their own allowance")
		require.Len(t, eval(t, e, set, react(4, 1, 2, 10*time.Minute)).Effects, 1, "after the window")
	})
	t.Run("reaction velocity: once per message, and a toggle spends no allowance", func(t *testing.T) {
		t.Parallel()
		set := ruleSet(t, c, nil, oneCondition(t, []string{"reaction_add"}, `{"type":"reaction_velocity","limit":2,"window_seconds":600}`))
		e := engine(t, rules.StaticFacts{}, nil)
		react := func(src, msg int64, at time.Duration) rules.Event {
			return rules.Event{Name: "reaction_add", GuildID: 42, SourceID: src, OccurredAt: t0.Add(at), UserID: 1, ChannelID: 5, TargetID: 2, MessageID: msg}
		}
		require.Len(t, eval(t, e, set, react(1, 100, 0)).Effects, 1, "first reaction to a message earns")
		require.Empty(t, eval(t, e, set, react(2, 100, time.Second)).Effects, "re-added (or a second emoji) on the same message earns nothing")
		require.Empty(t, eval(t, e, set, react(3, 100, 2*time.Second)).Effects, "nor a third time")
		require.Len(t, eval(t, e, set, react(1, 100, 0)).Effects, 1, "the first one retried is still allowed")
		require.Len(t, eval(t, e, set, react(4, 101, 3*time.Second)).Effects, 1, "another message of the author: the toggles spent nothing")
		require.Empty(t, eval(t, e, set, react(5, 102, 4*time.Second)).Effects, "a third message: the author allowance (2) is spent")
		require.Len(t, eval(t, e, set, react(6, 100, 11*time.Minute)).Effects, 1, "after the window the message earns again")
		unknown := react(7, 0, 22*time.Minute)
		require.Len(t, eval(t, e, set, unknown).Effects, 1, "message unknown (lake history): only the author allowance applies")
	})
}
