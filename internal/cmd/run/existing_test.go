package run

import (
	"context"
	"fmt"
	"testing"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/scenarios"
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

// A service's base URL: a trailing slash is dropped (the probes append
// "/items", and "//items" may be redirected, which a probe counts as an
// answer); a query, fragment or credentials are refused.
func TestServiceURLs(t *testing.T) {
	s, _, err := scenarios.Builtin("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	got, err := serviceURLs(s, map[string]string{"frontend": "http://10.0.3.7:30080/", "api": "https://api.example/shop/"})
	if err != nil || got["frontend"] != "http://10.0.3.7:30080" || got["api"] != "https://api.example/shop" {
		t.Errorf("%v, %v", got, err)
	}
	for _, bad := range []string{"http://x/?a=1", "http://x/#top", "http://u:p@x", "ftp://x", "x:80"} {
		if _, err := serviceURLs(s, map[string]string{"frontend": bad, "api": "http://y"}); cli.ExitCode(err) != cli.ExitUsage {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if got, err := serviceURLs(s, nil); err != nil || got != nil {
		t.Errorf("none given (the API server's proxy): %v, %v", got, err)
	}
}
