package cli

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/ops"
)

// serveOps serves /healthz, /readyz and /metrics for roles without the API.
func serveOps(ctx context.Context, d *deps, cfg config.HTTP) error {
	mux := http.NewServeMux()
	ops.Register(mux, d.probes, d.reg)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: ops.NewHTTPMetrics(d.reg).Wrap(mux), ReadHeaderTimeout: 10 * time.Second}
	return ops.Serve(ctx, d.log, hs, ln, cfg.ShutdownTimeout)
}

// roleCommand builds a long-running role's command: common flags, its own
// config, an ops or API listener, and run for the work itself.
func roleCommand(use, short, addrFlag, addrDefault string, own []checker, register func(*cobra.Command),
	run func(ctx context.Context, d *deps) error) *cobra.Command {
	var (
		c       common
		httpCfg config.HTTP
	)
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sections := append(append(c.sections(), &httpCfg), own...)
			if err := load(cmd.Flags(), sections...); err != nil {
				return err
			}
			d, err := openDeps(cmd.Context(), &c, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer d.Close()
			g, ctx := errgroup.WithContext(cmd.Context())
			g.Go(func() error { return serveOps(ctx, d, httpCfg) })
			g.Go(func() error { return run(ctx, d) })
			return g.Wait()
		},
	}
	c.register(cmd.Flags())
	httpCfg.Register(cmd.Flags(), addrFlag, addrDefault, "address serving /healthz, /readyz and /metrics")
	register(cmd)
	return cmd
}

func newGatewayCmd() *cobra.Command {
	var gw gatewayConfig
	return roleCommand("gateway", "Capture Discord events from leased shards into the Event Lake", "ops-addr", ":9101",
		[]checker{&gw}, func(cmd *cobra.Command) { gw.Register(cmd.Flags()) },
		func(ctx context.Context, d *deps) error { return runGateway(ctx, d, gw) })
}

func newWorkerCmd() *cobra.Command {
	var dc discordConfig
	return roleCommand("worker", "Run background jobs: rules evaluation, Discord actions, lake maintenance, the outbox relay", "ops-addr", ":9102",
		[]checker{&dc}, func(cmd *cobra.Command) { dc.Register(cmd.Flags()) },
		func(ctx context.Context, d *deps) error { return runWorker(ctx, d, dc) })
}
