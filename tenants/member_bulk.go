package tenants

import (
	"context"
	"fmt"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// GetMany returns the given members of a guild in one query, keyed by user
// id; users the guild never saw are absent. Like Get, members who left are
// returned (with LeftAt set).
func (s *MemberStore) GetMany(ctx context.Context, guildID int64, userIDs []int64) (map[int64]Member, error) {
	out := make(map[int64]Member, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	var ms []Member
	err := s.db.NewSelect().Model(&ms).
		Where("tenant_id = ? AND guild_id = ? AND user_id = ANY(?)", s.tenantID, guildID, pgdialect.Array(userIDs)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("get members: %w", err)
	}
	for _, m := range ms {
		out[m.UserID] = m
	}
	return out, nil
}
