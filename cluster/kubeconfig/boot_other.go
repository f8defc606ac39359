//go:build !linux && !darwin

package kubeconfig

import "time"

// bootClock is Go's monotonic clock here (it may stop while the machine
// sleeps).
func bootClock() time.Duration { return fallbackClock() }
