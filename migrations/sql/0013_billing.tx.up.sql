-- Stripe billing, one account per tenant. tenants.plan stays the plan in
-- force (what the limits read); this is the subscription behind it.
CREATE TABLE billing_accounts (
    tenant_id              bigint      PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_customer_id     text        UNIQUE,
    stripe_subscription_id text        UNIQUE,
    -- Stripe's subscription status; 'none' before the first subscription.
    status                 text        NOT NULL DEFAULT 'none' CHECK (status IN
        ('none', 'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
    -- The plan the subscription pays for (tenants.plan falls back to free
    -- when the subscription ends).
    plan                   text        NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'business', 'enterprise')),
    current_period_end     timestamptz,
    cancel_at_period_end   boolean     NOT NULL DEFAULT false,
    -- Stripe's creation time of the newest subscription event applied:
    -- Stripe does not deliver in order, and an older one arriving late
    -- must not undo a newer one.
    subscription_event_at  timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Webhook events already applied, by Stripe's id: a redelivery applies
-- nothing twice.
CREATE TABLE billing_events (
    id          text        PRIMARY KEY,
    type        text        NOT NULL,
    tenant_id   bigint,
    received_at timestamptz NOT NULL DEFAULT now()
);
