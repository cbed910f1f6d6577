package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/synapsehq/synapse/engine/ledger"
	"github.com/synapsehq/synapse/engine/milestones"
	"github.com/synapsehq/synapse/engine/rules"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/migrations"
	"github.com/synapsehq/synapse/tenants"
)

func newDemoCmd() *cobra.Command {
	var (
		c      common
		apiCfg apiConfig
		sc     simConfig
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run discordsim with a synthetic community and every Synapse role, on a migrated database",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), append(c.sections(), &apiCfg, &sc)...); err != nil {
				return err
			}
			psqlURL := c.DB.URL
			url, err := freshDemoSchema(cmd.Context(), c.DB.URL)
			if err != nil {
				return err
			}
			c.DB.URL = url
			d, err := openDeps(cmd.Context(), &c, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer d.Close()
			return runDemo(cmd.Context(), d, apiCfg, sc, psqlURL)
		},
	}
	c.register(cmd.Flags())
	apiCfg.Register(cmd.Flags(), "127.0.0.1:8080")
	sc.Register(cmd.Flags(), "127.0.0.1:7878")
	_ = cmd.Flags().Set("sim-profile", discordsim.ProfileSteady)
	_ = cmd.Flags().Set("sim-rate", "25")
	_ = cmd.Flags().Set("sim-guilds", "3")
	_ = cmd.Flags().Set("sim-members", "120")
	for _, f := range []string{"sim-profile", "sim-rate", "sim-guilds", "sim-members"} {
		cmd.Flags().Lookup(f).Changed = false // defaults, still overridable by environment
		cmd.Flags().Lookup(f).DefValue = cmd.Flags().Lookup(f).Value.String()
	}
	return cmd
}

func runDemo(ctx context.Context, d *deps, api apiConfig, sc simConfig, psqlURL string) error {
	if api.OperatorToken == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		api.OperatorToken = hex.EncodeToString(b)
	}
	m, err := migrations.New(d.pg.Bun)
	if err != nil {
		return err
	}
	applied, err := m.Up(ctx)
	if err != nil {
		return err
	}
	d.log.Info("database migrated", slog.Any("applied", applied))

	sc.SimStart = time.Now().UTC().Truncate(time.Second)
	profile := sc.Profile
	sc.Profile = discordsim.ProfileNone // started below, once Synapse is connected
	sim, err := discordsim.New(sc.Config, d.log.With(slog.String("role", "sim")))
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	defer sim.Close()

	api.Auth.DiscordClientID, api.Auth.DiscordClientSecret = sim.AppID().String(), sim.ClientSecret()
	api.Auth.DiscordAuthorizeURL, api.Auth.DiscordRESTURL = sim.URL()+"/oauth2/authorize", sim.RESTURL()
	api.Auth.PublicURL, api.Auth.InsecureCookies = "http://"+api.HTTP.Addr, true
	gw := gatewayConfig{Discord: discordConfig{Token: sim.Token(), RESTURL: sim.RESTURL(), GatewayURL: sim.GatewayURL()},
		WorkerID: "demo", LeaseTTL: 5 * time.Second, IdentifyNamespace: "synapse-demo"}
	fmt.Fprintf(d.stderr, `
  Synapse demo
    API                 http://%[1]s/api/v1   (operator token: %[2]s)
    log in with Discord http://%[1]s/api/v1/auth/login   (discordsim's consent page)
    discordsim          %[3]s  (admin: %[3]s/_sim/)
    watch the lake      psql %[4]q -c 'SET search_path = synapse_demo; SELECT event_type, count(*) FROM event_lake GROUP BY 1'
    event volume        curl -H 'Authorization: Bearer %[2]s' http://%[1]s/api/v1/guilds/%[5]s/events/breakdown
    shard status        curl -H 'Authorization: Bearer %[2]s' http://%[1]s/api/v1/platform/shards
    XP being earned     psql %[4]q -c 'SET search_path = synapse_demo; SELECT user_id, balance FROM ledger_wallets ORDER BY balance DESC LIMIT 10'
  Ctrl-C stops everything cleanly.

`, api.HTTP.Addr, api.OperatorToken, sim.URL(), psqlURL, sim.Guilds()[0].ID)

	var ids []int64
	for _, g := range sim.Guilds() {
		if g.BotPresent {
			ids = append(ids, int64(g.ID))
		}
	}
	go installDemoPresets(ctx, d, ids)
	if profile != discordsim.ProfileNone {
		go func() {
			// Give the shards a moment to connect, so activity is captured from the start.
			select {
			case <-time.After(3 * time.Second):
			case <-ctx.Done():
				return
			}
			if _, err := sim.Generate(ctx, discordsim.GenerateOptions{Profile: profile, Rate: sc.Rate, Acceleration: sc.TimeAcceleration}); err != nil && ctx.Err() == nil {
				d.log.Error("demo activity stopped", slog.Any("err", err))
			}
		}()
	}
	return runAll(ctx, d, api, gw)
}

// installDemoPresets gives every guild the demo community joins the Classic
// currencies, rules and milestones, so activity turns into XP, Gold and
// Stars from the first minute (an operator would pick a preset in the
// onboarding wizard).
func installDemoPresets(ctx context.Context, d *deps, guildIDs []int64) {
	store := tenants.NewStore(d.pg.Bun)
	comp, err := rules.NewCompiler(rules.NewRegistry(), rules.CompilerOptions{})
	if err != nil {
		d.log.Error("demo presets", slog.Any("err", err))
		return
	}
	led := ledger.New(d.pg, d.log)
	actor := tenants.Actor{ID: "demo"}
	for _, id := range guildIDs {
		var tenantID int64
		for { // the gateway adopts each guild when its GUILD_CREATE arrives
			if tenantID, err = store.TenantOfGuild(ctx, id); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
		_, err := milestones.New(d.pg, led, d.log).ForTenant(tenantID).InstallClassic(ctx, actor, id) // currencies, then milestones
		if err == nil {
			_, err = rules.NewStore(d.pg.Bun, comp).ForTenant(tenantID).InstallPreset(ctx, actor, id, rules.Classic())
		}
		if err != nil {
			d.log.Error("demo presets", slog.Int64("guild_id", id), slog.Any("err", err))
			continue
		}
		d.log.Info("Classic Gamification installed", slog.Int64("guild_id", id))
	}
}

// demoSchema holds the demo's data: recreated at every start, so each demo
// begins from a clean, predictable state and leaves the rest of the
// database alone.
const demoSchema = "synapse_demo"

// freshDemoSchema recreates the demo schema and returns the URL that pins
// connections to it.
func freshDemoSchema(ctx context.Context, raw string) (string, error) {
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("demo database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+demoSchema+" CASCADE; CREATE SCHEMA "+demoSchema); err != nil {
		return "", fmt.Errorf("demo schema: %w", err)
	}
	return postgres.WithSearchPath(raw, demoSchema)
}
