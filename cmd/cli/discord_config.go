package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/workers/gateway"
)

// discordConfig is how a role reaches Discord (or discordsim).
type discordConfig struct {
	Token      string
	RESTURL    string
	GatewayURL string
}

func (c *discordConfig) Register(fs *pflag.FlagSet) {
	fs.StringVar(&c.Token, "discord-token", "", "bot token")
	fs.StringVar(&c.RESTURL, "discord-rest-url", "https://discord.com/api/v10", "Discord REST base URL (discordsim's in development)")
	fs.StringVar(&c.GatewayURL, "discord-gateway-url", "", "gateway URL; empty: the one GET /gateway/bot returns")
	config.MarkSecret(fs, "discord-token")
}

func (c *discordConfig) Check(ch *config.Checker) {
	ch.NonEmpty("discord-token", c.Token, "a Discord bot token")
	ch.URL("discord-rest-url", c.RESTURL, "https", "http")
	if c.GatewayURL != "" {
		ch.URL("discord-gateway-url", c.GatewayURL, "wss", "ws")
	}
}

// gatewayConfig configures the gateway role.
type gatewayConfig struct {
	Discord  discordConfig
	Shards   int
	WorkerID string
	LeaseTTL time.Duration
	// ParkAfter is the pipeline's MaxBlock: how long a shard's read loop
	// waits on a full ingest buffer before the shard parks.
	ParkAfter time.Duration
	// LakeLanes is how many lake batches the worker writes at once.
	LakeLanes int
	// IdentifyNamespace keys the fleet's identify limits in Redis: one per bot.
	IdentifyNamespace string
}

func (c *gatewayConfig) Register(fs *pflag.FlagSet) {
	c.Discord.Register(fs)
	fs.IntVar(&c.Shards, "shards", 0, "total shard count; 0: what GET /gateway/bot recommends")
	fs.StringVar(&c.WorkerID, "worker-id", "", "this gateway worker's id in the fleet; empty: host name and process id")
	fs.StringVar(&c.IdentifyNamespace, "identify-namespace", "synapse", "Redis key prefix of the fleet-wide identify limits (one per bot token)")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", 5*time.Second, "how long a shard lease lives without renewal (bounds the takeover time when a worker dies)")
	fs.DurationVar(&c.ParkAfter, "park-after", gateway.DefaultPipelineConfig().MaxBlock,
		"how long a shard waits on a full ingest buffer (the database is behind) before closing its connection to resume later; keep it under half the gateway's heartbeat interval")
	fs.IntVar(&c.LakeLanes, "lake-lanes", gateway.DefaultPipelineConfig().Lanes,
		"lake batches written at once (each holds a database connection); a shard always writes through the same lane, so its events commit in order")
}

func (c *gatewayConfig) Check(ch *config.Checker) {
	c.Discord.Check(ch)
	if c.Shards < 0 {
		ch.Positive("shards", int64(c.Shards))
	}
	ch.Positive("lease-ttl", int64(c.LeaseTTL))
	ch.Positive("park-after", int64(c.ParkAfter))
	ch.Positive("lake-lanes", int64(c.LakeLanes))
}
