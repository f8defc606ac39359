package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, decided in one place (ExitCode) for every command.
const (
	ExitOK          = 0   // success
	ExitError       = 1   // gameday or its environment failed
	ExitUsage       = 2   // bad input: flags, arguments, files
	ExitObjectives  = 3   // the scenario ran but its objectives failed (CI gate)
	ExitInterrupted = 130 // interrupted, after recovery ran
)

// codedError carries an exit code with an error.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// WithCode attaches an exit code to err (nil stays nil).
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// Usage marks err as bad input (exit code 2).
func Usage(err error) error { return WithCode(ExitUsage, err) }

// Usagef is Usage with formatting.
func Usagef(format string, args ...any) error { return Usage(fmt.Errorf(format, args...)) }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitError
}
