package kubeconfig

import (
	"time"

	"golang.org/x/sys/unix"
)

// bootClock is the time since boot, sleep included (CLOCK_BOOTTIME):
// unlike Go's monotonic clock it runs on while the machine is suspended,
// and unlike the wall clock no clock step moves it.
func bootClock() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return fallbackClock()
	}
	return time.Duration(ts.Nano())
}
