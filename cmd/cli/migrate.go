package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/synapsehq/synapse/infra/config"
	"github.com/synapsehq/synapse/infra/postgres"
	"github.com/synapsehq/synapse/migrations"
)

func newMigrateCmd() *cobra.Command {
	var db config.Database
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, revert or list the embedded database migrations",
	}
	db.Register(cmd.PersistentFlags())

	run := func(action func(*cobra.Command, *migrations.Migrator) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			if err := load(cmd.Flags(), &db); err != nil {
				return err
			}
			pg, err := postgres.Open(cmd.Context(), db.URL, postgres.Options{MaxConns: 2})
			if err != nil {
				return err
			}
			defer pg.Close()
			m, err := migrations.New(pg.Bun)
			if err != nil {
				return err
			}
			return action(cmd, m)
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Apply every pending migration (a second run applies nothing)",
			Args:  cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, m *migrations.Migrator) error {
				applied, err := m.Up(cmd.Context())
				if err != nil {
					return err
				}
				if len(applied) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "database is up to date")
				}
				for _, name := range applied {
					fmt.Fprintln(cmd.OutOrStdout(), "applied", name)
				}
				return nil
			}),
		},
		&cobra.Command{
			Use:   "down",
			Short: "Revert the last applied group of migrations",
			Args:  cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, m *migrations.Migrator) error {
				reverted, err := m.Down(cmd.Context())
				if err != nil {
					return err
				}
				if len(reverted) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "nothing to revert")
				}
				for _, name := range reverted {
					fmt.Fprintln(cmd.OutOrStdout(), "reverted", name)
				}
				return nil
			}),
		},
		&cobra.Command{
			Use:   "status",
			Short: "List migrations as applied or pending",
			Args:  cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, m *migrations.Migrator) error {
				st, err := m.Status(cmd.Context())
				if err != nil {
					return err
				}
				for _, s := range st {
					state := "pending"
					if s.Applied {
						state = "applied"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%-8s %s\n", state, s.Name)
				}
				return nil
			}),
		},
	)
	return cmd
}
