package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/synapsehq/synapse/infra/apperr"
)

// Guild is a Discord server operated by a tenant.
type Guild struct {
	bun.BaseModel `bun:"table:guilds"`

	TenantID    int64           `bun:"tenant_id,pk" json:"tenant_id"`
	ID          int64           `bun:"id,pk" json:"id,string"`
	Name        string          `bun:"name" json:"name"`
	Settings    json.RawMessage `bun:"settings,type:jsonb" json:"settings"`
	AFKChannel  int64           `bun:"afk_channel_id,nullzero" json:"afk_channel_id,string"` // as Discord last reported it
	BotJoinedAt *time.Time      `bun:"bot_joined_at" json:"bot_joined_at"`
	BotLeftAt   *time.Time      `bun:"bot_left_at" json:"bot_left_at"`
	// CaptureSince is when capture of the guild began (Discord's time):
	// joins before it were not seen live.
	CaptureSince *time.Time `bun:"capture_since" json:"capture_since"`
	CreatedAt    time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	UpdatedAt    time.Time  `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

// GuildStore reads and writes one tenant's guilds.
type GuildStore struct {
	db       bun.IDB
	tenantID int64
}

// Upsert records that the bot is in the guild (a join or a re-join) since
// joinedAt, captured since captureSince (zero: unknown). Both stay the
// first ones while the bot remains (every new gateway session sends the
// guild again); a re-join after a leave starts anew. A guild that belongs
// to another tenant is refused with ErrConflict.
func (s *GuildStore) Upsert(ctx context.Context, id int64, name string, joinedAt, captureSince time.Time) (Guild, error) {
	g := Guild{TenantID: s.tenantID, ID: id, Name: name, Settings: json.RawMessage(`{}`), BotJoinedAt: &joinedAt}
	if !captureSince.IsZero() {
		g.CaptureSince = &captureSince
	}
	res, err := s.db.NewInsert().Model(&g).
		On("CONFLICT (id) DO UPDATE").
		Set(`name = EXCLUDED.name, bot_left_at = NULL, updated_at = now(),
			bot_joined_at = CASE WHEN guild.bot_left_at IS NULL AND guild.bot_joined_at IS NOT NULL
				THEN guild.bot_joined_at ELSE EXCLUDED.bot_joined_at END,
			capture_since = CASE WHEN guild.bot_left_at IS NULL AND guild.capture_since IS NOT NULL
				THEN guild.capture_since ELSE EXCLUDED.capture_since END`).
		Where("guild.tenant_id = EXCLUDED.tenant_id").
		Returning("*").Exec(ctx)
	if err != nil {
		return Guild{}, fmt.Errorf("upsert guild: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Guild{}, fmt.Errorf("guild %d belongs to another tenant: %w", id, apperr.ErrConflict)
	}
	return g, nil
}

// Get returns one guild of this tenant.
func (s *GuildStore) Get(ctx context.Context, id int64) (Guild, error) {
	var g Guild
	err := s.db.NewSelect().Model(&g).Where("tenant_id = ? AND id = ?", s.tenantID, id).Scan(ctx)
	if err != nil {
		return Guild{}, notFound(err, "guild")
	}
	return g, nil
}

// List returns this tenant's guilds by name.
func (s *GuildStore) List(ctx context.Context) ([]Guild, error) {
	var gs []Guild
	if err := s.db.NewSelect().Model(&gs).Where("tenant_id = ?", s.tenantID).Order("name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list guilds: %w", err)
	}
	return gs, nil
}

// MarkLeft records that the bot left the guild; its data stays until retention.
func (s *GuildStore) MarkLeft(ctx context.Context, id int64, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*Guild)(nil)).
		Set("bot_left_at = ?, updated_at = now()", at).
		Where("tenant_id = ? AND id = ?", s.tenantID, id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark guild left: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.NotFound("guild")
	}
	return nil
}

// UpdateSettings replaces the guild's settings object and writes the change,
// with before and after, to the audit log in the same transaction.
func (s *GuildStore) UpdateSettings(ctx context.Context, actor Actor, id int64, settings json.RawMessage) (Guild, error) {
	var obj map[string]any
	if err := json.Unmarshal(settings, &obj); err != nil || obj == nil {
		return Guild{}, apperr.Invalid("settings", "must be a JSON object")
	}
	var out Guild
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		var before Guild
		if err := tx.NewSelect().Model(&before).Where("tenant_id = ? AND id = ?", s.tenantID, id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "guild")
		}
		out = before
		out.Settings = keepTaxonomy(before.Settings, settings)
		if _, err := tx.NewUpdate().Model(&out).Column("settings").Set("updated_at = now()").
			Where("tenant_id = ? AND id = ?", s.tenantID, id).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("update guild settings: %w", err)
		}
		return (&AuditStore{db: tx, tenantID: s.tenantID}).Record(ctx, AuditEntry{
			GuildID: &id, Actor: actor.ID, RequestID: actor.RequestID,
			Action: "guild.settings.update", Target: "guild:" + strconv.FormatInt(id, 10),
			Before: before.Settings, After: out.Settings,
		})
	})
	return out, err
}

// inTx runs fn in a transaction, or inside the caller's one if db already is.
func inTx(ctx context.Context, db bun.IDB, fn func(context.Context, bun.IDB) error) error {
	if _, ok := db.(bun.Tx); ok {
		return fn(ctx, db)
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) })
}

// keepTaxonomy carries the stored labels (see SetTaxonomy) into settings
// that replace the document without a taxonomy key: clients that predate
// it, or edit only capture, do not wipe the community's terms.
func keepTaxonomy(before, after json.RawMessage) json.RawMessage {
	var b, a map[string]json.RawMessage
	if json.Unmarshal(before, &b) != nil || json.Unmarshal(after, &a) != nil {
		return after
	}
	t, had := b["taxonomy"]
	if _, has := a["taxonomy"]; !had || has {
		return after
	}
	a["taxonomy"] = t
	out, err := json.Marshal(a)
	if err != nil {
		return after
	}
	return out
}
