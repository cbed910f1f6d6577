package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Account is a tenant's subscription as Stripe last reported it.
type Account struct {
	TenantID           int64      `json:"-"`
	CustomerID         string     `json:"-"`
	SubscriptionID     string     `json:"-"`
	Status             string     `json:"status"` // Stripe's subscription status, "none" before the first
	Plan               string     `json:"subscribed_plan"`
	CurrentPeriodEnd   *time.Time `json:"current_period_end"`
	CancelAtPeriodEnd  bool       `json:"cancel_at_period_end"`
	subscriptionLastAt *time.Time
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// account reads a tenant's account; a tenant that never subscribed has
// the zero account (status none, free plan). lock (in a transaction)
// holds the row until it commits.
func account(ctx context.Context, q querier, tenantID int64, lock bool) (Account, error) {
	a := Account{TenantID: tenantID, Status: "none", Plan: PlanFree}
	sql := `SELECT coalesce(stripe_customer_id, ''), coalesce(stripe_subscription_id, ''), status, plan, current_period_end,
		cancel_at_period_end, subscription_event_at FROM billing_accounts WHERE tenant_id = $1`
	if lock {
		sql += " FOR UPDATE"
	}
	err := q.QueryRow(ctx, sql, tenantID).Scan(&a.CustomerID, &a.SubscriptionID, &a.Status, &a.Plan, &a.CurrentPeriodEnd,
		&a.CancelAtPeriodEnd, &a.subscriptionLastAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return Account{}, fmt.Errorf("billing: account: %w", err)
	}
	return a, nil
}

// saveAccount writes the account whole.
func saveAccount(ctx context.Context, q pgx.Tx, a Account) error {
	_, err := q.Exec(ctx, `
		INSERT INTO billing_accounts (tenant_id, stripe_customer_id, stripe_subscription_id, status, plan, current_period_end,
			cancel_at_period_end, subscription_event_at, updated_at)
		VALUES ($1, nullif($2, ''), nullif($3, ''), $4, $5, $6, $7, $8, now())
		ON CONFLICT (tenant_id) DO UPDATE SET stripe_customer_id = EXCLUDED.stripe_customer_id,
			stripe_subscription_id = EXCLUDED.stripe_subscription_id, status = EXCLUDED.status, plan = EXCLUDED.plan,
			current_period_end = EXCLUDED.current_period_end, cancel_at_period_end = EXCLUDED.cancel_at_period_end,
			subscription_event_at = EXCLUDED.subscription_event_at, updated_at = now()`,
		a.TenantID, a.CustomerID, a.SubscriptionID, a.Status, a.Plan, a.CurrentPeriodEnd, a.CancelAtPeriodEnd, a.subscriptionLastAt)
	if err != nil {
		return fmt.Errorf("billing: save account: %w", err)
	}
	return nil
}
