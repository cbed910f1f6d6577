package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/synapsehq/synapse/infra/apperr"
)

// HandleWebhook verifies and applies one Stripe event. A payload whose
// signature does not verify is refused (and nothing is read from it); an
// event already applied is acknowledged without applying it again; an
// event for a tenant Synapse does not know is acknowledged and logged.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signature string) error {
	if s.cfg.WebhookSecret == "" {
		return errDisabled
	}
	// The API version check is off: events are read for a handful of
	// fields that every version since 2020 shares.
	ev, err := webhook.ConstructEventWithOptions(payload, signature, s.cfg.WebhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		s.metrics.delivered("unverified", "refused")
		return apperr.Invalid("Stripe-Signature", "the payload is not signed by this deployment's Stripe webhook secret: %v", err)
	}
	outcome := "applied"
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO billing_events (id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING`, ev.ID, string(ev.Type))
		if err != nil {
			return fmt.Errorf("billing: record event: %w", err)
		}
		if tag.RowsAffected() == 0 {
			outcome = "duplicate"
			s.log.Info("stripe event already applied", slog.String("event_id", ev.ID), slog.String("type", string(ev.Type)))
			return nil
		}
		tenantID, err := s.apply(ctx, tx, ev)
		if err != nil {
			return err
		}
		if tenantID == 0 {
			outcome = "ignored"
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE billing_events SET tenant_id = $2 WHERE id = $1`, ev.ID, tenantID)
		return err
	})
	var ve *apperr.ValidationError
	switch {
	case errors.As(err, &ve):
		outcome = "refused"
	case err != nil:
		outcome = "failed"
	}
	s.metrics.delivered(string(ev.Type), outcome)
	return err
}

func (s *Service) apply(ctx context.Context, tx pgx.Tx, ev stripe.Event) (int64, error) {
	switch ev.Type {
	case "checkout.session.completed":
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil {
			return 0, apperr.Invalid("data.object", "not a checkout session: %v", err)
		}
		return s.checkoutCompleted(ctx, tx, ev, cs)
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		var sub stripe.Subscription
		if err := json.Unmarshal(ev.Data.Raw, &sub); err != nil {
			return 0, apperr.Invalid("data.object", "not a subscription: %v", err)
		}
		return s.subscriptionChanged(ctx, tx, ev, sub)
	}
	return 0, nil // not an event billing acts on
}

// checkoutCompleted links the Stripe customer and subscription to the
// tenant that started the checkout. The plan changes with the
// subscription's own events.
func (s *Service) checkoutCompleted(ctx context.Context, tx pgx.Tx, ev stripe.Event, cs stripe.CheckoutSession) (int64, error) {
	var customer string
	if cs.Customer != nil {
		customer = cs.Customer.ID
	}
	tenantID, ok, err := s.knownTenant(ctx, tx, cs.ClientReferenceID, customer)
	if err != nil {
		return 0, err
	}
	if !ok {
		s.log.Warn("stripe checkout for no known tenant; ignored", slog.String("event_id", ev.ID), slog.String("client_reference_id", cs.ClientReferenceID))
		return 0, nil
	}
	a, err := account(ctx, tx, tenantID, true)
	if err != nil {
		return 0, err
	}
	if cs.Customer != nil && a.CustomerID == "" {
		a.CustomerID = cs.Customer.ID
	}
	if cs.Subscription != nil && a.SubscriptionID == "" {
		a.SubscriptionID = cs.Subscription.ID
	}
	return tenantID, saveAccount(ctx, tx, a)
}

