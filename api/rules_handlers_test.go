package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRuleDocumentsAreDecodedStrictly: a misspelt field anywhere in a rule
// document is refused at its path instead of being dropped (a dropped
// "conditions" is an uncapped rule), and a value of the wrong type is
// refused at its path.
func TestRuleDocumentsAreDecodedStrictly(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	g := b.gA
	code, body := b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "xp", "name": "XP"})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": ruleDoc("live")})
	require.Equal(t, http.StatusCreated, code, body)
	ruleID := body["id"].(string)

	typo := ruleDoc("capped")
	typo["condtions"] = []any{map[string]any{"type": "cap", "currency": "xp", "limit": 100, "period": "day"}}
	highPriority := ruleDoc("urgent")
	highPriority["priority"] = "high"
	nested := ruleDoc("nested")
	nested["trigger"] = map[string]any{"events": []string{"message_create"}, "channel": "1"}
	badEvent := ruleDoc("bad event")
	badEvent["trigger"] = map[string]any{"events": []any{"message_create", 7}}

	tests := []struct {
		name    string
		method  string
		path    string
		body    map[string]any
		field   string
		message string
	}{
		{"misspelt conditions on create", http.MethodPost, "/rules", map[string]any{"document": typo},
			"document.condtions", `unknown field (did you mean "conditions"?)`},
		{"misspelt conditions on update", http.MethodPut, "/rules/" + ruleID, map[string]any{"document": typo, "version": 1},
			"document.condtions", `unknown field (did you mean "conditions"?)`},
		{"misspelt conditions in a dry run", http.MethodPost, "/rules/dry-run", map[string]any{"document": typo, "events": []any{}},
			"document.condtions", `unknown field (did you mean "conditions"?)`},
		{"misspelt conditions in a backtest", http.MethodPost, "/rules/backtests", map[string]any{"document": typo, "days": 7},
			"document.condtions", `unknown field (did you mean "conditions"?)`},
		{"unknown field in the trigger", http.MethodPost, "/rules", map[string]any{"document": nested}, "document.trigger.channel", "unknown field"},
		{"unknown field beside the document", http.MethodPost, "/rules", map[string]any{"document": ruleDoc("x"), "enabled": true}, "enabled", "unknown field"},
		{"priority of the wrong type", http.MethodPost, "/rules", map[string]any{"document": highPriority}, "document.priority", "must be an integer"},
		{"trigger event of the wrong type", http.MethodPost, "/rules", map[string]any{"document": badEvent}, "document.trigger.events[1]", "must be a string"},
		{"version of the wrong type", http.MethodPut, "/rules/" + ruleID, map[string]any{"document": ruleDoc("x"), "version": "1"}, "version", "must be an integer"},
		{"unknown param, as before", http.MethodPost, "/rules", map[string]any{"document": map[string]any{"name": "x",
			"trigger": map[string]any{"events": []string{"message_create"}}, "conditions": []any{map[string]any{"type": "not_bot", "really": true}},
			"effects": []any{map[string]any{"type": "milestone_check"}}}}, "document.conditions[0].really", "is not a known parameter"},
		{"misspelt field of a pasted event", http.MethodPost, "/rules/dry-run", map[string]any{"document": ruleDoc("x"),
			"events": []any{map[string]any{"type": "message_create", "usr_id": "7"}}}, "events[0].usr_id", `unknown field (did you mean "user_id"?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := b.do(t, op, tc.method, guildPath(g, tc.path), tc.body)
			require.Equal(t, http.StatusBadRequest, code, body)
			require.Equal(t, "invalid", errCode(body))
			require.Equal(t, tc.field, errField(body), "%v", body)
			require.Equal(t, tc.message, body["error"].(map[string]any)["message"])
		})
	}

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/rules"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["items"], 1, "nothing was saved")
	require.EqualValues(t, 1, body["items"].([]any)[0].(map[string]any)["version"])

	// Other routes keep ignoring unknown fields, but name a mistyped one.
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "gold", "name": 5})
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "name", errField(body))
	require.Equal(t, "must be a string", body["error"].(map[string]any)["message"])
}

// TestZoneNamedByARuleIsKept: deleting or renaming a zone a rule names is
// a conflict that lists the rules.
func TestZoneNamedByARuleIsKept(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	g := b.gA
	code, body := b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "xp", "name": "XP"})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/zones"), map[string]any{"name": "help", "channels": []string{"11"}})
	require.Equal(t, http.StatusCreated, code, body)
	zone := "/zones/" + body["id"].(string)
	d := ruleDoc("Help XP")
	d["conditions"] = []any{map[string]any{"type": "channel_in_zone", "zones": []string{"help"}}}
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": d})
	require.Equal(t, http.StatusCreated, code, body)
	rule := body["id"].(string)

	code, body = b.do(t, op, http.MethodDelete, guildPath(g, zone), nil)
	require.Equal(t, http.StatusConflict, code, body)
	require.Equal(t, fmt.Sprintf(`cannot delete zone "help": rules name it: %s ("Help XP"); change or delete them first`, rule),
		body["error"].(map[string]any)["message"])
	code, body = b.do(t, op, http.MethodPut, guildPath(g, zone), map[string]any{"name": "support", "channels": []string{"11"}})
	require.Equal(t, http.StatusConflict, code, body)
	code, body = b.do(t, op, http.MethodPut, guildPath(g, zone), map[string]any{"name": "help", "channels": []string{"11", "12"}})
	require.Equal(t, http.StatusOK, code, "the channels may change: %v", body)

	code, _ = b.do(t, op, http.MethodDelete, guildPath(g, "/rules/"+rule), nil)
	require.Equal(t, http.StatusNoContent, code)
	code, body = b.do(t, op, http.MethodDelete, guildPath(g, zone), nil)
	require.Equal(t, http.StatusNoContent, code, body)
}
