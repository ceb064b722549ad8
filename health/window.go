package health

import (
	"sync/atomic"
	"time"
)

// slots is how many slices a window is cut into; the oldest slice is
// dropped as a new one begins, so the window slides in steps of 1/slots.
const slots = 10

// latencyBounds are the upper bounds of the latency buckets, in ms; the
// last bucket has no upper bound.
var latencyBounds = [...]int64{50, 100, 250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000}

const buckets = len(latencyBounds) + 1

// window counts gateway outcomes over a sliding window without locks or
// allocation: each slot holds the counts of one slice of time and is reset
// by the first outcome of a newer slice that lands on it.
type window struct {
	slotNanos atomic.Int64
	slots     [slots]slot
}

type slot struct {
	period  atomic.Int64
	total   atomic.Int64
	failed  atomic.Int64
	latency [buckets]atomic.Int64
}

func (w *window) setSize(d time.Duration) { w.slotNanos.Store(max(int64(d)/slots, 1)) }

// observe counts one outcome at now.
func (w *window) observe(now time.Time, failed bool, latency time.Duration) {
	period := now.UnixNano() / w.slotNanos.Load()
	s := &w.slots[period%slots]
	if old := s.period.Load(); old != period && s.period.CompareAndSwap(old, period) {
		// The first outcome of a new slice clears the slot. An outcome
		// counted by another goroutine in between may be lost: the
		// window is an estimate.
		s.total.Store(0)
		s.failed.Store(0)
		for i := range s.latency {
			s.latency[i].Store(0)
		}
	}
	s.total.Add(1)
	if failed {
		s.failed.Add(1)
	}
	ms := latency.Milliseconds()
	i := 0
	for i < len(latencyBounds) && ms > latencyBounds[i] {
		i++
	}
	s.latency[i].Add(1)
}

// stats is what a window held at one moment.
type stats struct {
	total, failed int64
	latency       [buckets]int64
}

func (w *window) stats(now time.Time) stats {
	var st stats
	period := now.UnixNano() / w.slotNanos.Load()
	for i := range w.slots {
		s := &w.slots[i]
		if p := s.period.Load(); p > period-slots && p <= period {
			st.total += s.total.Load()
			st.failed += s.failed.Load()
			for j := range s.latency {
				st.latency[j] += s.latency[j].Load()
			}
		}
	}
	return st
}

// errorRate is the percentage of failed outcomes.
func (st stats) errorRate() int64 {
	if st.total == 0 {
		return 0
	}
	return st.failed * 100 / st.total
}

// p95 estimates the 95th percentile latency in ms, interpolating within
// its bucket.
func (st stats) p95() int64 {
	var n int64
	for _, c := range st.latency {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := (n*95 + 99) / 100
	var seen int64
	for i, c := range st.latency {
		if seen+c < rank {
			seen += c
			continue
		}
		lo := int64(0)
		if i > 0 {
			lo = latencyBounds[i-1]
		}
		if i == len(latencyBounds) {
			return lo
		}
		hi := latencyBounds[i]
		return lo + (hi-lo)*(rank-seen)/c
	}
	return 0
}
