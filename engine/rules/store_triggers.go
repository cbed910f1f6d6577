package rules

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/synapsehq/synapse/tenants"
)

// GuildsTriggeredBy lists the guilds, across tenants, with an enabled rule
// triggered by event, skipping guilds the bot left: the schedule triggers
// visit only those instead of every guild. Platform-level, like
// tenants.Store.ActiveGuilds; each guild is then handled under its tenant.
func (s *Store) GuildsTriggeredBy(ctx context.Context, event string) ([]tenants.GuildRef, error) {
	events, err := json.Marshal([]string{event})
	if err != nil {
		return nil, err
	}
	var out []tenants.GuildRef
	err = s.db.NewSelect().TableExpr("rules AS r").
		ColumnExpr("DISTINCT r.tenant_id, r.guild_id AS id").
		Join("JOIN guilds AS g ON g.tenant_id = r.tenant_id AND g.id = r.guild_id").
		Where("r.enabled AND g.bot_left_at IS NULL").
		Where("r.document->'trigger'->'events' @> ?::jsonb", string(events)).
		OrderExpr("r.tenant_id, id").
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("guilds triggered by %s: %w", event, err)
	}
	return out, nil
}
