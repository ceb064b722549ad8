package health

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard"
)

// Transition is a change of a provider's status and its reason.
type Transition struct {
	ProviderID string
	From, To   switchyard.ProviderStatus
	Reason     string
}

// thresholds are a provider's status settings, defaults applied.
type thresholds struct {
	failuresToDown, successesToRecover int
	minRequests                        int64
	degradedRate, downRate             int64
	latencyMS                          int64
	window                             time.Duration
}

func thresholdsOf(s switchyard.ProviderSettings) thresholds {
	s = s.WithDefaults()
	return thresholds{failuresToDown: s.HealthFailuresToDown, successesToRecover: s.HealthSuccessesToRecover,
		minRequests: int64(s.HealthMinRequests), degradedRate: int64(s.HealthDegradedErrorRate), downRate: int64(s.HealthDownErrorRate),
		latencyMS: int64(s.HealthDegradedLatencyMS), window: time.Duration(s.HealthWindowS) * time.Second}
}

// Status codes held in an atomic.
const (
	codeUnknown int32 = iota
	codeHealthy
	codeDegraded
	codeDown
)

var statusOf = [...]switchyard.ProviderStatus{switchyard.StatusUnknown, switchyard.StatusHealthy, switchyard.StatusDegraded, switchyard.StatusDown}

func codeOf(s switchyard.ProviderStatus) int32 {
	switch s {
	case switchyard.StatusHealthy:
		return codeHealthy
	case switchyard.StatusDegraded:
		return codeDegraded
	case switchyard.StatusDown:
		return codeDown
	}
	return codeUnknown
}

// entry is what the gateway's hot path touches: the current status and the
// outcome window, both lock-free.
type entry struct {
	status atomic.Int32
	win    window
}

// state is the rest of a provider's state, guarded by Machine.mu.
type state struct {
	e  *entry
	th thresholds
	// checks counts the checks seen; failStreak and okStreak the failed
	// and successful ones in a row; checkDown is set once failStreak
	// reached failuresToDown and cleared by successesToRecover.
	checks               int
	failStreak, okStreak int
	lastCode             string
	checkDown            bool
	// gateway is the window's last verdict ("" when it held too few
	// requests to judge).
	gateway switchyard.ProviderStatus
}

// Machine holds every provider's status and decides its changes, with
// hysteresis: from health checks (failuresToDown failures in a row make a
// provider down, two or more degraded, successesToRecover successes bring
// it back) and from gateway outcomes over a sliding window (error rate and
// p95 latency, judged only once the window holds enough requests). The
// worse of the two verdicts wins; with neither, the status stays.
//
// Observe and Status are for the gateway's hot path: they take no lock and
// allocate nothing.
type Machine struct {
	now func() time.Time
	// entries is replaced, never changed, when providers come and go.
	entries atomic.Pointer[map[string]*entry]
	mu      sync.Mutex
	states  map[string]*state
}

// NewMachine returns a machine with no providers; now is the clock (nil
// for time.Now).
func NewMachine(now func() time.Time) *Machine {
	if now == nil {
		now = time.Now
	}
	m := &Machine{now: now, states: map[string]*state{}}
	m.entries.Store(&map[string]*entry{})
	return m
}

// Observe counts one gateway call to a provider: failed when the provider
// itself failed (not the client's bad request), with its latency. Unknown
// providers are ignored.
func (m *Machine) Observe(providerID string, failed bool, latency time.Duration) {
	if e := (*m.entries.Load())[providerID]; e != nil {
		e.win.observe(m.now(), failed, latency)
	}
}

// Status returns a provider's current status (unknown for one it does not
// know).
func (m *Machine) Status(providerID string) switchyard.ProviderStatus {
	if e := (*m.entries.Load())[providerID]; e != nil {
		return statusOf[e.status.Load()]
	}
	return switchyard.StatusUnknown
}

// Sync makes the machine follow the providers given (the enabled ones):
// new ones start from their stored status, thresholds follow their
// settings, and providers no longer given are forgotten.
func (m *Machine) Sync(providers []*switchyard.Provider) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := len(providers) != len(m.states)
	seen := make(map[string]bool, len(providers))
	for _, p := range providers {
		seen[p.ID] = true
		st, ok := m.states[p.ID]
		if !ok {
			st = &state{e: &entry{}}
			st.e.status.Store(codeOf(p.Status))
			m.states[p.ID] = st
			changed = true
		}
		st.th = thresholdsOf(p.Settings)
		st.e.win.setSize(st.th.window)
	}
	for id := range m.states {
		if !seen[id] {
			delete(m.states, id)
			changed = true
		}
	}
	if changed {
		entries := make(map[string]*entry, len(m.states))
		for id, st := range m.states {
			entries[id] = st.e
		}
		m.entries.Store(&entries)
	}
}

