package discordsim

import (
	"testing"
	"time"

	"github.com/disgoorg/disgo/gateway"
	"github.com/stretchr/testify/require"
)

// TestLargeGuildCreateOverZstd sends a multi-hundred-kilobyte GUILD_CREATE
// through the zstd stream (window smaller than the payload).
func TestLargeGuildCreateOverZstd(t *testing.T) {
	t.Parallel()
	s := setup(t, func(c *Config) { c.Guilds, c.MembersPerGuild, c.Shards, c.PendingGuilds = 1, 3000, 1, 0 })
	rec := newRecorder()
	openGateway(t, s, 0, 1, rec)
	require.Eventually(t, func() bool { return len(rec.ofType(gateway.EventTypeGuildCreate)) == 1 }, 10*time.Second, 10*time.Millisecond)
	gc := rec.ofType(gateway.EventTypeGuildCreate)[0].data.(gateway.EventGuildCreate)
	require.Len(t, gc.Members, 3001)
	require.True(t, gc.Large)
}
