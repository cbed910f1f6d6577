package tenants_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/synapsehq/synapse/infra/testenv"
	"github.com/synapsehq/synapse/tenants"
	"github.com/synapsehq/synapse/tenants/tenanttest"
)

// Every gateway session announces the guild again: the bot's join and
// capture times stay the first ones while it remains, and a re-join after
// leaving starts anew.
func TestGuildJoinTimeSurvivesNewSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DB(t).Bun
	tn := tenanttest.Tenant(ctx, t, db, nil)
	guilds := tenants.NewStore(db).ForTenant(tn.ID).Guilds()
	first := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	captured := first.Add(5 * time.Hour) // Synapse registered the guild later
	_, err := guilds.Upsert(ctx, 42, "Guild", first, captured)
	require.NoError(t, err)
	g, err := guilds.Upsert(ctx, 42, "Guild renamed", first.Add(48*time.Hour), first.Add(48*time.Hour)) // a later session
	require.NoError(t, err)
	require.Equal(t, "Guild renamed", g.Name)
	require.True(t, first.Equal(*g.BotJoinedAt), "joined at %v", g.BotJoinedAt)
	require.True(t, captured.Equal(*g.CaptureSince), "captured since %v", g.CaptureSince)

	require.NoError(t, guilds.MarkLeft(ctx, 42, first.Add(72*time.Hour)))
	again := first.Add(96 * time.Hour)
	g, err = guilds.Upsert(ctx, 42, "Guild", again, again)
	require.NoError(t, err)
	require.True(t, again.Equal(*g.BotJoinedAt), "a re-join starts anew: %v", g.BotJoinedAt)
	require.True(t, again.Equal(*g.CaptureSince), "capture starts anew: %v", g.CaptureSince)
	require.Nil(t, g.BotLeftAt)
}
