package discordsim

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/disgoorg/disgo"
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/events"
	"github.com/disgoorg/disgo/gateway"
	"github.com/stretchr/testify/require"
)

// TestDisgoBotClients checks the helper options with disgo's bot package:
// a single-gateway client and a sharded one that learns shards and
// max_concurrency from GET /gateway/bot.
func TestDisgoBotClients(t *testing.T) {
	t.Parallel()
	skipDisgoGatewayUnderRace(t)
	s := setup(t, func(c *Config) { c.MaxConcurrency = 2 })
	total := 0
	for _, g := range s.Guilds() {
		if g.BotPresent {
			total++
		}
	}
	for _, tc := range []struct {
		name string
		opts []bot.ConfigOpt
		open func(*bot.Client) error
	}{
		{"single gateway", []bot.ConfigOpt{bot.WithGatewayConfigOpts(gateway.WithShardID(0), gateway.WithShardCount(1),
			gateway.WithIntents(gateway.IntentGuilds|gateway.IntentGuildMessages))},
			func(c *bot.Client) error { return c.OpenGateway(context.Background()) }},
		{"shard manager", []bot.ConfigOpt{bot.WithDefaultShardManager(), bot.WithShardManagerConfigOpts(s.ShardingOptions()...)},
			func(c *bot.Client) error { return c.OpenShardManager(context.Background()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ready atomic.Int32
			opts := append(s.BotOptions(), tc.opts...)
			opts = append(opts, bot.WithLogger(testLogger(t)), bot.WithEventListenerFunc(func(e *events.GuildReady) { ready.Add(1) }))
			client, err := disgo.New(s.Token(), opts...)
			require.NoError(t, err)
			require.Equal(t, s.AppID().Snowflake(), client.ApplicationID)
			t.Cleanup(func() { client.Close(context.Background()) })
			require.NoError(t, tc.open(client))
			require.Eventually(t, func() bool { return int(ready.Load()) == total }, 10*time.Second, 10*time.Millisecond)
		})
	}
	st := s.Stats().Identifies
	require.Equal(t, 3, st.AcceptedPerBkt[0]+st.AcceptedPerBkt[1], "one single gateway + two shards")
}
