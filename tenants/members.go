package tenants

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Member flags.
const (
	MemberBot            = 1 << 0 // the account is a bot
	MemberDMOptOut       = 1 << 1 // the member asked for no DMs
	MemberAnnounceOptOut = 1 << 2 // the member asked not to be announced
)

// Member is a Discord user in one guild.
type Member struct {
	bun.BaseModel `bun:"table:members"`

	TenantID    int64      `bun:"tenant_id,pk" json:"-"`
	GuildID     int64      `bun:"guild_id,pk" json:"guild_id,string"`
	UserID      int64      `bun:"user_id,pk" json:"user_id,string"`
	DisplayName string     `bun:"display_name" json:"display_name"`
	JoinedAt    *time.Time `bun:"joined_at" json:"joined_at"`
	LeftAt      *time.Time `bun:"left_at" json:"left_at"`
	Flags       int32      `bun:"flags" json:"flags"`
	Roles       Snowflakes `bun:"roles,array" json:"roles"` // role ids held (@everyone implied); see DirectoryStore
	CreatedAt   time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

// MemberStore reads and writes one tenant's members.
type MemberStore struct {
	db       bun.IDB
	tenantID int64
}

// Upsert inserts or refreshes a member of one of this tenant's guilds; a
// guild of another tenant fails its foreign key.
func (s *MemberStore) Upsert(ctx context.Context, m Member) (Member, error) {
	m.TenantID = s.tenantID
	if m.Roles == nil {
		m.Roles = Snowflakes{} // NOT NULL; a new member holds none, an existing one keeps theirs
	}
	_, err := s.db.NewInsert().Model(&m).
		On("CONFLICT (tenant_id, guild_id, user_id) DO UPDATE").
		Set("display_name = EXCLUDED.display_name, joined_at = COALESCE(EXCLUDED.joined_at, member.joined_at), left_at = EXCLUDED.left_at, flags = EXCLUDED.flags, updated_at = now()").
		Returning("*").Exec(ctx)
	if err != nil {
		return Member{}, fmt.Errorf("upsert member: %w", err)
	}
	return m, nil
}

// Get returns one member.
func (s *MemberStore) Get(ctx context.Context, guildID, userID int64) (Member, error) {
	var m Member
	err := s.db.NewSelect().Model(&m).
		Where("tenant_id = ? AND guild_id = ? AND user_id = ?", s.tenantID, guildID, userID).Scan(ctx)
	if err != nil {
		return Member{}, notFound(err, "member")
	}
	return m, nil
}

// List returns a page of a guild's members ordered by user id, after the
// given user id (keyset pagination: stable under inserts).
func (s *MemberStore) List(ctx context.Context, guildID, afterUserID int64, limit int) ([]Member, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var ms []Member
	err := s.db.NewSelect().Model(&ms).
		Where("tenant_id = ? AND guild_id = ? AND user_id > ?", s.tenantID, guildID, afterUserID).
		Order("user_id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return ms, nil
}

// UpsertMany records many members of one guild in one statement (a
// GUILD_CREATE's member list, joins, member updates): display names, roles
// and flags are refreshed, join times kept when already known, and anyone
// listed is present again. A user listed twice keeps the last entry.
func (s *MemberStore) UpsertMany(ctx context.Context, guildID int64, ms []Member) error {
	if len(ms) == 0 {
		return nil
	}
	ms = lastPerUser(ms) // one statement may not update a row twice
	for i := range ms {
		ms[i].TenantID, ms[i].GuildID = s.tenantID, guildID
		if ms[i].Roles == nil {
			ms[i].Roles = Snowflakes{}
		}
	}
	_, err := s.db.NewInsert().Model(&ms).
		On("CONFLICT (tenant_id, guild_id, user_id) DO UPDATE").
		Set("display_name = EXCLUDED.display_name, roles = EXCLUDED.roles, joined_at = COALESCE(member.joined_at, EXCLUDED.joined_at), left_at = NULL, flags = (member.flags & ~?) | EXCLUDED.flags, updated_at = now()", MemberBot).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("upsert members: %w", err)
	}
	return nil
}

// MarkLeft records that a member left the guild.
func (s *MemberStore) MarkLeft(ctx context.Context, guildID, userID int64, at time.Time) error {
	_, err := s.db.NewUpdate().Model((*Member)(nil)).Set("left_at = ?, updated_at = now()", at).
		Where("tenant_id = ? AND guild_id = ? AND user_id = ?", s.tenantID, guildID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark member left: %w", err)
	}
	return nil
}

func lastPerUser(ms []Member) []Member {
	at := make(map[int64]int, len(ms))
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		if i, ok := at[m.UserID]; ok {
			out[i] = m
			continue
		}
		at[m.UserID] = len(out)
		out = append(out, m)
	}
	return out
}

// SetFlags sets and clears member flags (a member's preferences: DM and
// announcement opt-outs), creating the member's row if Synapse has not
// seen them yet, and returns the flags now held.
func (s *MemberStore) SetFlags(ctx context.Context, guildID, userID int64, set, clear int32) (int32, error) {
	m := Member{TenantID: s.tenantID, GuildID: guildID, UserID: userID, Flags: set, Roles: Snowflakes{}}
	_, err := s.db.NewInsert().Model(&m).
		On("CONFLICT (tenant_id, guild_id, user_id) DO UPDATE").
		Set("flags = (member.flags & ~?) | ?, updated_at = now()", clear, set).
		Returning("flags").Exec(ctx, &m.Flags)
	if err != nil {
		return 0, fmt.Errorf("set member flags: %w", err)
	}
	return m.Flags, nil
}
