package tenants

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Channel is a guild channel as Discord last described it (threads are not
// kept). A deleted channel keeps its row with Deleted set, so whatever
// names it (a zone, a rule, a report) can still show its name.
type Channel struct {
	bun.BaseModel `bun:"table:guild_channels"`

	TenantID  int64     `bun:"tenant_id,pk" json:"-"`
	GuildID   int64     `bun:"guild_id,pk" json:"guild_id,string"`
	ID        int64     `bun:"id,pk" json:"id,string"`
	Name      string    `bun:"name" json:"name"`
	Type      int16     `bun:"type" json:"type"`                  // Discord's channel type: 0 text, 2 voice, 4 category, 5 announcement, 13 stage, 15 forum…
	ParentID  int64     `bun:"parent_id" json:"parent_id,string"` // the category; 0 for none
	Position  int32     `bun:"position" json:"position"`
	Deleted   bool      `bun:"deleted" json:"deleted"`
	UpdatedAt time.Time `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

// Role is a guild role as Discord last described it. @everyone has the
// guild's id. Permissions is Discord's permission bit set.
type Role struct {
	bun.BaseModel `bun:"table:guild_roles"`

	TenantID    int64     `bun:"tenant_id,pk" json:"-"`
	GuildID     int64     `bun:"guild_id,pk" json:"guild_id,string"`
	ID          int64     `bun:"id,pk" json:"id,string"`
	Name        string    `bun:"name" json:"name"`
	Color       int32     `bun:"color" json:"color"`
	Position    int32     `bun:"position" json:"position"`
	Permissions int64     `bun:"permissions" json:"permissions,string"`
	Managed     bool      `bun:"managed" json:"managed"` // owned by an integration: cannot be given by hand
	Deleted     bool      `bun:"deleted" json:"deleted"`
	UpdatedAt   time.Time `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

// DirectoryStore reads and writes one tenant's guild directory: channels,
// roles and which roles members hold. The gateway worker keeps it current
// from GUILD_CREATE and the channel, role and member events; everything
// else reads it.
type DirectoryStore struct {
	db       bun.IDB
	tenantID int64
}

// Channels lists a guild's live channels (deleted ones left out), in
// Discord's order: by position, then id. A guild of another tenant, or one
// never seen, has none.
func (s *DirectoryStore) Channels(ctx context.Context, guildID int64) ([]Channel, error) {
	out := []Channel{}
	err := s.db.NewSelect().Model(&out).
		Where("tenant_id = ? AND guild_id = ? AND NOT deleted", s.tenantID, guildID).
		Order("position", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return out, nil
}

// AllChannels lists every channel of the guild ever seen, deleted ones
// included (Deleted set, after the live ones), for naming channels that
// zones, rules or reports still refer to.
func (s *DirectoryStore) AllChannels(ctx context.Context, guildID int64) ([]Channel, error) {
	out := []Channel{}
	err := s.db.NewSelect().Model(&out).
		Where("tenant_id = ? AND guild_id = ?", s.tenantID, guildID).
		Order("deleted", "position", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return out, nil
}

// AllRoles lists every role of the guild ever seen, deleted ones included
// (Deleted set, after the live ones), highest first.
func (s *DirectoryStore) AllRoles(ctx context.Context, guildID int64) ([]Role, error) {
	out := []Role{}
	err := s.db.NewSelect().Model(&out).
		Where("tenant_id = ? AND guild_id = ?", s.tenantID, guildID).
		Order("deleted", "position DESC", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return out, nil
}

// Channel returns one channel, deleted or not (ErrNotFound if never seen).
func (s *DirectoryStore) Channel(ctx context.Context, guildID, channelID int64) (Channel, error) {
	var c Channel
	err := s.db.NewSelect().Model(&c).
		Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, channelID).Scan(ctx)
	if err != nil {
		return Channel{}, notFound(err, "channel")
	}
	return c, nil
}

// Roles lists a guild's live roles, highest first (Discord's position, then
// id), @everyone last.
func (s *DirectoryStore) Roles(ctx context.Context, guildID int64) ([]Role, error) {
	out := []Role{}
	err := s.db.NewSelect().Model(&out).
		Where("tenant_id = ? AND guild_id = ? AND NOT deleted", s.tenantID, guildID).
		Order("position DESC", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return out, nil
}

// MemberRoles returns the role ids a member holds (never nil; @everyone is
// implied, not listed). ErrNotFound if the member was never seen.
func (s *DirectoryStore) MemberRoles(ctx context.Context, guildID, userID int64) ([]int64, error) {
	roles := []int64{}
	err := s.db.NewSelect().Table("members").Column("roles").
		Where("tenant_id = ? AND guild_id = ? AND user_id = ?", s.tenantID, guildID, userID).
		Scan(ctx, pgdialect.Array(&roles))
	if err != nil {
		return nil, notFound(err, "member")
	}
	return roles, nil
}

// HasRole reports whether a member holds a role; false for an unknown member.
func (s *DirectoryStore) HasRole(ctx context.Context, guildID, userID, roleID int64) (bool, error) {
	return s.db.NewSelect().Table("members").
		Where("tenant_id = ? AND guild_id = ? AND user_id = ? AND roles @> ARRAY[?::bigint]", s.tenantID, guildID, userID, roleID).
		Exists(ctx)
}

// MembersWithRole lists the ids of members present in the guild who hold a
// role, ordered, after afterUserID (keyset pagination), at most limit
// (default 100, at most 1000).
func (s *DirectoryStore) MembersWithRole(ctx context.Context, guildID, roleID, afterUserID int64, limit int) ([]int64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	out := []int64{}
	err := s.db.NewSelect().Table("members").Column("user_id").
		Where("roles @> ARRAY[?::bigint] AND tenant_id = ? AND guild_id = ? AND user_id > ? AND left_at IS NULL", roleID, s.tenantID, guildID, afterUserID).
		Order("user_id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("members with role: %w", err)
	}
	return out, nil
}

// SyncGuild records a guild's full channel and role lists (GUILD_CREATE):
// every listed one is stored and live, any other one is marked deleted
// (it went while the bot was not watching). One transaction.
func (s *DirectoryStore) SyncGuild(ctx context.Context, guildID int64, channels []Channel, roles []Role) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		sc := &DirectoryStore{db: tx, tenantID: s.tenantID}
		if err := sc.upsertChannels(ctx, guildID, channels); err != nil {
			return err
		}
		if err := sc.upsertRoles(ctx, guildID, roles); err != nil {
			return err
		}
		ids := func(n int, id func(int) int64) []int64 {
			out := make([]int64, n)
			for i := range out {
				out[i] = id(i)
			}
			return out
		}
		chIDs := ids(len(channels), func(i int) int64 { return channels[i].ID })
		roleIDs := ids(len(roles), func(i int) int64 { return roles[i].ID })
		if _, err := tx.NewUpdate().Model((*Channel)(nil)).Set("deleted = true, updated_at = now()").
			Where("tenant_id = ? AND guild_id = ? AND NOT deleted AND id <> ALL(?)", s.tenantID, guildID, pgdialect.Array(chIDs)).Exec(ctx); err != nil {
			return fmt.Errorf("mark channels deleted: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*Role)(nil)).Set("deleted = true, updated_at = now()").
			Where("tenant_id = ? AND guild_id = ? AND NOT deleted AND id <> ALL(?)", s.tenantID, guildID, pgdialect.Array(roleIDs)).Exec(ctx); err != nil {
			return fmt.Errorf("mark roles deleted: %w", err)
		}
		return nil
	})
}

// UpsertChannel records a created or updated channel (live again if it was
// marked deleted).
func (s *DirectoryStore) UpsertChannel(ctx context.Context, c Channel) error {
	return s.upsertChannels(ctx, c.GuildID, []Channel{c})
}

// DeleteChannel marks a channel deleted; the row stays.
func (s *DirectoryStore) DeleteChannel(ctx context.Context, guildID, channelID int64) error {
	_, err := s.db.NewUpdate().Model((*Channel)(nil)).Set("deleted = true, updated_at = now()").
		Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, channelID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	return nil
}

// UpsertRole records a created or updated role.
func (s *DirectoryStore) UpsertRole(ctx context.Context, r Role) error {
	return s.upsertRoles(ctx, r.GuildID, []Role{r})
}

// DeleteRole marks a role deleted and takes it from every member holding
// it: Discord sends no member updates when a role is deleted.
func (s *DirectoryStore) DeleteRole(ctx context.Context, guildID, roleID int64) error {
	return inTx(ctx, s.db, func(ctx context.Context, tx bun.IDB) error {
		if _, err := tx.NewUpdate().Model((*Role)(nil)).Set("deleted = true, updated_at = now()").
			Where("tenant_id = ? AND guild_id = ? AND id = ?", s.tenantID, guildID, roleID).Exec(ctx); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if _, err := tx.NewUpdate().Table("members").Set("roles = array_remove(roles, ?::bigint), updated_at = now()", roleID).
			Where("roles @> ARRAY[?::bigint] AND tenant_id = ? AND guild_id = ?", roleID, s.tenantID, guildID).Exec(ctx); err != nil {
			return fmt.Errorf("delete role from members: %w", err)
		}
		return nil
	})
}

func (s *DirectoryStore) upsertChannels(ctx context.Context, guildID int64, cs []Channel) error {
	if len(cs) == 0 {
		return nil
	}
	rows := make([]Channel, len(cs))
	for i, c := range cs {
		c.TenantID, c.GuildID, c.Deleted = s.tenantID, guildID, false
		rows[i] = c
	}
	_, err := s.db.NewInsert().Model(&rows).
		On("CONFLICT (tenant_id, guild_id, id) DO UPDATE").
		Set("name = EXCLUDED.name, type = EXCLUDED.type, parent_id = EXCLUDED.parent_id, position = EXCLUDED.position, deleted = false, updated_at = now()").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("upsert channels: %w", err)
	}
	return nil
}

func (s *DirectoryStore) upsertRoles(ctx context.Context, guildID int64, rs []Role) error {
	if len(rs) == 0 {
		return nil
	}
	rows := make([]Role, len(rs))
	for i, r := range rs {
		r.TenantID, r.GuildID, r.Deleted = s.tenantID, guildID, false
		rows[i] = r
	}
	_, err := s.db.NewInsert().Model(&rows).
		On("CONFLICT (tenant_id, guild_id, id) DO UPDATE").
		Set("name = EXCLUDED.name, color = EXCLUDED.color, position = EXCLUDED.position, permissions = EXCLUDED.permissions, managed = EXCLUDED.managed, deleted = false, updated_at = now()").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("upsert roles: %w", err)
	}
	return nil
}
