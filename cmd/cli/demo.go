package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/migrations"
)

func newDemoCmd() *cobra.Command {
	var (
		c       common
		httpCfg config.HTTP
		sc      simConfig
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run discordsim with a synthetic community and every Synapse role, on a migrated database",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), append(c.sections(), &httpCfg, &sc)...); err != nil {
				return err
			}
			d, err := openDeps(cmd.Context(), &c, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer d.Close()
			return runDemo(cmd.Context(), d, httpCfg, sc)
		},
	}
	c.register(cmd.Flags())
	httpCfg.Register(cmd.Flags(), "http-addr", "127.0.0.1:8080", "address the API and dashboard listen on")
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

func runDemo(ctx context.Context, d *deps, api config.HTTP, sc simConfig) error {
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

	gw := gatewayConfig{Discord: discordConfig{Token: sim.Token(), RESTURL: sim.RESTURL(), GatewayURL: sim.GatewayURL()},
		WorkerID: "demo", LeaseTTL: 5 * time.Second, IdentifyNamespace: "synapse-demo"}
	fmt.Fprintf(d.stderr, `
  Synapse demo
    dashboard and API   http://%s
    discordsim          %s  (admin: %s/_sim/)
    watch the lake      psql %q -c 'SELECT event_type, count(*) FROM event_lake GROUP BY 1'
  Ctrl-C stops everything cleanly.

`, api.Addr, sim.URL(), sim.URL(), d.dbURL)

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
