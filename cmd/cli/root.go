// Package cli assembles the synapse binary's subcommands. It is the only
// place that reads the process environment or uses context.Background.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/synapsehq/synapse/infra/config"
)

// Version is set at build time with -ldflags "-X .../cmd/cli.Version=…".
var Version = "dev"

// usageError is a bad command line (unknown flag, missing argument).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// Main runs the binary and returns its exit status: 0 on success, 2 for a
// configuration or usage problem, 1 for anything else.
func Main(args []string, stdout, stderr io.Writer) int {
	useFastJSON()
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return Run(ctx, args, stdout, stderr)
}

// Run is Main with the caller's context: cancelling it is a SIGTERM.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "synapse:", err)
	var ue usageError
	if config.IsConfigError(err) || errors.As(err, &ue) {
		return 2
	}
	return 1
}

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "synapse",
		Short:         "Synapse: a multi-tenant community platform for Discord",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newVersionCmd(),
		newMigrateCmd(),
		newAPICmd(),
		newGatewayCmd(),
		newWorkerCmd(),
		newAllCmd(),
		newSimCmd(),
		newDemoCmd(),
		newLoadtestCmd(),
		newConfigReferenceCmd(),
	)
	wrapAllArgs(root)
	return root
}

// wrapAllArgs makes every positional-argument error a usage error (exit 2).
func wrapAllArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		sub.Args = wrapArgs(sub.Args)
		wrapAllArgs(sub)
	}
}

func wrapArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	if v == nil {
		v = cobra.NoArgs
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// checker is a typed config section: it validates itself.
type checker interface{ Check(*config.Checker) }

// load fills unset flags from the environment, then validates every section.
func load(fs *pflag.FlagSet, sections ...checker) error {
	if err := config.ApplyEnv(fs, config.OSEnv()); err != nil {
		return err
	}
	var ch config.Checker
	for _, s := range sections {
		s.Check(&ch)
	}
	return ch.Err()
}
