package cli

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/logging"
	"github.com/synapsehq/synapse/infra/ops"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/infra/redisclient"
)

// deps are what every long-running role is built from; each role gets them
// injected and closes them once, at exit.
type deps struct {
	log    *slog.Logger
	stderr io.Writer
	pg     *postgres.DB
	rdb    *redis.Client
	reg    *prometheus.Registry
	probes *ops.Probes
}

// common holds the config sections shared by every long-running role.
type common struct {
	Log   config.Log
	DB    config.Database
	Redis config.Redis
}

func (c *common) register(fs *pflag.FlagSet) {
	c.Log.Register(fs)
	c.DB.Register(fs)
	c.Redis.Register(fs)
}

func (c *common) sections() []checker { return []checker{&c.Log, &c.DB, &c.Redis} }

func openDeps(ctx context.Context, c *common, stderr io.Writer) (*deps, error) {
	log := logging.New(stderr, c.Log.Format, c.Log.Level)
	pg, err := postgres.Open(ctx, c.DB.URL, postgres.Options{MaxConns: c.DB.MaxConns})
	if err != nil {
		return nil, err
	}
	rdb, err := redisclient.Open(c.Redis.URL)
	if err != nil {
		pg.Close()
		return nil, err
	}
	probes := ops.NewProbes(2*time.Second,
		ops.Check{Name: "postgres", Ping: pg.Ping},
		ops.Check{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	)
	return &deps{log: log, stderr: stderr, pg: pg, rdb: rdb, reg: ops.NewRegistry(), probes: probes}, nil
}

func (d *deps) Close() {
	_ = d.rdb.Close()
	d.pg.Close()
}
