package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/tenants"
)

// TestDashboardEconomy drives the economy routes as an operator would:
// a currency, manual awards, then the leaderboard, a profile, the
// activity feed and the overview read back what happened.
func TestDashboardEconomy(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	ctx := context.Background()
	g := b.gA
	require.NoError(t, tenants.NewStore(b.db.Bun).ForTenant(b.tA.ID).Members().UpsertMany(ctx, g.ID, []tenants.Member{
		{UserID: 11, DisplayName: "Ada"}, {UserID: 12, DisplayName: "Brian"}, {UserID: 13, DisplayName: "Cleo"},
	}))

	code, body := b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "Bad Code"})
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "code", errField(body), "the error names the field")
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "xp", "name": "XP", "primary": true,
		"level_curve": map[string]any{"kind": "linear", "coeffs": []int{100}}})
	require.Equal(t, http.StatusCreated, code, body)

	for user, amount := range map[int64]int{11: 50, 12: 250, 13: 120} {
		code, body = b.do(t, op, http.MethodPost, guildPath(g, "/awards"), map[string]any{"user_id": fmt.Sprint(user), "currency": "xp", "amount": amount, "reason": "welcome"})
		require.Equal(t, http.StatusCreated, code, body)
		require.EqualValues(t, amount, body["balance"])
	}
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/awards"), map[string]any{"user_id": "12", "currency": "xp", "amount": -300, "reason": "too much"})
	require.Equal(t, http.StatusConflict, code, "a deduction beyond the balance is refused: %v", body)
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/awards"), map[string]any{"user_id": "12", "currency": "xp", "amount": -40, "reason": "spam"})
	require.Equal(t, http.StatusCreated, code, body)
	require.EqualValues(t, 210, body["balance"])

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/leaderboard?limit=2"), nil)
	require.Equal(t, http.StatusOK, code, body)
	items := body["items"].([]any)
	require.Len(t, items, 2)
	first, second := items[0].(map[string]any), items[1].(map[string]any)
	require.Equal(t, []any{"12", "Brian", float64(210), float64(1)}, []any{first["user_id"], first["name"], first["balance"], first["rank"]})
	require.Equal(t, "Cleo", second["name"])
	require.EqualValues(t, 2, first["level"].(map[string]any)["level"], "210 XP at 100 per level")
	require.EqualValues(t, 2, body["next_offset"])
	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/leaderboard?offset=2"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "Ada", body["items"].([]any)[0].(map[string]any)["name"])
	require.Nil(t, body["next_offset"], "a short page is the last")

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/members/12"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "Brian", body["name"])
	wallet := body["wallets"].([]any)[0].(map[string]any)
	require.EqualValues(t, 210, wallet["wallet"].(map[string]any)["balance"])
	require.EqualValues(t, 1, wallet["rank"])
	require.Len(t, body["transactions"], 2, "the award and the deduction")
	code, _ = b.do(t, op, http.MethodGet, guildPath(g, "/members/999"), nil)
	require.Equal(t, http.StatusNotFound, code, "a stranger with no wallet has no profile")

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/members?q=le"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["items"], 1, "Cleo only")

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/activity?limit=2"), nil)
	require.Equal(t, http.StatusOK, code, body)
	feed := body["items"].([]any)
	require.Len(t, feed, 2)
	newest := feed[0].(map[string]any)
	require.Equal(t, []any{"debit", "Brian", float64(-40), "xp", "spam"}, []any{newest["kind"], newest["name"], newest["amount"], newest["currency"], newest["reason"]})
	require.NotNil(t, body["next_before"])
	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/activity?limit=2&before="+body["next_before"].(string)), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["items"], 2, "the two older awards")

	// Ada posts twice today, and a user who is no member (left, or never
	// seen) once: the overview counts present members only as active.
	now := time.Now().UTC()
	_, err := lake.EnsurePartitions(ctx, b.db.Pool, now.AddDate(0, 0, -1), now.AddDate(0, 0, 1))
	require.NoError(t, err)
	var evs []lake.Event
	for i, user := range []int64{11, 11, 99} {
		evs = append(evs, lake.Event{TenantID: b.tA.ID, GuildID: g.ID, OccurredAt: now, SourceID: lake.MintSnowflake(now, uint64(i)),
			Type: lake.MessageCreate, UserID: user, ChannelID: 5, Magnitude: 10})
	}
	_, err = lake.NewWriter(b.db.Pool).Write(ctx, lake.Batch{Events: evs})
	require.NoError(t, err)

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/overview"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.EqualValues(t, 1, body["members"].(map[string]any)["active_7d"])
	require.EqualValues(t, 3, body["events"].(map[string]any)["today"])
	cur := body["currencies"].([]any)[0].(map[string]any)
	require.EqualValues(t, 50+210+120, cur["issued"])
	require.EqualValues(t, 3, cur["holders"])
	require.EqualValues(t, 3, body["members"].(map[string]any)["total"])
	require.Len(t, body["events"].(map[string]any)["daily"], 30)
	require.Equal(t, "Brian", body["top"].([]any)[0].(map[string]any)["name"])
}

