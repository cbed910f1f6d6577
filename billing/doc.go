// Package billing sells Synapse's plans through Stripe and enforces what
// each plan allows.
//
// tenants.plan is the plan in force: the limits read it and nothing else.
// Stripe changes it only through signed webhook events (webhook.go), each
// applied once and in Stripe's order; Checkout and the customer portal
// (stripe.go) are where an owner starts or changes a subscription. A
// subscription that ends, or is unpaid, drops the tenant to the free plan;
// what it already has above the free limits stays, but nothing more can
// be created until it upgrades again.
package billing
