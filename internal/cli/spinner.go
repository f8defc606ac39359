package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

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

// Start draws text with a turning frame until Stop.
func (s *spinner) Start(text string) {
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

// Stop stops drawing and clears the line.
func (s *spinner) Stop() {
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
