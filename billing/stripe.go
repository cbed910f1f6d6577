package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Config connects billing to a Stripe account.
type Config struct {
	// SecretKey is the Stripe API key (sk_...); empty: billing is off
	// (plans and limits still apply, nothing can be bought).
	SecretKey string
	// WebhookSecret signs the webhook events (whsec_...).
	WebhookSecret string
	// APIURL replaces https://api.stripe.com (stripe-mock in development).
	APIURL string
	// Prices maps each self-serve plan to its Stripe price id.
	Prices map[string]string
	// PublicURL is where browsers reach Synapse: Checkout and the portal
	// send the owner back there.
	PublicURL string
}

// Service sells plans through Stripe and applies its webhook events.
type Service struct {
	cfg     Config
	pool    *pgxpool.Pool
	stripe  *client.API
	log     *slog.Logger
	metrics *Metrics
}

// New builds the service; with no SecretKey it only reports accounts. m
// (optional) counts webhook deliveries.
func New(cfg Config, pool *pgxpool.Pool, log *slog.Logger, m *Metrics) *Service {
	s := &Service{cfg: cfg, pool: pool, log: log, metrics: m}
	if cfg.SecretKey != "" {
		bc := &stripe.BackendConfig{HTTPClient: &http.Client{Timeout: 20 * time.Second}, MaxNetworkRetries: stripe.Int64(2),
			LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
		if cfg.APIURL != "" {
			bc.URL = stripe.String(strings.TrimRight(cfg.APIURL, "/"))
		}
		s.stripe = client.New(cfg.SecretKey, stripe.NewBackendsWithConfig(bc))
	}
	return s
}

// Enabled reports whether plans can be bought.
func (s *Service) Enabled() bool { return s.stripe != nil }

var errDisabled = fmt.Errorf("billing is not configured on this deployment (no Stripe key): %w", apperr.ErrUnavailable)

// Account returns a tenant's subscription.
func (s *Service) Account(ctx context.Context, tenantID int64) (Account, error) {
	return account(ctx, s.pool, tenantID, false)
}

// Checkout starts buying a plan: it returns the Stripe Checkout page the
// owner is sent to. The plan changes when Stripe's webhook says the
// subscription is paid, not here.
func (s *Service) Checkout(ctx context.Context, tenantID int64, planID string) (string, error) {
	if !s.Enabled() {
		return "", errDisabled
	}
	plan, ok := PlanByID(planID)
	price := s.cfg.Prices[planID]
	if !ok || !plan.SelfServe || price == "" {
		return "", apperr.Invalid("plan", "must be a plan sold here: %s", strings.Join(s.sold(), ", "))
	}
	a, err := s.Account(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if paidStatuses[a.Status] {
		return "", fmt.Errorf("the tenant already subscribes to %s; change plans in the billing portal: %w", a.Plan, apperr.ErrConflict)
	}
	customer, err := s.customer(ctx, tenantID, a)
	if err != nil {
		return "", err
	}
	tenant := strconv.FormatInt(tenantID, 10)
	// Stripe, not our account row, knows of a subscription whose webhook
	// has not arrived yet, or a checkout left open in another tab: a
	// second checkout would charge the tenant twice.
	if url, err := s.existingCheckout(ctx, customer, tenant, planID); err != nil || url != "" {
		return url, err
	}
	meta := map[string]string{"tenant_id": tenant, "plan": planID}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String(tenant),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(1)}},
		SubscriptionData:  &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta},
		SuccessURL:        stripe.String(s.cfg.PublicURL + "/billing?checkout=success&tenant=" + tenant),
		CancelURL:         stripe.String(s.cfg.PublicURL + "/billing?checkout=cancelled&tenant=" + tenant),
	}
	params.Context = ctx
	params.Metadata = meta
	cs, err := s.stripe.CheckoutSessions.New(params)
	if err != nil {
		return "", stripeErr("checkout session", err)
	}
	return cs.URL, nil
}

