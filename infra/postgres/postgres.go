// Package postgres opens the pgx pool and the bun handle that share it.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// DB is the pgx pool (hot paths: COPY, batches) and a bun handle over the
// same pool (ordinary reads and writes).
type DB struct {
	Pool *pgxpool.Pool
	Bun  *bun.DB
	sql  *sql.DB
}

// Options tune the pool beyond the URL.
type Options struct {
	MaxConns int32
	// SearchPath, when set, pins every connection to a schema (tests).
	SearchPath string
}

// Open connects lazily: a database that is down at start makes Ping fail,
// not Open, so a role can start and report not-ready until it is back.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	if opt.SearchPath != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opt.SearchPath
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	return &DB{Pool: pool, Bun: bun.NewDB(sqldb, pgdialect.New()), sql: sqldb}, nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.Pool.Ping(ctx) }

// Close releases every connection.
func (d *DB) Close() {
	_ = d.Bun.Close()
	d.Pool.Close()
}

// WithSearchPath returns the connection URL with every connection pinned to
// schema (pgx passes unknown URL parameters on as session settings).
func WithSearchPath(rawURL, schema string) (string, error) {
	return WithParam(rawURL, "search_path", schema)
}

// WithParam returns rawURL with a connection parameter set.
func WithParam(rawURL, name, value string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
