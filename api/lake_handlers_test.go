package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/lake"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

func getAuth(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestEventEndpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tn := tenanttest.Tenant(ctx, t, b.db.Bun, nil)
	g := tenanttest.Guild(ctx, t, b.db.Bun, tn.ID, nil)
	other := tenanttest.Guild(ctx, t, b.db.Bun, tenanttest.Tenant(ctx, t, b.db.Bun, nil).ID, nil)
	day := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var events []lake.Event
	for i := 0; i < 5; i++ {
		events = append(events, lake.Event{TenantID: tn.ID, GuildID: g.ID, OccurredAt: day.Add(time.Duration(i) * time.Hour),
			SourceID: lake.MintSnowflake(day, uint64(i)), Type: lake.MessageCreate, UserID: 1, ChannelID: 7, Magnitude: 10})
	}
	events = append(events, lake.Event{TenantID: tn.ID, GuildID: g.ID, OccurredAt: day, SourceID: lake.MintSnowflake(day, 99),
		Type: lake.VoiceLeave, UserID: 1, ChannelID: 8, Magnitude: 600})
	// Another tenant's events must not show up in g's numbers.
	events = append(events, lake.Event{TenantID: other.TenantID, GuildID: other.ID, OccurredAt: day, SourceID: lake.MintSnowflake(day, 5),
		Type: lake.MessageCreate, UserID: 2, ChannelID: 9})
	_, err := lake.NewWriter(b.db.Pool).Write(ctx, lake.Batch{Events: events})
	require.NoError(t, err)
	base := fmt.Sprintf("%s/api/v1/guilds/%d/events", b.srv.URL, g.ID)

	t.Run("needs the operator token", func(t *testing.T) {
		code, body := getAuth(t, base+"/storage", "")
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, "unauthenticated", body["error"].(map[string]any)["code"])
		code, _ = getAuth(t, base+"/storage", "wrong")
		require.Equal(t, http.StatusUnauthorized, code)
	})
	t.Run("volume per day and type", func(t *testing.T) {
		code, body := getAuth(t, base+"/volume?from=2026-11-19&to=2026-11-22", operatorToken)
		require.Equal(t, http.StatusOK, code, body)
		points := body["points"].([]any)
		require.Len(t, points, 2)
		require.Equal(t, map[string]any{"day": "2026-11-20", "type": "message_create", "events": float64(5)}, points[0])
	})
	t.Run("breakdown by type", func(t *testing.T) {
		code, body := getAuth(t, base+"/breakdown?by=type&from=2026-11-19&to=2026-11-22", operatorToken)
		require.Equal(t, http.StatusOK, code, body)
		rows := body["rows"].([]any)
		require.Equal(t, map[string]any{"key": "message_create", "events": float64(5), "magnitude": float64(50)}, rows[0])
		require.Equal(t, map[string]any{"key": "voice_leave", "events": float64(1), "magnitude": float64(600)}, rows[1])
	})
	t.Run("breakdown by zone with no zones", func(t *testing.T) {
		code, body := getAuth(t, base+"/breakdown?by=zone&from=2026-11-19&to=2026-11-22", operatorToken)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "(no zone)", body["rows"].([]any)[0].(map[string]any)["key"])
	})
	t.Run("bad input names the field", func(t *testing.T) {
		for url, field := range map[string]string{
			base + "/breakdown?by=mood":                     "by",
			base + "/volume?from=yesterday":                 "from",
			base + "/volume?from=2026-11-22&to=2026-11-01":  "to",
			b.srv.URL + "/api/v1/guilds/abc/events/storage": "guild",
		} {
			code, body := getAuth(t, url, operatorToken)
			require.Equal(t, http.StatusBadRequest, code, url)
			require.Equal(t, field, body["error"].(map[string]any)["field"], url)
		}
	})
	t.Run("unknown guild", func(t *testing.T) {
		code, _ := getAuth(t, b.srv.URL+"/api/v1/guilds/12345/events/storage", operatorToken)
		require.Equal(t, http.StatusNotFound, code)
	})
	t.Run("storage", func(t *testing.T) {
		code, body := getAuth(t, base+"/storage", operatorToken)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, float64(90), body["retention_days"])
		require.NotContains(t, body, "lake_bytes", "platform-wide sizes are not shown to a tenant")
	})
}
