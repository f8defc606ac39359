// Package progress shows long work one step at a time, the way kind does:
// " • Creating cluster ..." then " ✓ Creating cluster (21.4s)" or " ✗ ...".
// It prints through kind's log.Logger; a logger that can draw on a terminal
// (gameday's CLI logger) lends it a spinner instead of the first line.
package progress

import (
	"time"

	"sigs.k8s.io/kind/pkg/log"
)

// Spinner redraws one line on a terminal until stopped.
type Spinner interface {
	Start(text string)
	Stop()
}

// Spinning is implemented by a logger that draws steps on a terminal.
type Spinning interface {
	// Spinner returns the logger's spinner, or nil when it draws none (not a
	// terminal, or quiet).
	Spinner() Spinner
}

// Status shows one step at a time.
type Status struct {
	logger  log.Logger
	spinner Spinner
	step    string
	started time.Time
}

// For returns a Status printing through logger.
func For(logger log.Logger) *Status {
	s := &Status{logger: logger}
	if sp, ok := logger.(Spinning); ok {
		s.spinner = sp.Spinner()
	}
	return s
}

// Start ends the current step successfully, if any, and starts another.
func (s *Status) Start(step string) {
	s.End(true)
	s.step, s.started = step, time.Now()
	if s.spinner != nil {
		s.spinner.Start(step)
		return
	}
	s.logger.V(0).Infof(" • %s ...", step)
}

// End ends the current step, if any.
func (s *Status) End(ok bool) {
	if s.step == "" {
		return
	}
	if s.spinner != nil {
		s.spinner.Stop()
	}
	mark := "✓"
	if !ok {
		mark = "✗"
	}
	s.logger.V(0).Infof(" %s %s (%s)", mark, s.step, time.Since(s.started).Round(100*time.Millisecond))
	s.step = ""
}
