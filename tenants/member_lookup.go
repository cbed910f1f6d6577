package tenants

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// Names returns the display names of the given members of a guild; users
// the guild never saw are absent from the map.
func (s *MemberStore) Names(ctx context.Context, guildID int64, userIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rs, err := s.db.QueryContext(ctx, `SELECT user_id, display_name FROM members
		WHERE tenant_id = ? AND guild_id = ? AND user_id = ANY(?)`, s.tenantID, guildID, pgdialect.Array(userIDs))
	if err != nil {
		return nil, fmt.Errorf("member names: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var name string
		if err := rs.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("member names: %w", err)
		}
		out[id] = name
	}
	return out, rs.Err()
}

// Search pages through a guild's members whose display name contains q
// (case-insensitive; all members when q is empty), ordered by user id.
func (s *MemberStore) Search(ctx context.Context, guildID int64, q string, afterUserID int64, limit int) ([]Member, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	sel := s.db.NewSelect().Model((*Member)(nil)).
		Where("tenant_id = ? AND guild_id = ? AND user_id > ?", s.tenantID, guildID, afterUserID)
	if q = strings.TrimSpace(q); q != "" {
		// An escaped ILIKE: the caller's % and _ are literal.
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
		sel = sel.Where("display_name ILIKE ?", "%"+esc+"%")
	}
	var ms []Member
	if err := sel.Order("user_id").Limit(int64(limit)).Scan(ctx, &ms); err != nil {
		return nil, fmt.Errorf("search members: %w", err)
	}
	return ms, nil
}

// MemberCounts sums up a guild's membership.
type MemberCounts struct {
	Total  int64 `json:"total"`  // present now
	Joined int64 `json:"joined"` // joined since the given time
	Left   int64 `json:"left"`   // left since the given time
}

// Counts counts a guild's present members and the joins and leaves since
// a time.
func (s *MemberStore) Counts(ctx context.Context, guildID int64, since time.Time) (MemberCounts, error) {
	var c MemberCounts
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE left_at IS NULL),
			count(*) FILTER (WHERE joined_at >= ?), count(*) FILTER (WHERE left_at >= ?)
		FROM members WHERE tenant_id = ? AND guild_id = ?`, since, since, s.tenantID, guildID).Scan(&c.Total, &c.Joined, &c.Left)
	if err != nil {
		return MemberCounts{}, fmt.Errorf("member counts: %w", err)
	}
	return c, nil
}
