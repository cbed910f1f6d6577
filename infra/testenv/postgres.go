// Package testenv gives each test its own isolated Postgres schema (with
// every migration applied) and its own Redis database, both removed when the
// test ends, plus a logger that writes to t.Log.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/migrations"
)

// DefaultDatabaseURL is the server and database tests use unless
// SYNAPSE_TEST_DATABASE_URL says otherwise; the database is created on first use.
const DefaultDatabaseURL = "postgres://synapse:synapse@127.0.0.1:5432/synapse_test?sslmode=disable"

// DatabaseURL is where test schemas are created.
func DatabaseURL() string {
	if u := os.Getenv("SYNAPSE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultDatabaseURL
}

var ensureOnce = sync.OnceValue(func() error { return ensureDatabase(context.Background(), DatabaseURL()) })

// DB returns a database handle pinned to a fresh schema holding the whole
// migrated schema; the schema is dropped when the test ends.
func DB(t testing.TB) *postgres.DB {
	t.Helper()
	db, _ := DBWithSchema(t)
	return db
}

// DBWithSchema is DB that also names the schema, for tests that open more
// connections of their own (a second pool, a subprocess).
func DBWithSchema(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	ctx := context.Background()
	if err := ensureOnce(); err != nil {
		t.Fatalf("testenv: postgres at %s is not usable: %v (run `make services` or set SYNAPSE_TEST_DATABASE_URL)", redacted(DatabaseURL()), err)
	}
	schema := "t_" + randomHex(8)
	admin, err := pgx.Connect(ctx, DatabaseURL())
	if err != nil {
		t.Fatalf("testenv: connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("testenv: create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), DatabaseURL())
		if err != nil {
			t.Errorf("testenv: cleanup connect: %v", err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("testenv: drop schema %s: %v", schema, err)
		}
	})

	db, err := postgres.Open(ctx, DatabaseURL(), postgres.Options{MaxConns: 8, SearchPath: schema})
	if err != nil {
		t.Fatalf("testenv: open: %v", err)
	}
	t.Cleanup(db.Close)
	m, err := migrations.New(db.Bun)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("testenv: migrate: %v", err)
	}
	return db, schema
}

// URLWithSchema is the test database URL with search_path pinned to schema.
func URLWithSchema(schema string) string {
	u, err := postgres.WithSearchPath(DatabaseURL(), schema)
	if err != nil {
		return DatabaseURL()
	}
	return u
}

// ensureDatabase creates the test database when the server has no such
// database yet (a fresh machine), by connecting to the server's postgres db.
func ensureDatabase(ctx context.Context, raw string) error {
	c, err := pgx.Connect(ctx, raw)
	if err == nil {
		return c.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" {
		return err
	}
	cfg, perr := pgx.ParseConfig(raw)
	if perr != nil {
		return perr
	}
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "42P04" {
		return nil // created by a concurrent test process
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable url)"
	}
	return strings.Replace(u.Redacted(), "xxxxx", "***", 1)
}
