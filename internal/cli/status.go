package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/log"
)

// Status shows one long step at a time the way kind does:
// " • Creating cluster ..." then " ✓ Creating cluster (21.4s)" or " ✗ ...";
// on a terminal a spinner replaces the first line.
type Status struct {
	logger  log.Logger
	spinner *spinner
	step    string
	started time.Time
}

// StatusFor returns a Status printing through logger.
func StatusFor(logger log.Logger) *Status {
	s := &Status{logger: logger}
	if l, ok := logger.(*Logger); ok && !l.quiet {
		s.spinner = l.spinner
	}
	return s
}

// Start ends the current step successfully, if any, and starts another.
func (s *Status) Start(step string) {
	s.End(true)
	s.step, s.started = step, time.Now()
	if s.spinner != nil {
		s.spinner.start(step)
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
		s.spinner.stop()
	}
	mark := "✓"
	if !ok {
		mark = "✗"
	}
	s.logger.V(0).Infof(" %s %s (%s)", mark, s.step, time.Since(s.started).Round(100*time.Millisecond))
	s.step = ""
}

// spinner redraws one line on a terminal until stopped.
type spinner struct {
	w      io.Writer
	mu     *sync.Mutex // the logger's, so that log lines and redraws do not interleave
	text   string
	stopc  chan struct{}
	donec  chan struct{}
	frames []string
}

func newSpinner(w io.Writer, mu *sync.Mutex) *spinner {
	return &spinner{w: w, mu: mu, frames: []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}}
}

func (s *spinner) active() bool { return s.stopc != nil }

// clearLine erases the spinner's line; the caller holds the logger's lock.
func (s *spinner) clearLine() { fmt.Fprint(s.w, "\r\x1b[2K") }

func (s *spinner) start(text string) {
	s.mu.Lock()
	s.text, s.stopc, s.donec = text, make(chan struct{}), make(chan struct{})
	stopc, donec := s.stopc, s.donec
	s.mu.Unlock()
	go func() {
		defer close(donec)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			s.mu.Lock()
			fmt.Fprintf(s.w, "\r\x1b[2K %s %s ", s.frames[i%len(s.frames)], s.text)
			s.mu.Unlock()
			select {
			case <-stopc:
				return
			case <-t.C:
			}
		}
	}()
}

func (s *spinner) stop() {
	if s.stopc == nil {
		return
	}
	close(s.stopc)
	<-s.donec
	s.mu.Lock()
	s.clearLine()
	s.stopc = nil
	s.mu.Unlock()
}
