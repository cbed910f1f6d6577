package cli

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/synapsehq/synapse/api"
	"github.com/synapsehq/synapse/billing"
	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/workers/jobs"
)

// apiConfig is the API role's listener, login and access settings.
type apiConfig struct {
	HTTP          config.HTTP
	OperatorToken string
	Auth          api.AuthConfig
	Billing       billing.Config
	pricePro      string
	priceBusiness string
}

func (c *apiConfig) Register(fs *pflag.FlagSet, def string) {
	c.HTTP.Register(fs, "http-addr", def, "address the API listens on")
	fs.StringVar(&c.OperatorToken, "operator-token", "", "bearer token of the platform operator, who may do everything; empty: no operator access")
	config.MarkSecret(fs, "operator-token")
	fs.StringVar(&c.Auth.PublicURL, "public-url", "http://127.0.0.1:8080", "where browsers reach Synapse; the OAuth2 redirect URI is this + /api/v1/auth/callback")
	fs.StringVar(&c.Auth.DiscordClientID, "discord-client-id", "", "OAuth2 client id of the Discord application (Login with Discord)")
	fs.StringVar(&c.Auth.DiscordClientSecret, "discord-client-secret", "", "OAuth2 client secret of the Discord application")
	config.MarkSecret(fs, "discord-client-secret")
	fs.StringVar(&c.Auth.DiscordAuthorizeURL, "discord-oauth-url", "https://discord.com/oauth2/authorize", "Discord's OAuth2 consent page (discordsim's in development)")
	fs.StringVar(&c.Auth.DiscordRESTURL, "discord-oauth-rest-url", "https://discord.com/api/v10", "REST base for the OAuth2 token exchange and users/@me")
	fs.BoolVar(&c.Auth.InsecureCookies, "insecure-cookies", false, "drop the Secure cookie flag (plain-http localhost only)")
	fs.DurationVar(&c.Auth.SessionTTL, "session-ttl", 7*24*time.Hour, "how long a login lasts")
	fs.StringVar(&c.Auth.SessionSecret, "session-secret", "", "secret (32+ bytes) that signs login state and seals Discord tokens; empty: random per process")
	config.MarkSecret(fs, "session-secret")
	fs.StringVar(&c.Billing.SecretKey, "stripe-secret-key", "", "Stripe API key (sk_...); empty: plans cannot be bought (their limits still apply)")
	config.MarkSecret(fs, "stripe-secret-key")
	fs.StringVar(&c.Billing.WebhookSecret, "stripe-webhook-secret", "", "signing secret of the Stripe webhook endpoint /api/v1/billing/stripe/webhook (whsec_...)")
	config.MarkSecret(fs, "stripe-webhook-secret")
	fs.StringVar(&c.Billing.APIURL, "stripe-api-url", "", "Stripe API base; empty: https://api.stripe.com (stripe-mock's URL in development)")
	fs.StringVar(&c.pricePro, "stripe-price-pro", "", "Stripe price id of the Pro plan (price_...)")
	fs.StringVar(&c.priceBusiness, "stripe-price-business", "", "Stripe price id of the Business plan (price_...)")
}

// billing is the Stripe configuration with the plans' prices.
func (c *apiConfig) billing() billing.Config {
	b := c.Billing
	b.Prices = map[string]string{}
	for plan, price := range map[string]string{billing.PlanPro: c.pricePro, billing.PlanBusiness: c.priceBusiness} {
		if price != "" {
			b.Prices[plan] = price
		}
	}
	return b
}

func (c *apiConfig) Check(ch *config.Checker) {
	c.HTTP.Check(ch)
	ch.URL("public-url", c.Auth.PublicURL, "https", "http")
	ch.URL("discord-oauth-url", c.Auth.DiscordAuthorizeURL, "https", "http")
	ch.URL("discord-oauth-rest-url", c.Auth.DiscordRESTURL, "https", "http")
	if s := c.Auth.SessionSecret; s != "" && len(s) < 32 {
		ch.MinLength("session-secret", 32)
	}
	if c.Billing.APIURL != "" {
		ch.URL("stripe-api-url", c.Billing.APIURL, "https", "http")
	}
	if c.Billing.SecretKey != "" {
		ch.NonEmpty("stripe-webhook-secret", c.Billing.WebhookSecret, "the webhook's signing secret, without which no subscription takes effect")
	}
}

func newAPICmd() *cobra.Command {
	var (
		c   common
		cfg apiConfig
	)
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Serve the REST API and dashboard, with /healthz, /readyz and /metrics",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), append(c.sections(), &cfg)...); err != nil {
				return err
			}
			d, err := openDeps(cmd.Context(), &c, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer d.Close()
			return serveAPIOn(cmd.Context(), d, cfg)
		},
	}
	c.register(cmd.Flags())
	cfg.Register(cmd.Flags(), ":8080")
	return cmd
}

func serveAPIOn(ctx context.Context, d *deps, cfg apiConfig) error {
	srv := api.New(api.Deps{
		Log:           d.log,
		DB:            d.pg,
		Redis:         d.rdb,
		Registry:      d.reg,
		Probes:        d.probes,
		Version:       Version,
		OperatorToken: cfg.OperatorToken,
		Auth:          cfg.Auth,
		Billing:       cfg.billing(),
		// Dry runs see members as the rules workers do.
		RuleFacts: jobs.NewMemberFacts(tenants.NewStore(d.pg.Bun), ledger.New(d.pg, d.log)),
	})
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return ops.Serve(ctx, d.log, hs, ln, cfg.HTTP.ShutdownTimeout)
}
