package config

import (
	"time"

	"github.com/spf13/pflag"
)

// Database configures the PostgreSQL pool.
type Database struct {
	URL      string
	MaxConns int32
}

// DefaultDatabaseURL is the local development database the Makefile prepares.
const DefaultDatabaseURL = "postgres://synapse:synapse@127.0.0.1:5432/synapse?sslmode=disable"

func (c *Database) Register(fs *pflag.FlagSet) {
	fs.StringVar(&c.URL, "database-url", DefaultDatabaseURL, "PostgreSQL connection URL")
	fs.Int32Var(&c.MaxConns, "database-max-conns", 16, "maximum open PostgreSQL connections in the pool")
	MarkSecret(fs, "database-url")
}

func (c *Database) Check(ch *Checker) {
	ch.URL("database-url", c.URL, "postgres", "postgresql")
	ch.Positive("database-max-conns", int64(c.MaxConns))
}

// Redis configures the Redis client (asynq queues, caches, leases).
type Redis struct {
	URL string
}

func (c *Redis) Register(fs *pflag.FlagSet) {
	fs.StringVar(&c.URL, "redis-url", "redis://127.0.0.1:6379/0", "Redis connection URL")
	MarkSecret(fs, "redis-url")
}

func (c *Redis) Check(ch *Checker) { ch.URL("redis-url", c.URL, "redis", "rediss") }

// Log configures structured logging.
type Log struct {
	Format string
	Level  string
}

func (c *Log) Register(fs *pflag.FlagSet) {
	fs.StringVar(&c.Format, "log-format", "auto", "log format: json, text, or auto (text on a terminal, json otherwise)")
	fs.StringVar(&c.Level, "log-level", "info", "log level: debug, info, warn, error")
}

func (c *Log) Check(ch *Checker) {
	ch.OneOf("log-format", c.Format, "auto", "json", "text")
	ch.OneOf("log-level", c.Level, "debug", "info", "warn", "error")
}

// HTTP configures a role's HTTP listener (API, or health and metrics of other roles).
type HTTP struct {
	Addr            string
	ShutdownTimeout time.Duration
	flag            string
}

// RegisterHTTP registers the listen address under the given flag name and default.
func (c *HTTP) Register(fs *pflag.FlagSet, flag, def, usage string) {
	c.flag = flag
	fs.StringVar(&c.Addr, flag, def, usage)
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to drain in-flight work on SIGTERM before exiting")
}

func (c *HTTP) Check(ch *Checker) {
	ch.Addr(c.flag, c.Addr)
	if c.ShutdownTimeout <= 0 {
		ch.fail("shutdown-timeout", c.ShutdownTimeout.String(), "a positive duration such as 15s")
	}
}
