package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/synapsehq/synapse/api"
	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

const webhookSecret = "whsec_api_test"

// An operator on the free plan hits its currency limit (402, saying
// which), buys Pro through Checkout (stripe-mock), and once Stripe's
// signed webhook says the subscription is active the plan is in force:
// the limit and the longest retention move with it. A forged webhook is
// refused and changes nothing.
func TestBillingThroughTheAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	s := api.New(api.Deps{Log: testenv.Logger(t), DB: db, Redis: testenv.Redis(t), Registry: ops.NewRegistry(),
		Probes: ops.NewProbes(time.Second), Version: "test", OperatorToken: operatorToken,
		Billing: billing.Config{SecretKey: "sk_test_123", WebhookSecret: webhookSecret, APIURL: testenv.StripeMock(t),
			Prices: map[string]string{billing.PlanPro: "price_pro"}}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	call := func(method, path string, body any, header http.Header) (int, map[string]any) {
		t.Helper()
		var rd *bytes.Reader
		if raw, ok := body.([]byte); ok {
			rd = bytes.NewReader(raw)
		} else {
			b, err := json.Marshal(body)
			require.NoError(t, err)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, srv.URL+path, rd)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+operatorToken)
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	billingPath := fmt.Sprintf("/api/v1/tenants/%d/billing", tn.ID)
	guild := fmt.Sprintf("/api/v1/guilds/%d", g.ID)

	code, body := call(http.MethodGet, billingPath, nil, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "free", body["plan"])
	require.Equal(t, true, body["stripe_enabled"])
	sold := map[string]bool{}
	for _, p := range body["plans"].([]any) {
		sold[p.(map[string]any)["id"].(string)] = p.(map[string]any)["purchasable"].(bool)
	}
	require.Equal(t, map[string]bool{"free": false, "pro": true, "business": false, "enterprise": false}, sold, "only pro has a price here")
	free, _ := billing.PlanByID(billing.PlanFree)
	for i := range free.Limits.Currencies {
		code, body = call(http.MethodPost, guild+"/currencies", map[string]any{"code": fmt.Sprintf("c%d", i), "name": "C"}, nil)
		require.Equal(t, http.StatusCreated, code, body)
	}
	code, body = call(http.MethodPost, guild+"/currencies", map[string]any{"code": "one_more", "name": "C"}, nil)
	require.Equal(t, http.StatusPaymentRequired, code, body)
	require.Equal(t, "plan_limit", errCode(body))
	require.Contains(t, body["error"].(map[string]any)["message"], "Free plan allows 3 currencies per server")
	retention := map[string]any{"settings": map[string]any{"capture": map[string]any{"retention_days": 180}}}
	code, body = call(http.MethodPut, guild+"/settings", retention, nil)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "capture.retention_days", body["error"].(map[string]any)["field"])

	code, body = call(http.MethodPost, billingPath+"/checkout", map[string]any{"plan": "pro"}, nil)
	require.Equal(t, http.StatusCreated, code, body)
	require.NotEmpty(t, body["url"])
	code, body = call(http.MethodPost, billingPath+"/checkout", map[string]any{"plan": "enterprise"}, nil)
	require.Equal(t, http.StatusBadRequest, code, body)

	// The customer Checkout made for the tenant is the one Stripe bills.
	var customer string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT stripe_customer_id FROM billing_accounts WHERE tenant_id = $1`, tn.ID).Scan(&customer))
	event := func(id string, secret string) ([]byte, string) {
		raw, err := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": "2023-10-16", "created": time.Now().Unix(),
			"type": "customer.subscription.created", "data": map[string]any{"object": map[string]any{
				"id": "sub_1", "object": "subscription", "customer": customer, "status": "active",
				"metadata": map[string]string{"tenant_id": fmt.Sprint(tn.ID)},
				"items":    map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_1", "price": map[string]any{"id": "price_pro"}}}}}}})
		require.NoError(t, err)
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: raw, Secret: secret, Timestamp: time.Now()})
		return sp.Payload, sp.Header
	}
	forged, sig := event("evt_forged", "whsec_not_ours")
	code, body = call(http.MethodPost, "/api/v1/billing/stripe/webhook", forged, http.Header{"Stripe-Signature": {sig}})
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Equal(t, "Stripe-Signature", body["error"].(map[string]any)["field"])
	_, body = call(http.MethodGet, billingPath, nil, nil)
	require.Equal(t, "free", body["plan"])

	paid, sig := event("evt_paid", webhookSecret)
	code, body = call(http.MethodPost, "/api/v1/billing/stripe/webhook", paid, http.Header{"Stripe-Signature": {sig}})
	require.Equal(t, http.StatusOK, code, body)
	code, body = call(http.MethodGet, billingPath, nil, nil)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "pro", body["plan"])
	require.Equal(t, "active", body["subscription"].(map[string]any)["status"])
	require.EqualValues(t, free.Limits.Currencies, body["usage"].(map[string]any)["currencies"])

	code, body = call(http.MethodPost, guild+"/currencies", map[string]any{"code": "one_more", "name": "C"}, nil)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = call(http.MethodPut, guild+"/settings", retention, nil)
	require.Equal(t, http.StatusOK, code, body)
	code, body = call(http.MethodPost, billingPath+"/checkout", map[string]any{"plan": "pro"}, nil)
	require.Equal(t, http.StatusConflict, code, "already subscribed: the portal changes plans: %v", body)
	code, body = call(http.MethodPost, billingPath+"/portal", nil, nil)
	require.Equal(t, http.StatusCreated, code, body)
	require.NotEmpty(t, body["url"])
}

// The Classic preset is what a new community starts from: it fits the
// free plan, so trying Synapse needs no subscription.
func TestClassicPresetFitsTheFreePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tn := tenanttest.Tenant(ctx, t, b.db.Bun, nil)
	g := tenanttest.Guild(ctx, t, b.db.Bun, tn.ID, nil)
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/guilds/%d/rules/presets/classic", b.srv.URL, g.ID), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The same install where the plan has no room (a guild already at the
	// free plan's 3 currencies, none of them Classic's) is refused whole.
	full := tenanttest.Guild(ctx, t, b.db.Bun, tn.ID, nil)
	for _, code := range []string{"a1", "a2", "a3"} {
		_, err := b.db.Pool.Exec(ctx, `INSERT INTO ledger_currencies (tenant_id, guild_id, code, name) VALUES ($1, $2, $3, 'c')`, tn.ID, full.ID, code)
		require.NoError(t, err)
	}
	req, err = http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/guilds/%d/rules/presets/classic", b.srv.URL, full.ID), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusPaymentRequired, res.StatusCode)
	var rulesThere int
	require.NoError(t, b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM rules WHERE guild_id = $1`, full.ID).Scan(&rulesThere))
	require.Zero(t, rulesThere, "nothing of the preset was installed")

	u, err := billing.NewLimiter(b.db.Pool, nil).Usage(ctx, tn.ID)
	require.NoError(t, err)
	free, _ := billing.PlanByID(billing.PlanFree)
	require.Positive(t, u.Currencies)
	require.Positive(t, u.Rules)
	require.Positive(t, u.Milestones)
	require.LessOrEqual(t, u.Currencies, free.Limits.Currencies)
	require.LessOrEqual(t, u.Rules, free.Limits.Rules)
	require.LessOrEqual(t, u.Milestones, free.Limits.Milestones)
	t.Logf("classic preset: %+v", u)
}
