package run

import (
	"context"
	"fmt"
	"testing"

	"gameday.dev/gameday/internal/cli"
)

// A run stopped by `gameday stop` ends as an interrupted one: exit 130,
// however the engine wraps the cause.
func TestStoppedExits130(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errStopped)
	err := fmt.Errorf("topology staging: %w", context.Cause(ctx))
	if got := cli.ExitCode(err); got != cli.ExitInterrupted {
		t.Errorf("exit %d for %v, want %d", got, err, cli.ExitInterrupted)
	}
	if got := cli.ExitCode(fmt.Errorf("topology staging: %w", ctx.Err())); got != cli.ExitInterrupted {
		t.Errorf("exit %d for the context's own error", got)
	}
}
