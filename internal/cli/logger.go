// Package cli holds what every gameday command shares: the logger and
// kind-style status lines on stderr, output formats, and exit codes.
package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/progress"
)

// Logger writes progress and logs to stderr. It implements kind's log.Logger,
// so kind's own steps appear in the same style as gameday's.
type Logger struct {
	mu        sync.Mutex
	w         io.Writer
	verbosity log.Level
	quiet     bool
	spinner   *spinner // nil unless w is a terminal
}

var (
	_ log.Logger        = (*Logger)(nil)
	_ progress.Spinning = (*Logger)(nil)
)

// Spinner lends progress.Status the logger's spinner on a terminal.
func (l *Logger) Spinner() progress.Spinner {
	if l.spinner == nil || l.quiet {
		return nil // an untyped nil: no spinner
	}
	return l.spinner
}

// NewLogger returns a logger on w. quiet silences everything but warnings and
// errors; verbosity > 0 adds debug lines.
func NewLogger(w io.Writer, verbosity int, quiet bool) *Logger {
	l := &Logger{w: w, verbosity: log.Level(verbosity), quiet: quiet}
	if f, ok := w.(*os.File); ok && !quiet && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
		l.spinner = newSpinner(w, &l.mu)
	}
	return l
}

// Writer is where the logger writes (io.Discard when quiet).
func (l *Logger) Writer() io.Writer {
	if l.quiet {
		return io.Discard
	}
	return lockedWriter{l}
}

type lockedWriter struct{ l *Logger }

func (lw lockedWriter) Write(p []byte) (int, error) {
	lw.l.mu.Lock()
	defer lw.l.mu.Unlock()
	return lw.l.w.Write(p)
}

func (l *Logger) print(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	if l.spinner != nil && l.spinner.active() {
		l.spinner.clearLine()
	}
	fmt.Fprint(l.w, msg)
}

// Warn prints a warning, even when quiet.
func (l *Logger) Warn(message string) {
	// kind warns whenever the docker network is overridden, which gameday does
	// on purpose (one network per cluster, removed with it).
	if strings.Contains(message, "KIND_EXPERIMENTAL_DOCKER_NETWORK") || strings.Contains(message, "Here be dragons") {
		l.V(1).Info(message)
		return
	}
	l.print(message)
}

// Warnf is Warn with formatting.
func (l *Logger) Warnf(format string, args ...interface{}) { l.Warn(fmt.Sprintf(format, args...)) }

// Error prints an error, even when quiet.
func (l *Logger) Error(message string) { l.print(message) }

// Errorf is Error with formatting.
func (l *Logger) Errorf(format string, args ...interface{}) { l.Error(fmt.Sprintf(format, args...)) }

// V returns an info logger that prints when level is within the verbosity.
func (l *Logger) V(level log.Level) log.InfoLogger {
	return infoLogger{l: l, enabled: !l.quiet && level <= l.verbosity}
}

type infoLogger struct {
	l       *Logger
	enabled bool
}

func (i infoLogger) Info(message string) {
	if i.enabled {
		i.l.print(message)
	}
}

func (i infoLogger) Infof(format string, args ...interface{}) {
	if i.enabled {
		i.l.print(fmt.Sprintf(format, args...))
	}
}

func (i infoLogger) Enabled() bool { return i.enabled }