// Portal returns the Stripe customer portal, where the owner changes or
// cancels the subscription and updates the payment method.
func (s *Service) Portal(ctx context.Context, tenantID int64) (string, error) {
	if !s.Enabled() {
		return "", errDisabled
	}
	a, err := s.Account(ctx, tenantID)
	if err != nil {
		return "", err
	}
	if a.CustomerID == "" {
		return "", fmt.Errorf("the tenant has never subscribed: start with a checkout: %w", apperr.ErrConflict)
	}
	params := &stripe.BillingPortalSessionParams{Customer: stripe.String(a.CustomerID),
		ReturnURL: stripe.String(s.cfg.PublicURL + "/billing?tenant=" + strconv.FormatInt(tenantID, 10))}
	params.Context = ctx
	ps, err := s.stripe.BillingPortalSessions.New(params)
	if err != nil {
		return "", stripeErr("portal session", err)
	}
	return ps.URL, nil
}

// customer returns the tenant's Stripe customer, creating it once: the
// idempotency key makes two concurrent checkouts create one customer.
func (s *Service) customer(ctx context.Context, tenantID int64, a Account) (string, error) {
	if a.CustomerID != "" {
		return a.CustomerID, nil
	}
	var name string
	if err := s.pool.QueryRow(ctx, `SELECT name FROM tenants WHERE id = $1`, tenantID).Scan(&name); err != nil {
		return "", fmt.Errorf("billing: tenant: %w", err)
	}
	params := &stripe.CustomerParams{Name: stripe.String(name)}
	params.Context = ctx
	params.AddMetadata("tenant_id", strconv.FormatInt(tenantID, 10))
	params.SetIdempotencyKey(fmt.Sprintf("synapse-customer-%d", tenantID))
	c, err := s.stripe.Customers.New(params)
	if err != nil {
		return "", stripeErr("customer", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO billing_accounts (tenant_id, stripe_customer_id) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET stripe_customer_id = coalesce(billing_accounts.stripe_customer_id, EXCLUDED.stripe_customer_id), updated_at = now()`,
		tenantID, c.ID)
	if err != nil {
		return "", fmt.Errorf("billing: save customer: %w", err)
	}
	return c.ID, nil
}

// Sells reports whether Checkout sells the plan here.
func (s *Service) Sells(planID string) bool {
	p, ok := PlanByID(planID)
	return ok && p.SelfServe && s.Enabled() && s.cfg.Prices[planID] != ""
}

// sold lists the plans Checkout sells.
func (s *Service) sold() []string {
	var out []string
	for _, p := range plans {
		if p.SelfServe && s.cfg.Prices[p.ID] != "" {
			out = append(out, p.ID)
		}
	}
	return out
}

// stripeErr keeps Stripe's message for the log and tells the caller the
// payment provider failed (a 503: retrying may work).
func stripeErr(what string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != 429 {
		// Our request or configuration (a price that does not exist): the
		// operator's to fix, the caller is told billing cannot proceed.
		return fmt.Errorf("stripe refused the %s: %s: %w", what, se.Msg, apperr.ErrUnavailable)
	}
	return fmt.Errorf("stripe: %s: %v: %w", what, err, apperr.ErrUnavailable)
}

// existingCheckout returns the URL of the tenant's open checkout for the
// same plan, or ErrConflict when Stripe already has a live or starting
// subscription of the tenant's; "" when a new checkout may start. Only
// Synapse's own objects count (their metadata names the tenant).
func (s *Service) existingCheckout(ctx context.Context, customer, tenant, planID string) (string, error) {
	subs := &stripe.SubscriptionListParams{Customer: stripe.String(customer), Status: stripe.String("all")}
	subs.Context = ctx
	it := s.stripe.Subscriptions.List(subs)
	for it.Next() {
		sub := it.Subscription()
		if sub.Metadata["tenant_id"] == tenant && (paidStatuses[string(sub.Status)] || sub.Status == stripe.SubscriptionStatusIncomplete) {
			return "", fmt.Errorf("the tenant has a subscription already (%s); change plans in the billing portal: %w", sub.Status, apperr.ErrConflict)
		}
	}
	if err := it.Err(); err != nil {
		return "", stripeErr("subscription list", err)
	}
	open := &stripe.CheckoutSessionListParams{Customer: stripe.String(customer), Status: stripe.String(string(stripe.CheckoutSessionStatusOpen))}
	open.Context = ctx
	cit := s.stripe.CheckoutSessions.List(open)
	for cit.Next() {
		cs := cit.CheckoutSession()
		if cs.Metadata["tenant_id"] == tenant && cs.Metadata["plan"] == planID && cs.URL != "" {
			return cs.URL, nil
		}
	}
	if err := cit.Err(); err != nil {
		return "", stripeErr("checkout list", err)
	}
	return "", nil
}
