package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// Globals are the flags every command shares, and the streams.
type Globals struct {
	Streams   IOStreams
	Verbosity int
	Quiet     bool
	// Command is the command line as typed ("gameday run ..."): a cluster's
	// lock names it to anyone who finds the cluster in use.
	Command string

	held map[string]io.Closer
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

// Hold keeps c (a cluster's lock) until the command ends: ReleaseAll, called
// when it does, closes it. key names what it holds.
func (g *Globals) Hold(key string, c io.Closer) {
	if g.held == nil {
		g.held = map[string]io.Closer{}
	}
	g.held[key] = c
}

// Holds says whether the command already holds key.
func (g *Globals) Holds(key string) bool {
	_, ok := g.held[key]
	return ok
}

// ReleaseAll closes everything the command holds.
func (g *Globals) ReleaseAll() {
	for key, c := range g.held {
		_ = c.Close()
		delete(g.held, key)
	}
}
