// Command synapse is the single Synapse binary; its role is chosen by subcommand.
package main

import (
	"os"

	"github.com/synapsehq/synapse/cmd/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
