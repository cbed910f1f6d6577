package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
)

// InviteTTL is how long an invite to add a guild to a tenant waits for
// the bot's arrival.
const InviteTTL = 15 * time.Minute

// OnboardAdded: the guild joined the tenant whose owner invited the bot.
const OnboardAdded = "added"

// InviteGuild records that the tenant's operator is adding the bot to
// guildID: until it arrives (or the invite expires), the guild is
// registered into this tenant rather than one of its own.
func (s *Scope) InviteGuild(ctx context.Context, actor Actor, userID, guildID int64, now time.Time) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		// Another tenant's live invite stands until it expires.
		res, err := tx.NewRaw(`INSERT INTO guild_invites (guild_id, tenant_id, user_id, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (guild_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, user_id = EXCLUDED.user_id, expires_at = EXCLUDED.expires_at
			WHERE guild_invites.tenant_id = EXCLUDED.tenant_id OR guild_invites.expires_at <= ?`,
			guildID, s.tenantID, userID, now.Add(InviteTTL), now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("invite guild: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("another account is adding that server already: %w", apperr.ErrConflict)
		}
		a := mustJSON(map[string]string{"guild_id": strconv.FormatInt(guildID, 10), "expires_at": now.Add(InviteTTL).Format(time.RFC3339)})
		return (&Scope{db: tx, tenantID: s.tenantID}).Audit().Record(ctx, AuditEntry{GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID,
			Action: "tenant.guild_invited", Target: "guild:" + strconv.FormatInt(guildID, 10), Before: []byte("null"), After: a})
	})
}

// pendingInvite returns the unexpired invite of a guild, locked.
func pendingInvite(ctx context.Context, tx bun.IDB, guildID int64, now time.Time) (tenantID, userID int64, ok bool, err error) {
	err = tx.NewRaw(`SELECT tenant_id, user_id FROM guild_invites WHERE guild_id = ? AND expires_at > ? FOR UPDATE`, guildID, now).
		Scan(ctx, &tenantID, &userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("guild invite: %w", err)
	}
	return tenantID, userID, true, nil
}

// RegisterInvited registers a guild the bot just joined into the tenant
// that invited it, if an invite is pending: ok is false otherwise, and the
// caller registers the guild as it would. joinedAt and since are as for
// GuildStore.Upsert.
func (s *Store) RegisterInvited(ctx context.Context, guildID int64, name string, joinedAt, since, now time.Time) (tenantID int64, ok bool, err error) {
	err = inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		var userID int64
		tenantID, userID, ok, err = pendingInvite(ctx, tx, guildID, now)
		if err != nil || !ok {
			return err
		}
		return addInvited(ctx, tx, Actor{ID: "system"}, tenantID, userID, guildID, name, joinedAt, since)
	})
	return tenantID, ok, err
}

// addInvited puts the guild in the inviting tenant and spends the invite.
func addInvited(ctx context.Context, tx bun.IDB, actor Actor, tenantID, userID, guildID int64, name string, joinedAt, since time.Time) error {
	sc := NewStore(tx).ForTenant(tenantID)
	if _, err := sc.Guilds().Upsert(ctx, guildID, name, joinedAt, since); err != nil {
		return err
	}
	if _, err := tx.NewRaw(`DELETE FROM guild_invites WHERE guild_id = ?`, guildID).Exec(ctx); err != nil {
		return fmt.Errorf("spend guild invite: %w", err)
	}
	a := mustJSON(map[string]string{"guild_id": strconv.FormatInt(guildID, 10), "invited_by": strconv.FormatInt(userID, 10)})
	return sc.Audit().Record(ctx, AuditEntry{GuildID: &guildID, Actor: actor.ID, RequestID: actor.RequestID,
		Action: "tenant.guild_added", Target: "guild:" + strconv.FormatInt(guildID, 10), Before: []byte("null"), After: a})
}
