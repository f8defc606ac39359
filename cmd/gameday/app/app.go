// Package app is the gameday command: Main wires the process (signals, exit
// codes), Run does the work and is what tests call.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/internal/cli"
	clustercmd "gameday.dev/gameday/internal/cmd/cluster"
	consolecmd "gameday.dev/gameday/internal/cmd/console"
	"gameday.dev/gameday/internal/cmd/doctor"
	fixturescmd "gameday.dev/gameday/internal/cmd/fixtures"
	playcmd "gameday.dev/gameday/internal/cmd/play"
	recovercmd "gameday.dev/gameday/internal/cmd/recover"
	reportcmd "gameday.dev/gameday/internal/cmd/report"
	runcmd "gameday.dev/gameday/internal/cmd/run"
	scenarioscmd "gameday.dev/gameday/internal/cmd/scenarios"
	stopcmd "gameday.dev/gameday/internal/cmd/stop"
	systemscmd "gameday.dev/gameday/internal/cmd/systems"
	"gameday.dev/gameday/internal/cmd/up"
	"gameday.dev/gameday/internal/cmd/version"
	"gameday.dev/gameday/internal/yamlfile"
	"gameday.dev/gameday/play"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/system"
)

// Main runs gameday as a process: the first Ctrl-C (or SIGTERM) cancels the
// context so that what the command changed is put back; a second one exits at once.
func Main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\nInterrupted: cleaning up (press Ctrl-C again to quit at once)")
		cancel()
		<-sigs
		os.Exit(cli.ExitInterrupted)
	}()
	err := Run(ctx, cli.StandardStreams(), os.Args[1:])
	if err != nil {
		printError(os.Stderr, err)
	}
	os.Exit(ExitCode(err))
}

func printError(w io.Writer, err error) {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "ERROR: interrupted")
		// What failed besides (a recovery that did not finish) is said.
		for _, e := range besidesCanceled(err) {
			fmt.Fprintf(w, "ERROR: %s\n", e)
		}
		return
	}
	var yerrs yamlfile.Errors
	if errors.As(err, &yerrs) && len(yerrs) > 1 {
		fmt.Fprintf(w, "ERROR: %d problems:\n", len(yerrs))
		for _, e := range yerrs {
			fmt.Fprintf(w, "  %s\n", e)
		}
		return
	}
	fmt.Fprintf(w, "ERROR: %s\n", err)
}

// besidesCanceled lists the errors in err's tree that are not a
// cancellation: the leaves of joined errors, as far down as they join.
func besidesCanceled(err error) []error {
	if !errors.Is(err, context.Canceled) {
		return []error{err}
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range u.Unwrap() {
			out = append(out, besidesCanceled(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		return besidesCanceled(u.Unwrap())
	}
	return nil
}

// Run runs gameday with args and returns its error; ExitCode maps it.
func Run(ctx context.Context, streams cli.IOStreams, args []string) error {
	root, g := newRoot(streams)
	g.Command = strings.Join(append([]string{"gameday"}, args...), " ")
	defer g.ReleaseAll()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && cli.ExitCode(err) == cli.ExitError && strings.HasPrefix(err.Error(), "unknown command") {
		return cli.Usage(fmt.Errorf("%w; see `gameday --help`", err))
	}
	return err
}

// ExitCode maps an error to gameday's exit code, in this one place: bad input
// is 2, an interrupt 130, any other failure 1.
func ExitCode(err error) int {
	if err == nil {
		return cli.ExitOK
	}
	var yerrs yamlfile.Errors
	var yerr *yamlfile.Error
	switch {
	case errors.As(err, &yerrs), errors.As(err, &yerr),
		errors.Is(err, cluster.ErrUnknownTopology),
		errors.Is(err, cluster.ErrInvalidName),
		errors.Is(err, cluster.ErrExists),
		errors.Is(err, cluster.ErrNotFound),
		errors.Is(err, cluster.ErrNotReusable),
		errors.Is(err, cluster.ErrNotOurs),
		errors.Is(err, fixtures.ErrUnknownTier),
		errors.Is(err, fixtures.ErrUnknownRelease),
		errors.Is(err, fixtures.ErrBadParam),
		errors.Is(err, fixtures.ErrBadImage),
		errors.Is(err, fixtures.ErrNotDeployed),
		errors.Is(err, fixtures.ErrNotMock),
		errors.Is(err, fixtures.ErrNotOnExisting),
		errors.Is(err, scenarios.ErrUnknownScenario),
		errors.Is(err, system.ErrUnknownSystem),
		errors.Is(err, play.ErrBadPlayer),
		errors.Is(err, play.ErrNothingToPlay):
		if cli.ExitCode(err) == cli.ExitError {
			return cli.ExitUsage
		}
	case errors.Is(err, cluster.ErrDockerUnreachable):
		return cli.ExitError
	}
	return cli.ExitCode(err)
}

// NewRootCommand builds the command tree.
func NewRootCommand(streams cli.IOStreams) *cobra.Command {
	root, _ := newRoot(streams)
	return root
}

func newRoot(streams cli.IOStreams) (*cobra.Command, *cli.Globals) {
	g := &cli.Globals{Streams: streams}
	root := &cobra.Command{
		Use:   "gameday",
		Short: "Rehearse real incidents on a local Kubernetes cluster",
		Long: `gameday turns a postmortem into a rehearsal anyone can run on a laptop or in CI:
it creates a local multi-pool Kubernetes cluster with kind, breaks it the way
the incident did, and measures what users and SREs would have seen.`,
		Example: `  # check this machine, then create a cluster with every tier on one pool
  gameday doctor
  gameday cluster up --topology shared

  # see its nodes and pools, then delete it
  gameday cluster status
  gameday cluster down`,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE:          cli.Group,
		Args:          cobra.ArbitraryArgs,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetIn(streams.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.Usagef("%v; see `%s --help`", err, c.CommandPath())
	})
	root.PersistentFlags().IntVarP(&g.Verbosity, "verbosity", "v", 0, "log verbosity: 0 shows progress, 1 and up add debug detail")
	root.PersistentFlags().BoolVarP(&g.Quiet, "quiet", "q", false, "print no progress on stderr, only results and errors")
	root.PersistentPreRun = func(*cobra.Command, []string) { routeKlog(g) }
	root.AddCommand(up.NewCommand(g), runcmd.NewCommand(g), playcmd.NewCommand(g), consolecmd.NewCommand(g), recovercmd.NewCommand(g), stopcmd.NewCommand(g), reportcmd.NewCommand(g), scenarioscmd.NewCommand(g), systemscmd.NewCommand(g), clustercmd.NewCommand(g), fixturescmd.NewCommand(g), doctor.NewCommand(g), version.NewCommand(g))
	return root, g
}

// klogDetail is the verbosity from which client-go's own log is shown.
const klogDetail = 3

// routeKlog sends client-go's log (klog) to the debug detail of -v 3 and
// up, and nowhere below: its reflectors report every watch an API server's
// restart breaks (a scenario's control-plane upgrade restarts it on
// purpose), and gameday says itself what matters of that.
func routeKlog(g *cli.Globals) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for k, v := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL"} {
		_ = fs.Set(k, v)
	}
	if g.Verbosity >= klogDetail && !g.Quiet {
		klog.SetOutput(g.Streams.ErrOut)
		return
	}
	klog.SetOutput(io.Discard)
}
