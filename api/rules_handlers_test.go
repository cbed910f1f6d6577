package api_test

import (
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
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
			requireInvalidAt(t, code, body, tc.field, tc.message)
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

// TestDryRunAgainstLiveRules: a dry run evaluates the draft alone (the
// default), the guild's live rules, or the live rules with the draft
// added or in place of the rule it edits.
func TestDryRunAgainstLiveRules(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	g := b.gA
	code, body := b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "xp", "name": "XP"})
	require.Equal(t, http.StatusCreated, code, body)
	credit := func(name string, amount int) map[string]any {
		d := ruleDoc(name)
		d["effects"] = []any{map[string]any{"type": "credit", "currency": "xp", "amount": fmt.Sprint(amount)}}
		return d
	}
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": credit("live five", 5)})
	require.Equal(t, http.StatusCreated, code, body)
	five := body["id"].(string)
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": credit("live seven", 7)})
	require.Equal(t, http.StatusCreated, code, body)
	seven := body["id"].(string)
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": credit("switched off", 100)})
	require.Equal(t, http.StatusCreated, code, body)
	code, body = b.do(t, op, http.MethodPut, guildPath(g, "/rules/"+body["id"].(string)+"/enabled"), map[string]any{"enabled": false})
	require.Equal(t, http.StatusOK, code, body)

	events := []any{map[string]any{"type": "message_create", "user_id": "7", "channel_id": "8", "magnitude": 40}}
	// fired returns, for the one pasted event, "rule id:version=amount" per credit.
	fired := func(req map[string]any) []string {
		t.Helper()
		req["events"] = events
		code, body := b.do(t, op, http.MethodPost, guildPath(g, "/rules/dry-run"), req)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "pasted", body["source"])
		res := body["results"].([]any)[0].(map[string]any)
		var out []string
		for _, e := range res["effects"].([]any) {
			eff := e.(map[string]any)["effect"].(map[string]any)
			out = append(out, fmt.Sprintf("%v:%v=%v", eff["rule_id"], eff["rule_version"], eff["amount"]))
		}
		sort.Strings(out)
		return out
	}
	sorted := func(ss ...string) []string { sort.Strings(ss); return ss }

	tests := []struct {
		name string
		req  map[string]any
		want []string
	}{
		{"the draft alone by default", map[string]any{"document": credit("draft", 3)}, []string{"0:1=3"}},
		{"the draft alone", map[string]any{"against": "draft", "document": credit("draft", 3)}, []string{"0:1=3"}},
		{"the live rules, enabled ones", map[string]any{"against": "live"}, sorted(five+":1=5", seven+":1=7")},
		{"the live rules and the draft", map[string]any{"against": "live+draft", "document": credit("draft", 3)},
			sorted("0:1=3", five+":1=5", seven+":1=7")},
		{"the draft in place of the rule it edits", map[string]any{"against": "live+draft", "rule_id": five, "document": credit("live five, edited", 50)},
			sorted(five+":2=50", seven+":1=7")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, fired(tc.req))
		})
	}

	refused := []struct {
		name   string
		req    map[string]any
		status int
		field  string
	}{
		{"no document against the draft", map[string]any{}, 400, "document"},
		{"no document against live+draft", map[string]any{"against": "live+draft"}, 400, "document"},
		{"a document against live", map[string]any{"against": "live", "document": credit("x", 1)}, 400, "document"},
		{"an unknown set", map[string]any{"against": "staging"}, 400, "against"},
		{"rule_id without live+draft", map[string]any{"rule_id": five, "document": credit("x", 1)}, 400, "rule_id"},
		{"rule_id of no rule", map[string]any{"against": "live+draft", "rule_id": "999999999", "document": credit("x", 1)}, 404, ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			tc.req["events"] = events
			code, body := b.do(t, op, http.MethodPost, guildPath(g, "/rules/dry-run"), tc.req)
			require.Equal(t, tc.status, code, body)
			require.Equal(t, tc.field, errField(body), "%v", body)
		})
	}
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

