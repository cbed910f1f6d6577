package cli

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/synapsehq/synapse/api"
	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/ops"
)

func newAPICmd() *cobra.Command {
	var (
		c       common
		httpCfg config.HTTP
	)
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Serve the REST API and dashboard, with /healthz, /readyz and /metrics",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), append(c.sections(), &httpCfg)...); err != nil {
				return err
			}
			d, err := openDeps(cmd.Context(), &c, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer d.Close()
			return serveAPIOn(cmd.Context(), d, httpCfg)
		},
	}
	c.register(cmd.Flags())
	httpCfg.Register(cmd.Flags(), "http-addr", ":8080", "address the API listens on")
	return cmd
}

func serveAPIOn(ctx context.Context, d *deps, cfg config.HTTP) error {
	srv := api.New(api.Deps{
		Log:      d.log,
		DB:       d.pg,
		Redis:    d.rdb,
		Registry: d.reg,
		Probes:   d.probes,
		Version:  Version,
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return ops.Serve(ctx, d.log, hs, ln, cfg.ShutdownTimeout)
}
