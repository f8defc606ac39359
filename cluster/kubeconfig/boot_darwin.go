package kubeconfig

import (
	"time"

	"golang.org/x/sys/unix"
)

// bootClock is a clock that runs on while the machine sleeps: macOS's
// CLOCK_MONOTONIC does (Go's own monotonic clock does not).
func bootClock() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return fallbackClock()
	}
	return time.Duration(ts.Nano())
}
