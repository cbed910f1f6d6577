package tenants

import (
	"context"
	"fmt"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// GuildsByID reads the named guilds across tenants (each with its tenant),
// for callers that already know the guilds are theirs to see: the API's
// /me lists the guilds a user holds roles in.
func (s *Store) GuildsByID(ctx context.Context, ids []int64) ([]Guild, error) {
	var gs []Guild
	if len(ids) == 0 {
		return gs, nil
	}
	if err := s.db.NewSelect().Model(&gs).Where("id = ANY(?)", pgdialect.Array(ids)).Order("name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("guilds by id: %w", err)
	}
	return gs, nil
}
