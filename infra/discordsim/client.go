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

// GatewayOptions points a single disgo gateway at the simulator. disgo
// v0.19 defaults to zstd-stream transport compression, which the simulator
// speaks, so no compression option is needed.
func (s *Server) GatewayOptions() []gateway.ConfigOpt {
	return []gateway.ConfigOpt{gateway.WithURL(s.GatewayURL())}
}

// BotOptions configures bot.New / disgo.New against the simulator: REST
// base URL plus gateway URL. When sharding, bot.BuildClient takes the URL,
// shard count and max_concurrency from GET /gateway/bot, which the
// simulator serves, so only the REST URL matters there.
func (s *Server) BotOptions() []bot.ConfigOpt {
	return []bot.ConfigOpt{
		bot.WithRestClientConfigOpts(rest.WithURL(s.RESTURL())),
		bot.WithGatewayConfigOpts(gateway.WithURL(s.GatewayURL())),
	}
}

// ShardingOptions returns sharding options that dial the simulator.
func (s *Server) ShardingOptions() []sharding.ConfigOpt {
	return []sharding.ConfigOpt{sharding.WithGatewayConfigOpts(gateway.WithURL(s.GatewayURL()))}
}
