package cli

import (
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/discordsim"
	"github.com/synapsehq/synapse/infra/logging"
)

// simConfig is discordsim's configuration as flags.
type simConfig struct{ discordsim.Config }

func (c *simConfig) Register(fs *pflag.FlagSet, listen string) {
	def := discordsim.DefaultConfig()
	c.Config = def
	fs.StringVar(&c.ListenAddr, "sim-listen", listen, "address the simulator serves REST, gateway, OAuth2 and /_sim/ on")
	fs.Uint64Var(&c.Seed, "sim-seed", def.Seed, "seed of the synthetic communities and activity")
	fs.IntVar(&c.Guilds, "sim-guilds", def.Guilds, "guilds the bot is in")
	fs.IntVar(&c.MembersPerGuild, "sim-members", def.MembersPerGuild, "members per guild")
	fs.IntVar(&c.PendingGuilds, "sim-pending-guilds", def.PendingGuilds, "guilds without the bot, for the add-to-server flow")
	fs.IntVar(&c.Shards, "sim-shards", def.Shards, "shard count GET /gateway/bot recommends")
	fs.IntVar(&c.MaxConcurrency, "sim-max-concurrency", def.MaxConcurrency, "identify buckets (session_start_limit.max_concurrency)")
	fs.IntVar(&c.DailyIdentifyBudget, "sim-identify-budget", def.DailyIdentifyBudget, "identifies allowed per day")
	fs.StringVar(&c.Profile, "sim-profile", def.Profile, "background activity: none, steady, server-500-day")
	fs.Float64Var(&c.Rate, "sim-rate", def.Rate, "events per second for the steady profile")
	fs.Float64Var(&c.TimeAcceleration, "sim-acceleration", def.TimeAcceleration, "simulated seconds per real second for server-500-day (0: as fast as possible)")
	fs.BoolVar(&c.OAuthAutoApprove, "sim-oauth-auto-approve", false, "skip the OAuth2 consent page")
	fs.StringVar(&c.GroundTruthFile, "sim-ground-truth-file", "", "append every dispatch and channel history read as a JSON line to this file")
}

func (c *simConfig) Check(ch *config.Checker) {
	ch.Addr("sim-listen", c.ListenAddr)
	ch.Positive("sim-guilds", int64(c.Guilds))
	ch.Positive("sim-members", int64(c.MembersPerGuild))
	ch.Positive("sim-shards", int64(c.Shards))
	ch.Positive("sim-max-concurrency", int64(c.MaxConcurrency))
	ch.OneOf("sim-profile", c.Profile, discordsim.ProfileNone, discordsim.ProfileSteady, discordsim.ProfileServerDay)
}

func newSimCmd() *cobra.Command {
	var (
		sc  simConfig
		log config.Log
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run discordsim, the offline Discord (gateway v10, REST, OAuth2) with synthetic communities",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), &sc, &log); err != nil {
				return err
			}
			sc.SimStart = time.Now().UTC().Truncate(time.Second)
			return discordsim.Run(cmd.Context(), sc.Config, logging.New(cmd.ErrOrStderr(), log.Format, log.Level))
		},
	}
	log.Register(cmd.Flags())
	sc.Register(cmd.Flags(), "127.0.0.1:7878")
	return cmd
}
