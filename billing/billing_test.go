package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

const secret = "whsec_test_secret"

var prices = map[string]string{billing.PlanPro: "price_pro", billing.PlanBusiness: "price_business"}

func newService(t *testing.T, db *postgres.DB, apiURL string) *billing.Service {
	svc, _ := newServiceWithMetrics(t, db, apiURL)
	return svc
}

// newServiceWithMetrics also returns the registry its metrics are on.
func newServiceWithMetrics(t *testing.T, db *postgres.DB, apiURL string) (*billing.Service, *prometheus.Registry) {
	key := ""
	if apiURL != "" {
		key = "sk_test_123"
	}
	reg := prometheus.NewRegistry()
	return billing.New(billing.Config{SecretKey: key, WebhookSecret: secret, APIURL: apiURL, Prices: prices,
		PublicURL: "https://synapse.example"}, db.Pool, testenv.Logger(t), billing.NewMetrics(reg)), reg
}

// deliveries reads synapse_billing_webhook_events_total by outcome.
func deliveries(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "synapse_billing_webhook_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// stripeEvent is a Stripe event as its webhook delivers it, signed with
// the given secret.
type stripeEvent struct {
	id      string
	typ     string
	created time.Time
	object  map[string]any
}

func (e stripeEvent) signed(t *testing.T, with string) ([]byte, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"id": e.id, "object": "event", "api_version": "2023-10-16", "created": e.created.Unix(),
		"type": e.typ, "livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": e.object}})
	require.NoError(t, err)
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: with, Timestamp: time.Now()})
	return sp.Payload, sp.Header
}

func subscription(tenantID int64, customer, price, status string) map[string]any {
	return map[string]any{"id": "sub_" + customer, "object": "subscription", "customer": customer, "status": status,
		"cancel_at_period_end": false, "current_period_end": time.Now().Add(30 * 24 * time.Hour).Unix(),
		"metadata": map[string]string{"tenant_id": fmt.Sprint(tenantID), "plan": "pro"},
		"items":    map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_1", "object": "subscription_item", "price": map[string]any{"id": price, "object": "price"}}}}}
}

func planOf(t *testing.T, db *postgres.DB, tenantID int64) string {
	t.Helper()
	var plan string
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT plan FROM tenants WHERE id = $1`, tenantID).Scan(&plan))
	return plan
}

func planAudits(t *testing.T, db *postgres.DB, tenantID int64) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT before->>'plan' || '->' || (after->>'plan') FROM audit_log
		WHERE tenant_id = $1 AND action = 'billing.plan_changed' AND actor = 'stripe' ORDER BY id`, tenantID)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// A subscription's life moves the tenant's plan, each change audited with
// its before and after: paid once active, kept while a payment is retried,
// back to free when it ends.
func TestSubscriptionLifecycleMovesThePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	svc := newService(t, db, "")
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	at := time.Now().Add(-time.Hour)
	deliver := func(id, typ, status string) {
		at = at.Add(time.Minute)
		body, sig := stripeEvent{id: id, typ: typ, created: at, object: subscription(tn.ID, "cus_a", "price_pro", status)}.signed(t, secret)
		require.NoError(t, svc.HandleWebhook(ctx, body, sig))
	}
	deliver("evt_1", "customer.subscription.created", "incomplete")
	require.Equal(t, billing.PlanFree, planOf(t, db, tn.ID), "not paid yet")
	deliver("evt_2", "customer.subscription.updated", "active")
	require.Equal(t, billing.PlanPro, planOf(t, db, tn.ID))
	deliver("evt_3", "customer.subscription.updated", "past_due")
	require.Equal(t, billing.PlanPro, planOf(t, db, tn.ID), "kept while Stripe retries the payment")
	deliver("evt_4", "customer.subscription.deleted", "canceled")
	require.Equal(t, billing.PlanFree, planOf(t, db, tn.ID))
	require.Equal(t, []string{"free->pro", "pro->free"}, planAudits(t, db, tn.ID))

	a, err := svc.Account(ctx, tn.ID)
	require.NoError(t, err)
	require.Equal(t, "canceled", a.Status)
	require.Equal(t, billing.PlanPro, a.Plan, "the plan the subscription was for")
}