// TestZoneBodiesAreDecodedStrictly: a zone's body is read as a rule
// document is: a misspelt field is refused at its path with the name it
// was probably meant to be (a dropped "multipliers" would save a zone that
// pays x1), and a value of the wrong type is refused at its JSON path,
// down to the list index or map key. Nothing is saved.
func TestZoneBodiesAreDecodedStrictly(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	g := b.gA
	code, body := b.do(t, op, http.MethodPost, guildPath(g, "/zones"), map[string]any{"name": "help", "channels": []string{"11"}})
	require.Equal(t, http.StatusCreated, code, body)
	zone := "/zones/" + body["id"].(string)

	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		field   string
		message string
	}{
		{"misspelt channels on create", http.MethodPost, "/zones", map[string]any{"name": "x", "chanels": []string{"12"}},
			"chanels", `unknown field (did you mean "channels"?)`},
		{"misspelt multipliers on update", http.MethodPut, zone, map[string]any{"name": "help", "channels": []string{"11"}, "multiplier": map[string]any{"xp": 2}},
			"multiplier", `unknown field (did you mean "multipliers"?)`},
		{"field names match exactly", http.MethodPost, "/zones", map[string]any{"Name": "x"}, "Name", `unknown field (did you mean "name"?)`},
		{"name of the wrong type", http.MethodPost, "/zones", map[string]any{"name": 5}, "name", "must be a string"},
		{"channel that is no Discord id", http.MethodPost, "/zones", map[string]any{"name": "x", "channels": []any{"12", "general"}},
			"channels[1]", "must be a Discord id (a string of digits)"},
		{"channels not a list", http.MethodPut, zone, map[string]any{"name": "help", "channels": "11"}, "channels", "must be a list"},
		{"multiplier of the wrong type", http.MethodPut, zone, map[string]any{"name": "help", "channels": []string{"11"}, "multipliers": map[string]any{"xp": "double"}},
			"multipliers.xp", "must be a number"},
		{"body not an object", http.MethodPost, "/zones", []any{"help"}, "", "must be an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := b.do(t, op, tc.method, guildPath(g, tc.path), tc.body)
			requireInvalidAt(t, code, body, tc.field, tc.message)
		})
	}

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/zones"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["items"], 1, "nothing was created")
	z := body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "help", z["name"])
	require.Equal(t, []any{"11"}, z["channels"])
	require.Equal(t, map[string]any{}, z["multipliers"], "nothing was updated")

	// A well-formed body still goes through, numeric ids included.
	code, body = b.do(t, op, http.MethodPut, guildPath(g, zone), map[string]any{"name": "help", "channels": []any{"11", 12}, "multipliers": map[string]any{"xp": 1.5}})
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, []any{"11", "12"}, body["channels"])
}

// TestInstallClassicPreset installs the currencies, milestones, zones and
// rules of the Classic preset in one call; a second call changes nothing
// and says so. A token must cover every area the install writes.
func TestInstallClassicPreset(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	g := b.gA
	path := guildPath(g, "/rules/presets/classic")

	// A token scoped to rules alone may not create currencies through it.
	owner := b.plainMember(t, 0, 1)
	code, body := b.do(t, op, http.MethodPut, tenantPath(b.tA, fmt.Sprintf("/members/%d", owner)), map[string]any{"role": "owner"})
	require.Equal(t, http.StatusOK, code, body)
	s, _ := b.login(t, owner)
	code, tok := b.do(t, caller{session: &s}, http.MethodPost, "/api/v1/me/tokens", map[string]any{"name": "rules", "scopes": []string{"guild.rules:*"}})
	require.Equal(t, http.StatusCreated, code, tok)
	code, body = b.do(t, caller{bearer: tok["secret"].(string)}, http.MethodPost, path, nil)
	require.Equal(t, http.StatusForbidden, code, body)

	// The guild already has XP: it is kept.
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "xp", "name": "Experience"})
	require.Equal(t, http.StatusCreated, code, body)

	code, body = b.do(t, op, http.MethodPost, path, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, true, body["changed"])
	require.Equal(t, "classic", body["preset"])
	require.Equal(t, []any{"gold", "stars"}, body["currencies_created"])
	require.Len(t, body["milestones_created"], len(milestones.Classic()))
	require.Len(t, body["zones_created"], len(rules.Classic().Zones))
	require.Len(t, body["rules_created"], len(rules.Classic().Rules))
	require.Empty(t, body["rules_kept"])

	code, audit := b.do(t, op, http.MethodGet, guildPath(g, "/audit?limit=200"), nil)
	require.Equal(t, http.StatusOK, code, audit)
	entries := len(audit["items"].([]any))
	var actions []string
	for _, e := range audit["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	require.Contains(t, actions, "rules.preset.install")
	require.Contains(t, actions, "rule.create")
	require.Contains(t, actions, "rules.zone.create")

	code, body = b.do(t, op, http.MethodPost, path, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, false, body["changed"], "%v", body)
	for _, k := range []string{"currencies_created", "milestones_created", "zones_created", "rules_created"} {
		require.Equal(t, []any{}, body[k], k)
	}
	require.Len(t, body["rules_kept"], len(rules.Classic().Rules))
	code, audit = b.do(t, op, http.MethodGet, guildPath(g, "/audit?limit=200"), nil)
	require.Equal(t, http.StatusOK, code, audit)
	require.Len(t, audit["items"], entries, "a call that changes nothing writes nothing")

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/currencies"), nil)
	require.Equal(t, http.StatusOK, code, body)
	names := map[string]any{}
	for _, c := range body["items"].([]any) {
		names[c.(map[string]any)["code"].(string)] = c.(map[string]any)["name"]
	}
	require.Equal(t, map[string]any{"xp": "Experience", "gold": "Gold", "stars": "Stars"}, names, "what the guild had is kept")

	// What was installed runs: the live set pays XP for a message.
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules/dry-run"), map[string]any{"against": "live",
		"events": []any{map[string]any{"type": "message_create", "user_id": "7", "channel_id": "8", "magnitude": 60}}})
	require.Equal(t, http.StatusOK, code, body)
	require.EqualValues(t, 1, body["fired"], "%v", body)
	require.Nil(t, body["left_out"])
}

// requireInvalidAt checks a 400 "invalid" answer naming the field at
// fault (its JSON path) and saying what is wrong with it.
func requireInvalidAt(t *testing.T, code int, body map[string]any, field, message string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "invalid", errCode(body))
	require.Equal(t, field, errField(body), "%v", body)
	require.Equal(t, message, body["error"].(map[string]any)["message"])
}
