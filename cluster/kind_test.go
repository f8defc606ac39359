package cluster

import (
	"io"
	"testing"

	"gameday.dev/gameday/internal/cli"
)

// What kind says by default when deleting shows only from -v 1 on.
func TestQuieterShiftsKindsMessagesDownALevel(t *testing.T) {
	if (quieter{cli.NewLogger(io.Discard, 0, false)}).V(0).Enabled() {
		t.Error("kind's V(0) delete message shows by default")
	}
	if !(quieter{cli.NewLogger(io.Discard, 1, false)}).V(0).Enabled() {
		t.Error("kind's V(0) delete message hidden with -v 1")
	}
}