// A payload not signed with this deployment's secret, or altered after
// signing, is refused as invalid and changes nothing.
func TestWebhookRefusesForgedEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	svc, reg := newServiceWithMetrics(t, db, "")
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	ev := stripeEvent{id: "evt_forged", typ: "customer.subscription.updated", created: time.Now(), object: subscription(tn.ID, "cus_f", "price_business", "active")}

	body, sig := ev.signed(t, "whsec_someone_else")
	var ve *apperr.ValidationError
	require.ErrorAs(t, svc.HandleWebhook(ctx, body, sig), &ve)
	require.Equal(t, "Stripe-Signature", ve.Field)

	body, sig = ev.signed(t, secret)
	tampered := []byte(string(body[:len(body)-1]) + " ")
	require.ErrorAs(t, svc.HandleWebhook(ctx, tampered, sig), &ve)
	require.ErrorAs(t, svc.HandleWebhook(ctx, body, ""), &ve, "no signature at all")

	require.Equal(t, billing.PlanFree, planOf(t, db, tn.ID))
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM billing_events`).Scan(&n))
	require.Zero(t, n, "nothing of a forged event is kept")
	require.Equal(t, 3.0, deliveries(t, reg, "refused"))
	require.Zero(t, deliveries(t, reg, "applied"))
}

// Stripe delivers at least once and in no particular order: a redelivered
// event applies nothing twice, and an older event arriving after a newer
// one does not undo it.
func TestWebhookRedeliveryAndDisorder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	svc, reg := newServiceWithMetrics(t, db, "")
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	now := time.Now()
	older, sigOlder := stripeEvent{id: "evt_old", typ: "customer.subscription.updated", created: now.Add(-time.Minute),
		object: subscription(tn.ID, "cus_o", "price_pro", "canceled")}.signed(t, secret)
	newer, sigNewer := stripeEvent{id: "evt_new", typ: "customer.subscription.updated", created: now,
		object: subscription(tn.ID, "cus_o", "price_business", "active")}.signed(t, secret)

	require.NoError(t, svc.HandleWebhook(ctx, newer, sigNewer))
	require.NoError(t, svc.HandleWebhook(ctx, newer, sigNewer), "a redelivery is acknowledged")
	require.NoError(t, svc.HandleWebhook(ctx, older, sigOlder), "a late older event is acknowledged")
	require.Equal(t, billing.PlanBusiness, planOf(t, db, tn.ID))
	require.Equal(t, []string{"free->business"}, planAudits(t, db, tn.ID))
	require.Equal(t, 2.0, deliveries(t, reg, "applied"), "the newer, and the older (recorded, changing nothing)")
	require.Equal(t, 1.0, deliveries(t, reg, "duplicate"))
}

// Checkout's created (incomplete) and activated events share a second:
// arriving reversed, the activation still wins.
func TestWebhookSameSecondKeepsTheLaterStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	svc := newService(t, db, "")
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	second := time.Now().Truncate(time.Second)
	active, sigA := stripeEvent{id: "evt_active", typ: "customer.subscription.updated", created: second,
		object: subscription(tn.ID, "cus_s", "price_pro", "active")}.signed(t, secret)
	created, sigC := stripeEvent{id: "evt_created", typ: "customer.subscription.created", created: second,
		object: subscription(tn.ID, "cus_s", "price_pro", "incomplete")}.signed(t, secret)
	require.NoError(t, svc.HandleWebhook(ctx, active, sigA))
	require.NoError(t, svc.HandleWebhook(ctx, created, sigC))
	require.Equal(t, billing.PlanPro, planOf(t, db, tn.ID))
	a, err := svc.Account(ctx, tn.ID)
	require.NoError(t, err)
	require.Equal(t, "active", a.Status)
}

// One tenant's subscription never moves another's plan: not through the
// tenant id in its metadata once the other tenant is linked to a
// different Stripe customer.
func TestWebhookKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	svc := newService(t, db, "")
	a := tenanttest.Tenant(ctx, t, db.Bun, nil)
	b := tenanttest.Tenant(ctx, t, db.Bun, nil)
	body, sig := stripeEvent{id: "evt_b", typ: "customer.subscription.created", created: time.Now().Add(-time.Minute),
		object: subscription(b.ID, "cus_b", "price_pro", "active")}.signed(t, secret)
	require.NoError(t, svc.HandleWebhook(ctx, body, sig))
	require.Equal(t, billing.PlanPro, planOf(t, db, b.ID))

	// A's customer's subscription claims to be B's.
	body, sig = stripeEvent{id: "evt_a", typ: "customer.subscription.created", created: time.Now().Add(-30 * time.Second),
		object: subscription(a.ID, "cus_a", "price_business", "active")}.signed(t, secret)
	require.NoError(t, svc.HandleWebhook(ctx, body, sig))
	obj := subscription(b.ID, "cus_a", "price_business", "canceled")
	body, sig = stripeEvent{id: "evt_a2", typ: "customer.subscription.deleted", created: time.Now(), object: obj}.signed(t, secret)
	require.NoError(t, svc.HandleWebhook(ctx, body, sig))
	require.Equal(t, billing.PlanPro, planOf(t, db, b.ID), "B keeps its plan")
	require.Equal(t, billing.PlanFree, planOf(t, db, a.ID), "the customer's own tenant is the one whose subscription ended")
}

// Checkout sends the owner to Stripe (stripe-mock here) with a customer
// made once for the tenant; the portal needs that customer; only
// self-serve plans are sold; with no Stripe key nothing is.
func TestCheckoutAndPortal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	svc := newService(t, db, testenv.StripeMock(t))
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)

	_, err := svc.Portal(ctx, tn.ID)
	require.ErrorIs(t, err, apperr.ErrConflict, "no customer yet")
	url, err := svc.Checkout(ctx, tn.ID, billing.PlanPro)
	require.NoError(t, err)
	require.NotEmpty(t, url)
	a, err := svc.Account(ctx, tn.ID)
	require.NoError(t, err)
	require.NotEmpty(t, a.CustomerID)
	_, err = svc.Checkout(ctx, tn.ID, billing.PlanBusiness)
	require.NoError(t, err)
	again, err := svc.Account(ctx, tn.ID)
	require.NoError(t, err)
	require.Equal(t, a.CustomerID, again.CustomerID, "one customer per tenant")
	url, err = svc.Portal(ctx, tn.ID)
	require.NoError(t, err)
	require.NotEmpty(t, url)

	var ve *apperr.ValidationError
	_, err = svc.Checkout(ctx, tn.ID, billing.PlanEnterprise)
	require.ErrorAs(t, err, &ve)
	_, err = svc.Checkout(ctx, tn.ID, "platinum")
	require.ErrorAs(t, err, &ve)

	off := newService(t, db, "")
	_, err = off.Checkout(ctx, tn.ID, billing.PlanPro)
	require.ErrorIs(t, err, apperr.ErrUnavailable)
}

// The limits follow the plan in force: the free plan's last currency slot
// is refused with a plan-limit error, an upgrade lifts it, and retention
// above the plan's is refused.
func TestLimitsFollowThePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	lim := billing.NewLimiter(db.Pool, nil)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	g := tenanttest.Guild(ctx, t, db.Bun, tn.ID, nil)
	free, _ := billing.PlanByID(billing.PlanFree)
	for i := range free.Limits.Currencies {
		require.NoError(t, lim.Allow(ctx, tn.ID, g.ID, billing.Currencies))
		_, err := db.Pool.Exec(ctx, `INSERT INTO ledger_currencies (tenant_id, guild_id, code, name) VALUES ($1, $2, $3, 'c')`, tn.ID, g.ID, fmt.Sprintf("c%d", i))
		require.NoError(t, err)
	}
	err := lim.Allow(ctx, tn.ID, g.ID, billing.Currencies)
	var le *billing.LimitError
	require.ErrorAs(t, err, &le)
	require.True(t, errors.Is(err, apperr.ErrPlanLimit))
	require.Equal(t, free.Limits.Currencies, le.Limit)
	require.NoError(t, lim.Allow(ctx, tn.ID, g.ID, billing.Rules), "other resources are counted apart")

	require.Error(t, lim.Allow(ctx, tn.ID, 0, billing.Guilds), "the free plan's one guild is taken")
	require.Error(t, lim.AllowRetention(ctx, tn.ID, free.Limits.RetentionDays+1))
	require.NoError(t, lim.AllowRetention(ctx, tn.ID, free.Limits.RetentionDays))

	_, err = db.Pool.Exec(ctx, `UPDATE tenants SET plan = 'pro' WHERE id = $1`, tn.ID)
	require.NoError(t, err)
	require.NoError(t, lim.Allow(ctx, tn.ID, g.ID, billing.Currencies))
	require.NoError(t, lim.Allow(ctx, tn.ID, 0, billing.Guilds))
	u, err := lim.Usage(ctx, tn.ID)
	require.NoError(t, err)
	require.Equal(t, billing.Usage{Guilds: 1, Currencies: free.Limits.Currencies}, u)
}

// A second checkout while Stripe already holds the tenant's subscription
// (its webhook not arrived yet, or paid in another tab) is refused, not
// charged twice. Stripe's list answer is stripe-mock's, with the one
// subscription made the tenant's (stripe-mock keeps no state).
func TestCheckoutRefusesWhileStripeHasTheTenantsSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t)
	mock := testenv.StripeMock(t)
	tn := tenanttest.Tenant(ctx, t, db.Bun, nil)
	target, err := url.Parse(mock)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/subscriptions" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"object":"list","url":"/v1/subscriptions","has_more":false,"data":[{"id":"sub_x","object":"subscription","status":"active","metadata":{"tenant_id":"%d","plan":"pro"}}]}`, tn.ID)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	svc := newService(t, db, front.URL)
	_, err = svc.Checkout(ctx, tn.ID, billing.PlanPro)
	require.ErrorIs(t, err, apperr.ErrConflict)

	other := tenanttest.Tenant(ctx, t, db.Bun, nil)
	u, err := svc.Checkout(ctx, other.ID, billing.PlanPro)
	require.NoError(t, err, "another tenant's subscription is not this one's")
	require.NotEmpty(t, u)
}
