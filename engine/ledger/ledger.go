package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/tenants"
)

// Service is the platform-level entry point; it hands out ledgers bound to
// one tenant.
type Service struct {
	db     *postgres.DB
	logger *slog.Logger
}

// New wraps the database handle; logger may be nil (discarded).
func New(db *postgres.DB, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, logger: logger}
}

// ForTenant returns the ledger bound to one tenant: every query it runs
// filters on that tenant, so a caller cannot cross the boundary.
func (s *Service) ForTenant(tenantID int64) *Ledger {
	return &Ledger{db: s.db, logger: s.logger.With("tenant_id", tenantID), tenantID: tenantID}
}

// Ledger is one tenant's currencies, wallets, journal, seasons and shop.
type Ledger struct {
	db       *postgres.DB
	logger   *slog.Logger
	tenantID int64
}

// TenantID is the tenant this ledger is bound to.
func (l *Ledger) TenantID() int64 { return l.tenantID }

// audit is the tenant's audit log on the caller's transaction.
func (l *Ledger) audit(tx bun.IDB) *tenants.AuditStore {
	return tenants.NewStore(tx).ForTenant(l.tenantID).Audit()
}

// rows is what both pgx.Rows and *sql.Rows offer, so the posting engine
// runs on a pgx transaction (hot path) or on bun's database/sql one (admin
// actions that must share their transaction with the audit log).
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type dbtx interface {
	exec(ctx context.Context, sql string, args ...any) (int64, error)
	query(ctx context.Context, sql string, args ...any) (rows, error)
}

// copier is the COPY fast path, offered by pgx transactions only.
type copier interface {
	copyFrom(ctx context.Context, table string, cols []string, rows [][]any) (int64, error)
}

type pgxTx struct{ tx pgx.Tx }

func (t pgxTx) copyFrom(ctx context.Context, table string, cols []string, rows [][]any) (int64, error) {
	return t.tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
}

func (t pgxTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (t pgxTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	return t.tx.Query(ctx, q, args...)
}

// sqlTx runs $n-placeholder SQL on the *sql.Tx inside a bun.Tx, bypassing
// bun's own ?-formatting; pgx's stdlib driver encodes Go slices as arrays.
type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t sqlTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	r, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// maxAttempts bounds retries of a transaction that lost a race (a
// concurrent writer committed the same idempotency key first) or was
// chosen as a deadlock victim.
const maxAttempts = 10

// retryable reports whether running the whole transaction again can
// succeed: the next attempt sees the winner's committed rows.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40P01", "40001": // deadlock detected, serialization failure
		return true
	case "23505":
		return pgErr.ConstraintName == "ledger_transactions_key_idx" || pgErr.ConstraintName == "ledger_transactions_reverses_idx"
	}
	return false
}

// inPgxTx runs fn in a pgx transaction (the hot path), retrying lost races.
func (l *Ledger) inPgxTx(ctx context.Context, fn func(context.Context, dbtx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = pgx.BeginFunc(ctx, l.db.Pool, func(tx pgx.Tx) error { return fn(ctx, pgxTx{tx}) })
		if !retryable(err) {
			return err
		}
		l.logger.DebugContext(ctx, "ledger: retrying transaction", "attempt", attempt, "err", err)
	}
	return err
}

// inBunTx runs fn in a bun transaction, so ledger writes and audit entries
// commit together; lost races are retried like inPgxTx.
func (l *Ledger) inBunTx(ctx context.Context, fn func(context.Context, bun.Tx, dbtx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = l.db.Bun.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx, sqlTx{tx.Tx}) })
		if !retryable(err) {
			return err
		}
		l.logger.DebugContext(ctx, "ledger: retrying transaction", "attempt", attempt, "err", err)
	}
	return err
}

// mustJSON marshals values built here from plain structs, which cannot fail.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ledger: marshal %T: %v", v, err))
	}
	return b
}

// isNoRows reports a lookup that found nothing, from bun or pgx.
func isNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows)
}

// isFKViolation reports a foreign key failure: the referenced guild or
// currency does not exist in this tenant.
func isFKViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// isUniqueViolation reports a duplicate key.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// pgxPool runs dbtx queries outside a transaction, on the pool.
type pgxPool struct{ l *Ledger }

func (p pgxPool) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.l.db.Pool.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (p pgxPool) query(ctx context.Context, q string, args ...any) (rows, error) {
	return p.l.db.Pool.Query(ctx, q, args...)
}

// queryInt reads the single integer a query returns.
func queryInt(ctx context.Context, db dbtx, q string, args ...any) (int64, error) {
	rs, err := db.query(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	if !rs.Next() {
		if err := rs.Err(); err != nil {
			return 0, err
		}
		return 0, errors.New("query returned no row")
	}
	var n int64
	if err := rs.Scan(&n); err != nil {
		return 0, err
	}
	return n, rs.Err()
}
