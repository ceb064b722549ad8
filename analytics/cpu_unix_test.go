//go:build unix

package analytics_test

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time this process has used: on a shared machine
// a query's own cost, apart from its wait for a core (SQLite runs in the
// process; PostgreSQL's share is not counted).
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
