package rules_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/apperr"
)

// A request carrying a document, as the API decodes it.
type docRequest struct {
	Document *rules.Document `json:"document"`
	Version  int             `json:"version"`
	RuleID   int64           `json:"rule_id,string"`
}

func TestDecodeStrictReportsJSONPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		field   string
		message string
	}{
		{"misspelt conditions", `{"document":{"name":"x","trigger":{"events":["message_create"]},"condtions":[{"type":"not_bot"}],"effects":[]}}`,
			"document.condtions", `unknown field (did you mean "conditions"?)`},
		{"unknown field in the trigger", `{"document":{"name":"x","trigger":{"events":["message_create"],"channels":["1"]}}}`,
			"document.trigger.channels", "unknown field"},
		{"unknown field of the request", `{"documnet":{}}`, "documnet", `unknown field (did you mean "document"?)`},
		{"names match exactly", `{"document":{"Name":"x"}}`, "document.Name", `unknown field (did you mean "name"?)`},
		{"priority of the wrong type", `{"document":{"name":"x","priority":"high"}}`, "document.priority", "must be an integer"},
		{"version of the wrong type", `{"version":"2"}`, "version", "must be an integer"},
		{"event of the wrong type", `{"document":{"trigger":{"events":["message_create",7]}}}`, "document.trigger.events[1]", "must be a string"},
		{"trigger not an object", `{"document":{"trigger":["message_create"]}}`, "document.trigger", "must be an object"},
		{"effects not a list", `{"document":{"effects":{"type":"credit"}}}`, "document.effects", "must be a list"},
		{"effect not an object", `{"document":{"effects":["credit"]}}`, "document.effects[0]", "must be an object"},
		{"enabled not a boolean", `{"document":{"enabled":"yes"}}`, "document.enabled", "must be a boolean"},
		{"quoted id not a string", `{"rule_id":12}`, "rule_id", "must be a string"},
		{"quoted id not a number", `{"rule_id":"twelve"}`, "rule_id", "must be a string holding an integer"},
		{"document not an object", `{"document":"not an object"}`, "document", "must be an object"},
		{"body not JSON", `{"document":`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var req docRequest
			err := rules.DecodeStrict([]byte(tc.body), &req)
			var ve *apperr.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field, "message: %s", ve.Message)
			if tc.message != "" {
				require.Equal(t, tc.message, ve.Message)
			}
		})
	}

	t.Run("a valid request decodes as encoding/json would", func(t *testing.T) {
		t.Parallel()
		var req docRequest
		require.NoError(t, rules.DecodeStrict([]byte(`{"document":{"key":"k","name":"x","priority":3,"enabled":false,
			"trigger":{"events":["message_create"]},"conditions":[{"type":"cooldown","seconds":60}],
			"effects":[{"type":"credit","currency":"xp","amount":"5"}]},"version":2,"rule_id":"42"}`), &req))
		require.Equal(t, 2, req.Version)
		require.Equal(t, int64(42), req.RuleID)
		d := req.Document
		require.Equal(t, []any{"k", "x", 3, false, []string{"message_create"}}, []any{d.Key, d.Name, d.Priority, *d.Enabled, d.Trigger.Events})
		require.Equal(t, "cooldown", d.Conditions[0].Type)
		require.JSONEq(t, `{"seconds":60}`, string(d.Conditions[0].Params))
		require.Equal(t, "credit", d.Effects[0].Type)
		require.NoError(t, compiler(t).Validate(*d))
	})
	t.Run("null leaves a field empty", func(t *testing.T) {
		t.Parallel()
		var req docRequest
		require.NoError(t, rules.DecodeStrict([]byte(`{"document":null}`), &req))
		require.Nil(t, req.Document)
	})
	t.Run("a pasted event is strict too", func(t *testing.T) {
		t.Parallel()
		var evs struct {
			Events []rules.EventJSON `json:"events"`
		}
		err := rules.DecodeStrict([]byte(`{"events":[{"type":"message_create"},{"type":"message_create","user":"7"}]}`), &evs)
		var ve *apperr.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "events[1].user", ve.Field)
		err = rules.DecodeStrict([]byte(`{"events":[{"type":"message_create","user_id":"x7"}]}`), &evs)
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "events[0].user_id", ve.Field)
		require.Contains(t, ve.Message, "Discord id")
	})
}
