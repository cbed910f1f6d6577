package discordsim

import (
	"github.com/disgoorg/disgo/bot"
	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"
	"github.com/disgoorg/disgo/sharding"
)

// RESTClientOptions points a disgo REST client at the simulator.
func (s *Server) RESTClientOptions() []rest.ClientConfigOpt {
	return []rest.ClientConfigOpt{rest.WithURL(s.RESTURL())}
}

// GatewayOptions points a single disgo gateway at the simulator, without
// transport compression. The simulator speaks zstd-stream (disgo v0.19's
// default), but disgo v0.19.6's zstd transport can crash the process: its
// Close frees the zstd decoder while the read loop may still be inside it
// (nil dereference in zstd.(*Decoder).nextBlockSync). The gateway worker
// turns compression off for the same reason; pass
// gateway.WithCompression after these options to test a transport.
func (s *Server) GatewayOptions() []gateway.ConfigOpt {
	return []gateway.ConfigOpt{gateway.WithURL(s.GatewayURL()), gateway.WithCompression(gateway.CompressionNone)}
}

// BotOptions configures bot.New / disgo.New against the simulator: REST
// base URL plus GatewayOptions. When sharding, bot.BuildClient takes the URL,
// shard count and max_concurrency from GET /gateway/bot, which the
// simulator serves, and not these gateway options: add
// bot.WithShardManagerConfigOpts(s.ShardingOptions()...) for them.
func (s *Server) BotOptions() []bot.ConfigOpt {
	return []bot.ConfigOpt{
		bot.WithRestClientConfigOpts(rest.WithURL(s.RESTURL())),
		bot.WithGatewayConfigOpts(s.GatewayOptions()...),
	}
}

// ShardingOptions returns sharding options that dial the simulator.
func (s *Server) ShardingOptions() []sharding.ConfigOpt {
	return []sharding.ConfigOpt{sharding.WithGatewayConfigOpts(s.GatewayOptions()...)}
}
