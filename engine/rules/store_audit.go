package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
	"github.com/synapsehq/synapse/tenants"
)

// changed audits a change (before/after as JSON, nil for none) and
// announces it to every cache, in the caller's transaction.
func (s *TenantStore) changed(ctx context.Context, tx bun.IDB, actor tenants.Actor, guildID int64, action, target string, before, after any) error {
	entry := tenants.AuditEntry{GuildID: &guildID, Actor: actorID(actor), RequestID: actor.RequestID, Action: action, Target: target}
	var err error
	if before != nil {
		if entry.Before, err = json.Marshal(before); err != nil {
			return err
		}
	}
	if after != nil {
		if entry.After, err = json.Marshal(after); err != nil {
			return err
		}
	}
	if err := tenants.NewStore(tx).ForTenant(s.tenantID).Audit().Record(ctx, entry); err != nil {
		return err
	}
	return notify(ctx, tx, s.tenantID, guildID)
}

func notify(ctx context.Context, tx bun.IDB, tenantID, guildID int64) error {
	payload := strconv.FormatInt(tenantID, 10) + ":" + strconv.FormatInt(guildID, 10)
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?)", NotifyChannel, payload); err != nil {
		return fmt.Errorf("notify rule change: %w", err)
	}
	return nil
}

func actorID(a tenants.Actor) string {
	if a.ID == "" {
		return "system"
	}
	return a.ID
}

// dbError maps driver errors to domain errors.
func dbError(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound(what)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23503": // foreign key: the guild is not this tenant's
			return apperr.NotFound("guild")
		case "23505":
			return fmt.Errorf("%s: %s: %w", what, pg.ConstraintName, apperr.ErrConflict)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// inTx runs fn in a transaction, or inside the caller's one if db already is.
func inTx(ctx context.Context, db bun.IDB, fn func(context.Context, bun.IDB) error) error {
	if _, ok := db.(bun.Tx); ok {
		return fn(ctx, db)
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) })
}
