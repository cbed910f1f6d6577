// Package migrations holds the schema as plain SQL files embedded in the
// binary, applied by `synapse migrate` through bun's migrator.
//
// Files are named NNNN_name.tx.up.sql / NNNN_name.tx.down.sql; ".tx" runs the
// file in one transaction. A file that must run outside a transaction (for
// example CREATE INDEX CONCURRENTLY) drops the ".tx".
package migrations

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed sql/*.sql
var files embed.FS

// Status of one migration.
type Status struct {
	Name    string
	Applied bool
}

// Migrator applies the embedded migrations to one database (or schema: the
// connection's search_path decides where the tables go).
type Migrator struct {
	db *bun.DB
	m  *migrate.Migrator
}

// New discovers the embedded files; it fails only on a malformed file name.
func New(db *bun.DB) (*Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(files); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}
	return &Migrator{db: db, m: migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true))}, nil
}

// Up applies every pending migration and returns their names; a second run
// applies nothing.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var applied []string
	err := m.locked(ctx, func(ctx context.Context) error {
		group, err := m.m.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		for _, mg := range group.Migrations {
			applied = append(applied, mg.String())
		}
		return nil
	})
	return applied, err
}

// Down rolls back the last applied group.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var reverted []string
	err := m.locked(ctx, func(ctx context.Context) error {
		group, err := m.m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		for _, mg := range group.Migrations {
			reverted = append(reverted, mg.String())
		}
		return nil
	})
	return reverted, err
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	var out []Status
	err := m.locked(ctx, func(ctx context.Context) error {
		ms, err := m.m.MigrationsWithStatus(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		for _, mg := range ms {
			out = append(out, Status{Name: mg.String(), Applied: mg.IsApplied()})
		}
		return nil
	})
	return out, err
}

// locked serialises migrators on the same schema with a Postgres advisory
// lock (released by the server if this process dies, unlike a lock row).
func (m *Migrator) locked(ctx context.Context, fn func(context.Context) error) error {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close()
	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("migrate: current schema: %w", err)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("synapse-migrate:" + schema))
	key := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", key); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", key) //nolint:errcheck // released with the session anyway
	if err := m.m.Init(ctx); err != nil {
		return fmt.Errorf("migrate: init: %w", err)
	}
	return fn(ctx)
}