// Set sets a provider's status as another replica decided it (a follower
// reads it from the store); it returns the status before and whether it
// changed.
func (m *Machine) Set(providerID string, status switchyard.ProviderStatus) (switchyard.ProviderStatus, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.states[providerID]
	if !ok {
		return "", false
	}
	old := st.e.status.Swap(codeOf(status))
	return statusOf[old], old != codeOf(status)
}

// RecordCheck counts a health check's result and returns the status change
// it causes, if any.
func (m *Machine) RecordCheck(providerID string, ok bool, code string) (Transition, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, found := m.states[providerID]
	if !found {
		return Transition{}, false
	}
	st.checks++
	if ok {
		st.okStreak++
		st.failStreak = 0
		if st.checkDown && st.okStreak >= st.th.successesToRecover {
			st.checkDown = false
		}
	} else {
		st.failStreak++
		st.okStreak = 0
		st.lastCode = code
		if st.failStreak >= st.th.failuresToDown {
			st.checkDown = true
		}
	}
	return m.decide(providerID, st)
}

// Evaluate judges every provider's gateway window and returns the status
// changes that follow.
func (m *Machine) Evaluate() []Transition {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []Transition
	for id, st := range m.states {
		st.gateway = judgeWindow(st.e.win.stats(now), st.th, st.gateway)
		if t, ok := m.decide(id, st); ok {
			out = append(out, t)
		}
	}
	return out
}

// judgeWindow is the window's verdict. Leaving degraded takes an error rate
// under half the threshold and a p95 under 80% of the latency limit, so
// that a rate hovering at the threshold does not flap.
func judgeWindow(s stats, th thresholds, prev switchyard.ProviderStatus) switchyard.ProviderStatus {
	if s.total < th.minRequests {
		return ""
	}
	rate, p95 := s.errorRate(), s.p95()
	switch {
	case rate >= th.downRate:
		return switchyard.StatusDown
	case rate >= th.degradedRate || (th.latencyMS > 0 && p95 >= th.latencyMS):
		return switchyard.StatusDegraded
	case (prev == switchyard.StatusDegraded || prev == switchyard.StatusDown) &&
		(rate*2 >= th.degradedRate || (th.latencyMS > 0 && p95*10 >= th.latencyMS*8)):
		return switchyard.StatusDegraded
	}
	return switchyard.StatusHealthy
}

// checkVerdict is what the checks alone say ("" before the first).
func (st *state) checkVerdict() switchyard.ProviderStatus {
	switch {
	case st.checks == 0:
		return ""
	case st.checkDown:
		return switchyard.StatusDown
	case st.failStreak >= 2:
		return switchyard.StatusDegraded
	case st.failStreak == 1:
		// A single failure is no verdict: a blip does not flip the status.
		return ""
	}
	return switchyard.StatusHealthy
}

func worse(a, b switchyard.ProviderStatus) switchyard.ProviderStatus {
	if codeOf(b) > codeOf(a) || a == "" {
		return b
	}
	return a
}

// decide sets the status from the two verdicts and describes a change.
func (m *Machine) decide(id string, st *state) (Transition, bool) {
	cv := st.checkVerdict()
	to := worse(cv, st.gateway)
	if to == "" {
		return Transition{}, false
	}
	from := statusOf[st.e.status.Load()]
	if to == from {
		return Transition{}, false
	}
	st.e.status.Store(codeOf(to))
	var reason string
	switch {
	case to == cv && cv != switchyard.StatusHealthy:
		reason = fmt.Sprintf("%d health checks in a row failed (last: %s)", st.failStreak, st.lastCode)
		if st.checkDown && st.failStreak == 0 {
			reason = fmt.Sprintf("down until %d health checks in a row succeed (%d so far)", st.th.successesToRecover, st.okStreak)
		}
	case to == st.gateway && to != switchyard.StatusHealthy:
		s := st.e.win.stats(m.now())
		reason = fmt.Sprintf("%d%% of %d gateway calls failed over the last %s", s.errorRate(), s.total, st.th.window)
		if st.th.latencyMS > 0 && s.p95() >= st.th.latencyMS && s.errorRate() < st.th.degradedRate {
			reason = fmt.Sprintf("p95 latency of gateway calls %d ms (limit %d ms) over the last %s", s.p95(), st.th.latencyMS, st.th.window)
		}
	case from == switchyard.StatusDown && cv == switchyard.StatusHealthy && st.okStreak > 1:
		reason = fmt.Sprintf("%d health checks in a row succeeded", st.okStreak)
	case cv == switchyard.StatusHealthy:
		reason = "the health check succeeded"
		if st.gateway == switchyard.StatusHealthy {
			reason += "; gateway calls succeed"
		}
	default:
		reason = "gateway calls succeed"
	}
	return Transition{ProviderID: id, From: from, To: to, Reason: reason}, true
}
