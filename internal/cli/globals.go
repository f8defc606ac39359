package cli

import (
	"github.com/spf13/cobra"
)

// Globals are the flags every command shares, and the streams.
type Globals struct {
	Streams   IOStreams
	Verbosity int
	Quiet     bool
}

// Logger returns the logger the global flags ask for.
func (g *Globals) Logger() *Logger {
	return NewLogger(g.Streams.ErrOut, g.Verbosity, g.Quiet)
}

// NoArgs refuses positional arguments as bad input (exit code 2).
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("%q takes no arguments, got %q; see `%s --help`", cmd.CommandPath(), args[0], cmd.CommandPath())
	}
	return nil
}

// Group is the RunE of a command that only holds subcommands: help without
// arguments, an error for an unknown subcommand.
func Group(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef("unknown command %q for %q; see `%s --help`", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return cmd.Help()
}
