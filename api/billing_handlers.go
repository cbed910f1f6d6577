package api

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/infra/apperr"
)

// Billing is a tenant's plan, subscription, allowances and use of them.
type Billing struct {
	Plan          string          `json:"plan"` // in force: what the limits read
	Subscription  billing.Account `json:"subscription"`
	Limits        billing.Limits  `json:"limits"` // 0: unlimited
	Usage         billing.Usage   `json:"usage"`
	Plans         []PlanOnSale    `json:"plans"`
	StripeEnabled bool            `json:"stripe_enabled"`
}

// PlanOnSale is a plan of the catalog and whether Checkout sells it here
// (a self-serve plan with a Stripe price on a deployment with Stripe).
type PlanOnSale struct {
	billing.Plan
	Purchasable bool `json:"purchasable"`
}

func (s *Server) getBilling(c *gin.Context) {
	ctx := c.Request.Context()
	tenantID := c.GetInt64(ctxTenant)
	t, err := s.tenants.Get(ctx, tenantID)
	if err != nil {
		writeError(c, err)
		return
	}
	out := Billing{Plan: t.Plan, StripeEnabled: s.billing.Enabled()}
	for _, p := range billing.Plans() {
		out.Plans = append(out.Plans, PlanOnSale{Plan: p, Purchasable: s.billing.Sells(p.ID)})
	}
	if p, ok := billing.PlanByID(t.Plan); ok {
		out.Limits = p.Limits
	}
	if out.Subscription, err = s.billing.Account(ctx, tenantID); err != nil {
		writeError(c, err)
		return
	}
	out.Usage, err = s.limits.Usage(ctx, tenantID)
	respond(c, http.StatusOK, out, err)
}

// CheckoutRequest names the plan to buy.
type CheckoutRequest struct {
	Plan string `json:"plan"`
}

// RedirectURL is a Stripe page to send the browser to.
type RedirectURL struct {
	URL string `json:"url"`
}

func (s *Server) postCheckout(c *gin.Context) {
	var req CheckoutRequest
	if !bindJSON(c, &req) {
		return
	}
	url, err := s.billing.Checkout(c.Request.Context(), c.GetInt64(ctxTenant), req.Plan)
	respond(c, http.StatusCreated, RedirectURL{URL: url}, err)
}

func (s *Server) postPortal(c *gin.Context) {
	url, err := s.billing.Portal(c.Request.Context(), c.GetInt64(ctxTenant))
	respond(c, http.StatusCreated, RedirectURL{URL: url}, err)
}

// postStripeWebhook applies a Stripe event. It is public: the event's
// signature, checked against the webhook secret, is its authentication.
func (s *Server) postStripeWebhook(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		writeError(c, apperr.Invalid("body", "unreadable or too large"))
		return
	}
	err = s.billing.HandleWebhook(c.Request.Context(), body, c.GetHeader("Stripe-Signature"))
	respond(c, http.StatusOK, gin.H{"received": true}, err)
}

// withinPlan refuses (402) a creation the tenant's plan has no room for.
func (s *Server) withinPlan(c *gin.Context, r billing.Resource) bool {
	if err := s.limits.Allow(c.Request.Context(), c.GetInt64(ctxTenant), c.GetInt64(ctxGuild), r); err != nil {
		writeError(c, err)
		return false
	}
	return true
}
