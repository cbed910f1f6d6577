package cli

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/synapsehq/synapse/api"
	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/ops"
)

// apiConfig is the API role's listener and access settings.
type apiConfig struct {
	HTTP          config.HTTP
	OperatorToken string
}

func (c *apiConfig) Register(fs *pflag.FlagSet, def string) {
	c.HTTP.Register(fs, "http-addr", def, "address the API listens on")
	fs.StringVar(&c.OperatorToken, "operator-token", "", "bearer token of the platform operator for the data endpoints; empty disables them")
	config.MarkSecret(fs, "operator-token")
}

func (c *apiConfig) Check(ch *config.Checker) { c.HTTP.Check(ch) }

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
	})
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return ops.Serve(ctx, d.log, hs, ln, cfg.HTTP.ShutdownTimeout)
}
