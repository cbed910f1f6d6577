package discordsim_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/disgoorg/disgo/gateway"
	"github.com/disgoorg/disgo/rest"

	"github.com/synapsehq/synapse/infra/discordsim"
)

// Example starts a simulator, posts a message over REST with disgo and
// reads it back from the ground truth.
func Example() {
	ctx := context.Background()
	cfg := discordsim.DefaultConfig()
	cfg.Guilds, cfg.MembersPerGuild = 2, 20
	srv, err := discordsim.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		panic(err)
	}
	if err := srv.Start(ctx); err != nil {
		panic(err)
	}
	defer srv.Close()

	g := srv.Guilds()[0]
	client := rest.New(rest.NewClient(srv.Token(), srv.RESTClientOptions()...))
	_, _ = client.GetGatewayBot()
	if _, err := srv.SendMessage(ctx, discordsim.MessageOptions{
		ChannelID: g.Channels["general"], AuthorID: g.Members[1], Content: "hello",
	}); err != nil {
		panic(err)
	}
	_ = gateway.New(srv.Token(), nil, srv.GatewayOptions()...) // ready to Open
	for _, r := range srv.GroundTruth() {
		fmt.Println(r.Type, r.GuildID == g.ID)
	}
	// Output: MESSAGE_CREATE true
}
