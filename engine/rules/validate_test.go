package rules_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

func TestValidateReportsJSONPath(t *testing.T) {
	t.Parallel()
	c := compiler(t)
	valid := `{"name":"ok","trigger":{"events":["message_create"]},"conditions":[{"type":"not_bot"}],
		"effects":[{"type":"credit","currency":"xp","base":10,"amount":"base * zone.multiplier * quality"}]}`
	tests := []struct {
		name  string
		doc   string
		field string
	}{
		{"missing name", `{"trigger":{"events":["message_create"]},"effects":[{"type":"milestone_check"}]}`, "name"},
		{"no trigger", `{"name":"x","effects":[{"type":"milestone_check"}]}`, "trigger.events"},
		{"unknown trigger", `{"name":"x","trigger":{"events":["message_create","nope"]},"effects":[{"type":"milestone_check"}]}`, "trigger.events[1]"},
		{"no effects", `{"name":"x","trigger":{"events":["message_create"]}}`, "effects"},
		{"unknown condition type", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"not_bot"},{"type":"frobnicate"}],"effects":[{"type":"milestone_check"}]}`, "conditions[1].type"},
		{"unknown effect type", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"milestone_check"},{"type":"explode"}]}`, "effects[1].type"},
		{"cel amount does not compile", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"base * "}]}`, "effects[0].amount"},
		{"cel amount is not a number", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"xp","amount":"'ten'"}]}`, "effects[0].amount"},
		{"cel condition is not a bool", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"cel","expr":"1 + 2"}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].expr"},
		{"cel unknown variable", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"cel","expr":"http.get('x') == 1"}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].expr"},
		{"param of the wrong type", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"cooldown","seconds":"soon"}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].seconds"},
		{"unknown param", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"not_bot","really":true}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].really"},
		{"out of range param", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"random_chance","probability":1.5}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].probability"},
		{"bad role id in list", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"has_role","roles":["1","abc"]}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].roles[1]"},
		{"condition on the wrong trigger", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"voice_not_afk"}],"effects":[{"type":"milestone_check"}]}`, "conditions[0]"},
		{"target recipient without a target", `{"name":"x","trigger":{"events":["voice_leave"]},"effects":[{"type":"credit","currency":"xp","amount":"1","to":"target"}]}`, "effects[0].to"},
		{"bad currency", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"credit","currency":"X P","amount":"1"}]}`, "effects[0].currency"},
		{"cap on a currency the rule does not credit", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"cap","currency":"gold","limit":5}],"effects":[{"type":"credit","currency":"xp","amount":"1"}]}`, "conditions[0].currency"},
		{"unknown template placeholder", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"send_message","content":"hi {usr}"}]}`, "effects[0].content"},
		{"embed colour", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"dm","embed":{"title":"t","color":99999999}}]}`, "effects[0].embed.color"},
		{"emit a lake event", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"emit","event":"message_create"}]}`, "effects[0].event"},
		{"emit data expression", `{"name":"x","trigger":{"events":["message_create"]},"effects":[{"type":"emit","event":"custom.hi","data":{"n":"event."}}]}`, "effects[0].data.n"},
		{"time window hour", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"time_window","from":"25:00","to":"10:00"}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].from"},
		{"weekday", `{"name":"x","trigger":{"events":["message_create"]},"conditions":[{"type":"time_window","weekdays":["mon","someday"]}],"effects":[{"type":"milestone_check"}]}`, "conditions[0].weekdays[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var doc rules.Document
			require.NoError(t, json.Unmarshal([]byte(tc.doc), &doc))
			err := c.Validate(doc)
			var ve *apperr.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field, "message: %s", ve.Message)
			require.NotEmpty(t, ve.Message)
		})
	}
	t.Run("valid document", func(t *testing.T) {
		t.Parallel()
		var doc rules.Document
		require.NoError(t, json.Unmarshal([]byte(valid), &doc))
		require.NoError(t, c.Validate(doc))
	})
	t.Run("classic preset", func(t *testing.T) {
		t.Parallel()
		for _, d := range rules.Classic().Rules {
			require.NoError(t, c.Validate(d), d.Key)
		}
	})
}

// Every condition and effect id is stable: stored rules name them.
func TestRegistryIDsAreStable(t *testing.T) {
	t.Parallel()
	reg := rules.NewRegistry()
	require.Equal(t, []string{"account_age", "cap", "cel", "channel_in_zone", "cooldown", "has_role", "lacks_role", "member_age",
		"min_length", "min_quality", "not_bot", "random_chance", "reaction_velocity", "time_window", "voice_not_afk"}, reg.ConditionIDs())
	require.Equal(t, []string{"credit", "debit", "dm", "emit", "grant_role", "milestone_check", "remove_role", "send_message"}, reg.EffectIDs())

	// A retired id keeps resolving through an alias.
	reg.Alias("no_bots", rules.CondNotBot)
	c, err := rules.NewCompiler(reg, rules.CompilerOptions{})
	require.NoError(t, err)
	require.NoError(t, c.Validate(rules.Document{Name: "old", Trigger: rules.Trigger{Events: []string{"message_create"}},
		Conditions: []rules.ConditionSpec{{Type: "no_bots"}}, Effects: []rules.EffectSpec{{Type: rules.EffectMilestoneCheck}}}))
}
