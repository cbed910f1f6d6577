package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/migrations"
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
			d, err := openDeps(cmd.Context(), &c, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer d.Close()
			return runDemo(cmd.Context(), d, apiCfg, sc)
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

func runDemo(ctx context.Context, d *deps, api apiConfig, sc simConfig) error {
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
    watch the lake      psql %[4]q -c 'SELECT event_type, count(*) FROM event_lake GROUP BY 1'
    event volume        curl -H 'Authorization: Bearer %[2]s' http://%[1]s/api/v1/guilds/%[5]s/events/breakdown
    shard status        curl -H 'Authorization: Bearer %[2]s' http://%[1]s/api/v1/platform/shards
  Ctrl-C stops everything cleanly.

`, api.HTTP.Addr, api.OperatorToken, sim.URL(), d.dbURL, sim.Guilds()[0].ID)

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