// TestDashboardRules covers the rule editor's round trip: validation
// errors at the document's field, create, dry run, stale edits refused,
// toggling, and the audit trail with before and after.
func TestDashboardRules(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	g := b.gA
	code, body := b.do(t, op, http.MethodPost, guildPath(g, "/currencies"), map[string]any{"code": "xp", "name": "XP"})
	require.Equal(t, http.StatusCreated, code, body)

	broken := ruleDoc("broken")
	broken["effects"] = []any{map[string]any{"type": "credit", "currency": "xp", "amount": "length *"}}
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": broken})
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "document.effects[0].amount", errField(body))

	unknown := ruleDoc("Gems")
	unknown["effects"] = []any{map[string]any{"type": "credit", "currency": "gems", "amount": "1"}}
	for _, path := range []string{"/rules", "/rules/dry-run", "/rules/backtests"} {
		code, body = b.do(t, op, http.MethodPost, guildPath(g, path), map[string]any{"document": unknown})
		require.Equal(t, http.StatusBadRequest, code, "%s: %v", path, body)
		require.Equal(t, "document.effects[0].currency", errField(body), path)
	}

	doc := ruleDoc("Long messages")
	doc["conditions"] = []any{map[string]any{"type": "cel", "expr": "event.length >= 20"}}
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules/dry-run"), map[string]any{"document": doc, "events": []any{
		map[string]any{"type": "message_create", "user_id": "7", "channel_id": "8", "magnitude": 40},
		map[string]any{"type": "message_create", "user_id": "7", "channel_id": "8", "magnitude": 3},
	}})
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "pasted", body["source"])
	require.EqualValues(t, 1, body["fired"], "only the long message: %v", body)
	effects := body["results"].([]any)[0].(map[string]any)["effects"].([]any)
	require.Equal(t, "credit", effects[0].(map[string]any)["kind"])

	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules"), map[string]any{"document": doc})
	require.Equal(t, http.StatusCreated, code, body)
	id := body["id"].(string)
	doc["name"] = "Long messages v2"
	code, body = b.do(t, op, http.MethodPut, guildPath(g, "/rules/"+id), map[string]any{"document": doc, "version": 1})
	require.Equal(t, http.StatusOK, code, body)
	require.EqualValues(t, 2, body["version"])
	code, body = b.do(t, op, http.MethodPut, guildPath(g, "/rules/"+id), map[string]any{"document": doc, "version": 1})
	require.Equal(t, http.StatusConflict, code, "an edit of a stale version is refused: %v", body)
	code, body = b.do(t, op, http.MethodPut, guildPath(g, "/rules/"+id+"/enabled"), map[string]any{"enabled": false})
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, false, body["enabled"])
	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/rules/"+id), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Len(t, body["versions"], 2)

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/audit"), nil)
	require.Equal(t, http.StatusOK, code, body)
	var actions []string
	for _, e := range body["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	require.Subset(t, actions, []string{"rule.create", "rule.update"}, "%v", actions)

	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules/backtests"), map[string]any{"document": doc, "days": 7})
	require.Equal(t, http.StatusAccepted, code, body)
	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/rules/backtests/"+body["id"].(string)), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "queued", body["state"], "the workers run it")
	code, body = b.do(t, op, http.MethodPost, guildPath(g, "/rules/backtests"), map[string]any{"document": broken})
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "document.effects[0].amount", errField(body))

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/rules/catalog"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body["triggers"], "message_create")
	require.NotEmpty(t, body["examples"])
}

