// Package version implements `gameday version`.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
)

// Version is set at build time with -ldflags "-X gameday.dev/gameday/internal/cmd/version.Version=...".
var Version = "dev"

// NewCommand returns `gameday version`.
func NewCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gameday's version",
		Args:  cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kind := "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					if d.Path == "sigs.k8s.io/kind" {
						kind = d.Version
					}
				}
			}
			_, err := fmt.Fprintf(g.Streams.Out, "gameday %s (kind %s, %s %s/%s)\n", Version, kind, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
