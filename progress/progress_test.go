package progress

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/log"
)

// lines records what a logger is asked to print at V(0).
type lines struct {
	log.NoopLogger
	got     *[]string
	spinner Spinner
}

func (l lines) V(log.Level) log.InfoLogger { return recorder{l.got} }

type recorder struct{ got *[]string }

func (r recorder) Info(m string)                    { *r.got = append(*r.got, m) }
func (r recorder) Infof(f string, a ...interface{}) { r.Info(fmt.Sprintf(f, a...)) }
func (recorder) Enabled() bool                      { return true }

type spinning struct{ lines }

func (s spinning) Spinner() Spinner { return s.spinner }

type fakeSpinner struct{ calls *[]string }

func (f fakeSpinner) Start(text string) { *f.calls = append(*f.calls, "start "+text) }
func (f fakeSpinner) Stop()             { *f.calls = append(*f.calls, "stop") }

func TestStatusPrintsEachStepAndItsEnd(t *testing.T) {
	var got []string
	s := For(lines{got: &got})
	s.Start("Creating cluster")
	s.Start("Deploying") // ends the first, successfully
	s.End(false)
	s.End(false) // nothing to end
	want := []string{`^ • Creating cluster \.\.\.$`, `^ ✓ Creating cluster \(\d+(\.\d)?m?s\)$`, `^ • Deploying \.\.\.$`, `^ ✗ Deploying \(\d+(\.\d)?m?s\)$`}
	if len(got) != len(want) {
		t.Fatalf("printed %q, want %d lines", got, len(want))
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(got[i]) {
			t.Errorf("line %d = %q, want %s", i, got[i], re)
		}
	}
}

// A logger that lends a spinner gets no " • " line: the spinner draws the
// step, and is stopped before the step's end is printed.
func TestStatusUsesTheLoggersSpinner(t *testing.T) {
	var got, calls []string
	s := For(spinning{lines{got: &got, spinner: fakeSpinner{&calls}}})
	s.Start("Creating cluster")
	s.End(true)
	if strings.Join(calls, ",") != "start Creating cluster,stop" {
		t.Errorf("spinner calls %q", calls)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], " ✓ Creating cluster") {
		t.Errorf("printed %q, want only the step's end", got)
	}
}

// A logger that has no spinner to lend (not a terminal) prints lines.
func TestStatusWithoutASpinnerPrintsLines(t *testing.T) {
	var got []string
	s := For(spinning{lines{got: &got}})
	s.Start("Creating cluster")
	s.End(true)
	if len(got) != 2 {
		t.Errorf("printed %q, want the step's start and end", got)
	}
}
