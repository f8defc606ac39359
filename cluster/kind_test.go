package cluster

import (
	"testing"

	"sigs.k8s.io/kind/pkg/log"
)

// levels is a logger that shows messages up to a verbosity.
type levels struct {
	log.NoopLogger
	verbosity log.Level
}

func (l levels) V(level log.Level) log.InfoLogger { return enabled(level <= l.verbosity) }

type enabled bool

func (enabled) Info(string)                  {}
func (enabled) Infof(string, ...interface{}) {}
func (e enabled) Enabled() bool              { return bool(e) }

// What kind says by default when deleting shows only from -v 1 on.
func TestQuieterShiftsKindsMessagesDownALevel(t *testing.T) {
	if (quieter{levels{verbosity: 0}}).V(0).Enabled() {
		t.Error("kind's V(0) delete message shows by default")
	}
	if !(quieter{levels{verbosity: 1}}).V(0).Enabled() {
		t.Error("kind's V(0) delete message hidden with -v 1")
	}
}
