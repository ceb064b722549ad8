package health

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestMachine(settings switchyard.ProviderSettings) (*Machine, *clock) {
	c := &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	m := NewMachine(c.now)
	m.Sync([]*switchyard.Provider{{ID: "p", Status: switchyard.StatusUnknown, Settings: settings}})
	return m, c
}

// TestChecksHysteresis feeds sequences of check results ('+' ok, '-'
// failed) and follows the status after each.
func TestChecksHysteresis(t *testing.T) {
	tests := []struct {
		name     string
		settings switchyard.ProviderSettings
		checks   string
		want     []switchyard.ProviderStatus
	}{
		{"first success makes healthy", switchyard.ProviderSettings{}, "+", []switchyard.ProviderStatus{"healthy"}},
		{"a single blip does not flip", switchyard.ProviderSettings{}, "++-+", []switchyard.ProviderStatus{"healthy", "healthy", "healthy", "healthy"}},
		{"degraded then down after 3 failures", switchyard.ProviderSettings{}, "+---", []switchyard.ProviderStatus{"healthy", "healthy", "degraded", "down"}},
		{"down needs 2 successes to recover", switchyard.ProviderSettings{}, "---+-++", []switchyard.ProviderStatus{"unknown", "degraded", "down", "down", "down", "down", "healthy"}},
		{"degraded recovers on one success", switchyard.ProviderSettings{}, "+--+", []switchyard.ProviderStatus{"healthy", "healthy", "degraded", "healthy"}},
		{"thresholds per provider", switchyard.ProviderSettings{HealthFailuresToDown: 5, HealthSuccessesToRecover: 3}, "-----++-+++",
			[]switchyard.ProviderStatus{"unknown", "degraded", "degraded", "degraded", "down", "down", "down", "down", "down", "down", "healthy"}},
		{"one failure is down when set so", switchyard.ProviderSettings{HealthFailuresToDown: 1, HealthSuccessesToRecover: 1}, "+-+",
			[]switchyard.ProviderStatus{"healthy", "down", "healthy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestMachine(tt.settings)
			changes := 0
			for i, c := range tt.checks {
				tr, changed := m.RecordCheck("p", c == '+', "upstream_error")
				if changed {
					changes++
					if tr.Reason == "" || tr.To != tt.want[i] {
						t.Fatalf("check %d: transition %+v", i, tr)
					}
				}
				if got := m.Status("p"); got != tt.want[i] {
					t.Fatalf("after check %d (%q): status %q, want %q", i, tt.checks[:i+1], got, tt.want[i])
				}
			}
		})
	}
}

func TestTransitionReasons(t *testing.T) {
	m, _ := newTestMachine(switchyard.ProviderSettings{})
	m.RecordCheck("p", true, "")
	m.RecordCheck("p", false, "auth_failed")
	m.RecordCheck("p", false, "auth_failed")
	tr, ok := m.RecordCheck("p", false, "auth_failed")
	if !ok || tr.From != switchyard.StatusDegraded || tr.To != switchyard.StatusDown || tr.Reason != "3 health checks in a row failed (last: auth_failed)" {
		t.Fatalf("transition = %+v", tr)
	}
	m.RecordCheck("p", true, "")
	tr, ok = m.RecordCheck("p", true, "")
	if !ok || tr.To != switchyard.StatusHealthy || tr.Reason != "2 health checks in a row succeeded" {
		t.Fatalf("recovery = %+v", tr)
	}
}

