package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/loadtest"
	"github.com/synapsehq/synapse/infra/logging"
)

func newLoadtestCmd() *cobra.Command {
	var (
		c        common
		profile  string
		duration time.Duration
		rate     float64
		lanes    int
		asJSON   bool
		profOut  string
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Drive simulated Discord traffic through capture and report throughput, lag, loss and cost",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), c.sections()...); err != nil {
				return err
			}
			var ch config.Checker
			if profile == loadtest.ProfileRate || profile == loadtest.ProfileRules {
				ch.Positive("rate", int64(rate))
			}
			ch.OneOf("profile", profile, loadtest.ProfileRoadmap500, loadtest.ProfileMax, loadtest.ProfileRate, loadtest.ProfileChaos, loadtest.ProfileNaive, loadtest.ProfileRules, loadtest.ProfileRulesMax)
			if err := ch.Err(); err != nil {
				return err
			}
			if profOut != "" {
				f, err := os.Create(profOut)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			bin, err := os.Executable()
			if err != nil {
				return err
			}
			rep, err := loadtest.Run(cmd.Context(), loadtest.Options{
				Profile: profile, Duration: duration, Rate: rate, Lanes: lanes, DatabaseURL: c.DB.URL, RedisURL: c.Redis.URL, Binary: bin,
				Log: logging.New(cmd.ErrOrStderr(), c.Log.Format, c.Log.Level),
			})
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			b, _ := json.MarshalIndent(rep, "", "  ")
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return err
		},
	}
	c.register(cmd.Flags())
	_ = cmd.Flags().Set("log-level", "warn")
	cmd.Flags().Lookup("log-level").DefValue = "warn"
	cmd.Flags().StringVar(&profile, "profile", loadtest.ProfileRoadmap500, "roadmap-500, max, rate, chaos, naive, rules or rules-max")
	cmd.Flags().DurationVar(&duration, "duration", 20*time.Second, "how long to generate traffic (all profiles but roadmap-500)")
	cmd.Flags().Float64Var(&rate, "rate", 0, "events per second: required by the rate and rules profiles; optional for chaos (default: max)")
	cmd.Flags().IntVar(&lanes, "lanes", 0, "lake batches the in-process pipeline writes at once; 0: the gateway role's default")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as one JSON line")
	cmd.Flags().StringVar(&profOut, "cpuprofile", "", "write a CPU profile of the run (simulator and pipeline) to this file")
	return cmd
}
