package cli

import (
	"context"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

// runAll runs the API, a gateway worker and a job worker in one process.
// A role that fails stops the others (and the process) rather than leaving
// a half-working install running.
func runAll(ctx context.Context, d *deps, api apiConfig, gw gatewayConfig) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveAPIOn(ctx, d, api) })
	g.Go(func() error { return runGateway(ctx, d, gw) })
	g.Go(func() error { return runWorker(ctx, d, gw.Discord) })
	return g.Wait()
}

func newAllCmd() *cobra.Command {
	var (
		c      common
		apiCfg apiConfig
		gw     gatewayConfig
	)
	cmd := &cobra.Command{
		Use:   "all",
		Short: "Run every role (API, gateway, worker) in one process, for small installs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), append(c.sections(), &apiCfg, &gw)...); err != nil {
				return err
			}
			d, err := openDeps(cmd.Context(), &c, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer d.Close()
			return runAll(cmd.Context(), d, apiCfg, gw)
		},
	}
	c.register(cmd.Flags())
	apiCfg.Register(cmd.Flags(), ":8080")
	gw.Register(cmd.Flags())
	return cmd
}