// TestGatewayWindow feeds gateway outcomes: the status follows the error
// rate and latency over the window once it holds enough requests.
func TestGatewayWindow(t *testing.T) {
	type batch struct {
		ok, failed int
		latency    time.Duration
		advance    time.Duration
		want       switchyard.ProviderStatus
	}
	tests := []struct {
		name     string
		settings switchyard.ProviderSettings
		batches  []batch
	}{
		{"too few requests to judge", switchyard.ProviderSettings{}, []batch{{ok: 1, failed: 5, want: "unknown"}}},
		{"healthy traffic", switchyard.ProviderSettings{}, []batch{{ok: 20, want: "healthy"}}},
		{"error rate over 25% degrades", switchyard.ProviderSettings{}, []batch{{ok: 20, want: "healthy"}, {ok: 10, failed: 15, want: "degraded"}}},
		{"error rate over 90% is down", switchyard.ProviderSettings{}, []batch{{failed: 20, want: "down"}}},
		{"hysteresis: 15% errors stay degraded", switchyard.ProviderSettings{}, []batch{
			{ok: 10, failed: 5, want: "degraded"},
			{ok: 50, failed: 5, want: "degraded"}, // 10 of 70: 14%, not under half of 25%
			{ok: 100, want: "healthy"},            // 10 of 170: 5.9%
		}},
		{"old failures slide out of the window", switchyard.ProviderSettings{HealthWindowS: 60}, []batch{
			{failed: 20, want: "down"},
			{ok: 20, advance: 61 * time.Second, want: "healthy"},
		}},
		{"slow p95 degrades when a latency limit is set", switchyard.ProviderSettings{HealthDegradedLatencyMS: 1000}, []batch{
			{ok: 20, latency: 3 * time.Second, want: "degraded"},
		}},
		{"latency is not judged by default", switchyard.ProviderSettings{}, []batch{{ok: 20, latency: 30 * time.Second, want: "healthy"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, c := newTestMachine(tt.settings)
			for i, b := range tt.batches {
				c.t = c.t.Add(b.advance)
				for range b.ok {
					m.Observe("p", false, b.latency)
				}
				for range b.failed {
					m.Observe("p", true, b.latency)
				}
				m.Evaluate()
				if got := m.Status("p"); got != b.want {
					t.Fatalf("after batch %d: status %q, want %q", i, got, b.want)
				}
			}
		})
	}
}

func TestWorseVerdictWins(t *testing.T) {
	m, _ := newTestMachine(switchyard.ProviderSettings{})
	m.RecordCheck("p", true, "")
	for range 20 {
		m.Observe("p", true, time.Millisecond)
	}
	trs := m.Evaluate()
	if len(trs) != 1 || trs[0].To != switchyard.StatusDown || trs[0].Reason != "100% of 20 gateway calls failed over the last 5m0s" {
		t.Fatalf("transitions = %+v", trs)
	}
	// A successful check does not hide what the gateway sees.
	if _, changed := m.RecordCheck("p", true, ""); changed || m.Status("p") != switchyard.StatusDown {
		t.Fatalf("status %q after a successful check", m.Status("p"))
	}
}

func TestSyncKeepsStoredStatusAndForgets(t *testing.T) {
	m := NewMachine(nil)
	m.Sync([]*switchyard.Provider{{ID: "a", Status: switchyard.StatusDown}, {ID: "b"}})
	if m.Status("a") != switchyard.StatusDown || m.Status("b") != switchyard.StatusUnknown {
		t.Fatal("a provider starts from its stored status")
	}
	m.Sync([]*switchyard.Provider{{ID: "b"}})
	m.Observe("a", true, 0) // ignored, no panic
	if m.Status("a") != switchyard.StatusUnknown {
		t.Fatal("a provider no longer enabled is forgotten")
	}
}

func TestObserveAndStatusDoNotAllocate(t *testing.T) {
	m := NewMachine(nil)
	m.Sync([]*switchyard.Provider{{ID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}})
	id := "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	if n := testing.AllocsPerRun(1000, func() {
		m.Observe(id, false, 120*time.Millisecond)
		_ = m.Status(id)
	}); n != 0 {
		t.Fatalf("Observe and Status allocate %.1f times per call", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	m := NewMachine(nil)
	m.Sync([]*switchyard.Provider{{ID: "p"}})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Observe("p", false, 80*time.Millisecond)
		}
	})
}
