//go:build !unix

package analytics_test

import (
	"testing"
	"time"
)

// processCPU is not measured here: the scale tests report 0.
func processCPU(*testing.T) time.Duration { return 0 }
