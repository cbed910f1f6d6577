package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A malformed capture setting is refused with its JSON path, and nothing
// is stored (no audit entry either); a valid one is stored as sent.
func TestPutGuildSettingsValidatesCapture(t *testing.T) {
	t.Parallel()
	b := setupAuth(t)
	s, _ := b.login(t, int64(b.guilds[0].OwnerID))
	me := caller{session: &s}
	put := func(capture any) (int, map[string]any) {
		return b.do(t, me, http.MethodPut, guildPath(b.gA, "/settings"), map[string]any{"settings": map[string]any{"capture": capture}})
	}

	code, body := put(map[string]any{"retention_days": 30, "disabled": []string{"message_create"}, "afk_channels": []string{"903"}})
	require.Equal(t, http.StatusOK, code, body)

	for name, tc := range map[string]struct {
		capture any
		field   string
		message string
	}{
		"fractional retention": {map[string]any{"retention_days": 30.5}, "settings.capture.retention_days", "must be a whole number of days between 1 and 400"},
		"retention as text":    {map[string]any{"retention_days": "30"}, "settings.capture.retention_days", "must be a whole number of days between 1 and 400"},
		"retention too long":   {map[string]any{"retention_days": 100000}, "settings.capture.retention_days", "must be a whole number of days between 1 and 400"},
		"unknown event type":   {map[string]any{"disabled": []string{"message_create", "message_delete"}}, "settings.capture.disabled[1]", ""},
		"numeric channel id":   {map[string]any{"afk_channels": []any{903}}, "settings.capture.afk_channels[0]", "must be a channel id (a string of digits)"},
		"misspelt setting":     {map[string]any{"retention": 30}, "settings.capture.retention", ""},
		"capture not object":   {[]int{1}, "settings.capture", "must be an object"},
	} {
		t.Run(name, func(t *testing.T) {
			code, body := put(tc.capture)
			require.Equal(t, http.StatusBadRequest, code, body)
			e := body["error"].(map[string]any)
			require.Equal(t, tc.field, e["field"])
			if tc.message != "" {
				require.Equal(t, tc.message, e["message"])
			}
		})
	}

	code, body = b.do(t, me, http.MethodGet, guildPath(b.gA, "/settings"), nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"capture": map[string]any{"retention_days": float64(30), "disabled": []any{"message_create"}, "afk_channels": []any{"903"}}},
		body["settings"], "the refused documents changed nothing")
	code, page := b.do(t, me, http.MethodGet, guildPath(b.gA, "/audit"), nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, page["items"], 1, "only the accepted change is audited")
}
