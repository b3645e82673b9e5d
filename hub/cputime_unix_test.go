//go:build unix

package hub

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time the test process has used.
// Unlike wall time it is not inflated by other processes on a shared
// machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
