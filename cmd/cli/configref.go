package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/synapsehq/synapse/infra/config"
)

func newConfigReferenceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "config-reference",
		Short: "Print every subcommand's flags and environment variables as Markdown",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return WriteConfigReference(cmd.OutOrStdout(), cmd.Root())
		},
	}
}

// WriteConfigReference renders the flag tables the README embeds; a test
// keeps the README's copy equal to this output.
func WriteConfigReference(w io.Writer, root *cobra.Command) error {
	var b strings.Builder
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		subs := c.Commands()
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
		if c != root && c.Runnable() && c.Name() != "help" {
			rows := flagRows(c)
			if len(rows) > 0 {
				fmt.Fprintf(&b, "#### `%s`\n\n| flag | environment | default | meaning |\n|---|---|---|---|\n", c.CommandPath())
				for _, r := range rows {
					b.WriteString(r)
				}
				b.WriteString("\n")
			}
		}
		for _, s := range subs {
			walk(s)
		}
	}
	walk(root)
	_, err := io.WriteString(w, b.String())
	return err
}

func flagRows(c *cobra.Command) []string {
	var rows []string
	fs := pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	fs.AddFlagSet(c.LocalFlags())
	fs.AddFlagSet(c.InheritedFlags())
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		def := f.DefValue
		if len(f.Annotations[config.SecretAnnotation]) > 0 {
			rows = append(rows, fmt.Sprintf("| `--%s` | `%s` (or `%s_FILE`) | `%s` | %s |\n", f.Name, config.EnvName(f.Name), config.EnvName(f.Name), def, f.Usage))
			return
		}
		rows = append(rows, fmt.Sprintf("| `--%s` | `%s` | `%s` | %s |\n", f.Name, config.EnvName(f.Name), def, f.Usage))
	})
	return rows
}
