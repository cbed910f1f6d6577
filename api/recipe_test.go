package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/engine/recipes"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// An operator exports a configured guild as YAML and imports it into a
// guild of another tenant: the preview lists what would be created, the
// apply creates it (audited), within the plan's limits.
func TestRecipeExportPreviewApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	src := tenanttest.Tenant(ctx, t, b.db.Bun, nil)
	gs := tenanttest.Guild(ctx, t, b.db.Bun, src.ID, nil)
	dst := tenanttest.Tenant(ctx, t, b.db.Bun, nil)
	gd := tenanttest.Guild(ctx, t, b.db.Bun, dst.ID, nil)
	send := func(method, path, ctype string, body []byte) (int, []byte, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, b.srv.URL+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+operatorToken)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out, res.Header
	}
	code, body, _ := send(http.MethodPost, fmt.Sprintf("/api/v1/guilds/%d/rules/presets/classic", gs.ID), "", nil)
	require.Equal(t, http.StatusOK, code, string(body))

	code, recipe, hdr := send(http.MethodGet, fmt.Sprintf("/api/v1/guilds/%d/recipe?format=yaml&name=Classic+community", gs.ID), "", nil)
	require.Equal(t, http.StatusOK, code, string(recipe))
	require.Contains(t, hdr.Get("Content-Type"), "application/yaml")
	require.Contains(t, hdr.Get("Content-Disposition"), "attachment")
	require.True(t, strings.HasPrefix(string(recipe), "synapse_recipe: 1"))

	code, body, _ = send(http.MethodPost, fmt.Sprintf("/api/v1/guilds/%d/recipe/preview", gd.ID), "application/yaml", recipe)
	require.Equal(t, http.StatusOK, code, string(body))
	var preview struct {
		Currencies struct{ Create []string }
		Rules      struct{ Create []string }
		Milestones struct{ Create []string }
		Applied    bool
	}
	require.NoError(t, json.Unmarshal(body, &preview))
	require.Len(t, preview.Currencies.Create, 3)
	require.NotEmpty(t, preview.Rules.Create)
	require.False(t, preview.Applied)
	code, body, _ = send(http.MethodGet, fmt.Sprintf("/api/v1/guilds/%d/currencies", gd.ID), "", nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, string(body), `"code":"xp"`, "a preview writes nothing")

	// The free plan holds the Classic setup, not four times its rules:
	// refused whole, nothing created.
	r, err := recipes.Decode(recipe)
	require.NoError(t, err)
	base := r.Rules
	for i := range 3 {
		for _, d := range base {
			d.Key = fmt.Sprintf("copy%d.%s", i, d.Key)
			r.Rules = append(r.Rules, d)
		}
	}
	crowded, err := recipes.Encode(r, "json")
	require.NoError(t, err)
	code, body, _ = send(http.MethodPost, fmt.Sprintf("/api/v1/guilds/%d/recipe/apply", gs.ID), "application/json", crowded)
	require.Equal(t, http.StatusPaymentRequired, code, string(body))
	require.Contains(t, string(body), "25 rules per server")
	code, body, _ = send(http.MethodGet, fmt.Sprintf("/api/v1/guilds/%d/rules", gs.ID), "", nil)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, string(body), "copy0.")

	code, body, _ = send(http.MethodPost, fmt.Sprintf("/api/v1/guilds/%d/recipe/apply", gd.ID), "application/yaml", recipe)
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = send(http.MethodGet, fmt.Sprintf("/api/v1/guilds/%d/currencies", gd.ID), "", nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"code":"xp"`)
	var n int
	require.NoError(t, b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND action = 'recipe.applied'`, dst.ID).Scan(&n))
	require.Equal(t, 1, n)

	code, body, _ = send(http.MethodPost, fmt.Sprintf("/api/v1/guilds/%d/recipe/preview", gd.ID), "application/json", []byte(`{"synapse_recipe":1,"name":"x","rulez":[]}`))
	require.Equal(t, http.StatusBadRequest, code, string(body))
	require.Contains(t, string(body), "rulez")
}