// subscriptionChanged applies a subscription's state: the account follows
// it, and the tenant's plan in force with it (audited). Stripe does not
// deliver in order: an event older than the last one applied is ignored.
func (s *Service) subscriptionChanged(ctx context.Context, tx pgx.Tx, ev stripe.Event, sub stripe.Subscription) (int64, error) {
	var customer string
	if sub.Customer != nil {
		customer = sub.Customer.ID
	}
	tenantID, ok, err := s.knownTenant(ctx, tx, sub.Metadata["tenant_id"], customer)
	if err != nil {
		return 0, err
	}
	if !ok {
		s.log.Warn("stripe subscription of no known tenant; ignored", slog.String("event_id", ev.ID), slog.String("customer", customer))
		return 0, nil
	}
	a, err := account(ctx, tx, tenantID, true)
	if err != nil {
		return 0, err
	}
	at := time.Unix(ev.Created, 0).UTC()
	// Stripe stamps events in whole seconds: of two in the same second
	// (created then activated, at checkout), the one further along the
	// subscription's life wins whatever order they arrive in.
	tie := a.subscriptionLastAt != nil && at.Equal(*a.subscriptionLastAt) && a.SubscriptionID == sub.ID &&
		lifeStage(string(sub.Status)) < lifeStage(a.Status)
	if tie || (a.subscriptionLastAt != nil && at.Before(*a.subscriptionLastAt)) {
		s.log.Info("stripe subscription event older than the one applied; ignored", slog.String("event_id", ev.ID), slog.Int64("tenant_id", tenantID))
		return tenantID, nil
	}
	if a.SubscriptionID != "" && sub.ID != a.SubscriptionID && !paidStatuses[string(sub.Status)] {
		// A stale subscription ending (the tenant has moved on to another).
		return tenantID, nil
	}
	plan := s.planOf(sub)
	if plan == "" && !paidStatuses[string(sub.Status)] {
		plan = a.Plan // ended or unpaid: free whatever it was for
	}
	if plan == "" {
		s.log.Error("stripe subscription for a price no plan is sold at; the plan is unchanged", slog.String("event_id", ev.ID),
			slog.Int64("tenant_id", tenantID))
		return tenantID, nil
	}
	status := string(sub.Status)
	if ev.Type == "customer.subscription.deleted" {
		status = string(stripe.SubscriptionStatusCanceled)
	}
	a.CustomerID = customer
	a.SubscriptionID, a.Status, a.Plan, a.CancelAtPeriodEnd, a.subscriptionLastAt = sub.ID, status, plan, sub.CancelAtPeriodEnd, &at
	if sub.CurrentPeriodEnd > 0 {
		end := time.Unix(sub.CurrentPeriodEnd, 0).UTC()
		a.CurrentPeriodEnd = &end
	}
	if err := saveAccount(ctx, tx, a); err != nil {
		return 0, err
	}
	return tenantID, s.setPlan(ctx, tx, tenantID, planInForce(plan, status), status, ev.ID)
}

// setPlan changes the tenant's plan in force, with an audit entry.
func (s *Service) setPlan(ctx context.Context, tx pgx.Tx, tenantID int64, plan, status, eventID string) error {
	var before string
	if err := tx.QueryRow(ctx, `SELECT plan FROM tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&before); err != nil {
		return fmt.Errorf("billing: tenant plan: %w", err)
	}
	if before == plan {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE tenants SET plan = $2, updated_at = now() WHERE id = $1`, tenantID, plan); err != nil {
		return fmt.Errorf("billing: set plan: %w", err)
	}
	b, _ := json.Marshal(map[string]string{"plan": before})
	a, _ := json.Marshal(map[string]string{"plan": plan, "subscription_status": status})
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, actor, action, target, before, after, request_id)
		VALUES ($1, 'stripe', 'billing.plan_changed', $2, $3, $4, $5)`,
		tenantID, fmt.Sprintf("tenant:%d", tenantID), b, a, eventID)
	if err != nil {
		return fmt.Errorf("billing: audit: %w", err)
	}
	s.log.Info("tenant plan changed", slog.Int64("tenant_id", tenantID), slog.String("from", before), slog.String("to", plan),
		slog.String("subscription_status", status), slog.String("event_id", eventID))
	return nil
}

// planOf is the plan a subscription pays for: by its price (the portal
// switches plans by price), else by the metadata Checkout gave it.
func (s *Service) planOf(sub stripe.Subscription) string {
	if sub.Items != nil {
		for _, it := range sub.Items.Data {
			if it.Price == nil {
				continue
			}
			for plan, price := range s.cfg.Prices {
				if price == it.Price.ID {
					return plan
				}
			}
		}
	}
	if p, ok := PlanByID(sub.Metadata["plan"]); ok && p.SelfServe {
		return p.ID
	}
	return ""
}

// knownTenant finds the tenant an event is about: the id Synapse gave
// Stripe (checkout reference or metadata), else the customer's account.
// The id must name an existing tenant, and one whose account (if linked)
// is that customer: metadata alone cannot move another tenant's plan.
//
// A database error is returned, not taken for an unknown tenant: the
// event is then not recorded, and Stripe delivers it again.
func (s *Service) knownTenant(ctx context.Context, tx pgx.Tx, ref, customer string) (int64, bool, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		var linked *string
		err := tx.QueryRow(ctx, `SELECT b.stripe_customer_id FROM tenants t LEFT JOIN billing_accounts b ON b.tenant_id = t.id WHERE t.id = $1`, id).Scan(&linked)
		switch {
		case err == nil && (linked == nil || customer == "" || *linked == customer):
			return id, true, nil
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return 0, false, fmt.Errorf("billing: tenant lookup: %w", err)
		}
	}
	if customer == "" {
		return 0, false, nil
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT tenant_id FROM billing_accounts WHERE stripe_customer_id = $1`, customer).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("billing: customer lookup: %w", err)
	}
	return id, true, nil
}

// lifeStage orders a subscription's statuses along its usual life, for
// events Stripe stamped in the same second.
func lifeStage(status string) int {
	switch status {
	case "incomplete", "none":
		return 0
	case "trialing", "incomplete_expired":
		return 1
	case "active":
		return 2
	case "past_due", "paused":
		return 3
	case "unpaid":
		return 4
	}
	return 5 // canceled
}