// TestDashboardMilestones creates a template through the API and finds it
// in the gallery with its award count.
func TestDashboardMilestones(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	g := b.gA
	tpl := map[string]any{"key": "chatty", "name": "Chatty", "emoji": "💬", "rarity": "epic", "scope": "lifetime",
		"requirement": map[string]any{"type": "events", "event": "message_create", "min": 100}}
	code, body := b.do(t, op, http.MethodPost, guildPath(g, "/milestones"), tpl)
	require.Equal(t, http.StatusCreated, code, body)
	id := body["id"].(string)
	tpl["rarity"] = "mythic"
	code, body = b.do(t, op, http.MethodPut, guildPath(g, "/milestones/"+id), tpl)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "rarity", errField(body))

	code, body = b.do(t, op, http.MethodGet, guildPath(g, "/milestones"), nil)
	require.Equal(t, http.StatusOK, code, body)
	items := body["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, []any{"Chatty", "epic", float64(0)}, []any{items[0].(map[string]any)["name"], items[0].(map[string]any)["rarity"], items[0].(map[string]any)["awarded"]})
	code, _ = b.do(t, op, http.MethodDelete, guildPath(g, "/milestones/"+id), nil)
	require.Equal(t, http.StatusNoContent, code)
}

func errField(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// TestDashboardDirectory lists the channels and roles the gateway mirrored.
func TestDashboardDirectory(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	ctx := context.Background()
	dir := tenants.NewStore(b.db.Bun).ForTenant(b.tA.ID).Directory()
	require.NoError(t, dir.SyncGuild(ctx, b.gA.ID,
		[]tenants.Channel{{ID: 501, Name: "general", Type: 0}, {ID: 502, Name: "Lounge", Type: 2}},
		[]tenants.Role{{ID: 601, Name: "Helper", Color: 0x00ffcc, Position: 2}}))

	code, body := b.do(t, op, http.MethodGet, guildPath(b.gA, "/channels"), nil)
	require.Equal(t, http.StatusOK, code, body)
	var names []string
	for _, ch := range body["items"].([]any) {
		names = append(names, ch.(map[string]any)["name"].(string))
	}
	require.ElementsMatch(t, []string{"general", "Lounge"}, names)
	code, body = b.do(t, op, http.MethodGet, guildPath(b.gA, "/roles"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "Helper", body["items"].([]any)[0].(map[string]any)["name"])
	code, body = b.do(t, op, http.MethodGet, guildPath(b.gB, "/channels"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, body["items"], "guild B has none of A's channels")
}

// TestHostileBodies: malformed and oversized bodies get a clear 400 and
// change nothing.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	op := caller{bearer: operatorToken}
	huge := map[string]any{"document": map[string]any{"name": strings.Repeat("x", 2<<20)}}
	code, body := b.do(t, op, http.MethodPost, guildPath(b.gA, "/rules"), huge)
	require.Equal(t, http.StatusBadRequest, code, body)
	code, body = b.do(t, op, http.MethodPost, guildPath(b.gA, "/rules"), map[string]any{"document": "not an object"})
	require.Equal(t, http.StatusBadRequest, code, body)
	code, body = b.do(t, op, http.MethodPost, guildPath(b.gA, "/awards"), map[string]any{"user_id": "-3", "currency": "xp", "amount": 1, "reason": "x"})
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "user_id", errField(body))
	code, body = b.do(t, op, http.MethodGet, guildPath(b.gA, "/leaderboard?limit=100000"), nil)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "limit", errField(body))
	code, body = b.do(t, op, http.MethodGet, guildPath(b.gA, "/rules"), nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Empty(t, body["items"], "nothing was created")
}
