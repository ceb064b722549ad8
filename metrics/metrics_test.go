package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/metrics"
)

type counters struct{}

func (counters) Recorded() uint64 { return 7 }
func (counters) Written() uint64  { return 5 }
func (counters) Dropped() uint64  { return 2 }
func (counters) Failed() uint64   { return 0 }
func (counters) Queued() int      { return 1 }

func TestMetricsExposeUsageCounters(t *testing.T) {
	rec := httptest.NewRecorder()
	metrics.Handler(metrics.Config{Usage: counters{}}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"switchyard_usage_events_recorded_total 7", "switchyard_usage_events_dropped_total 2",
		"switchyard_usage_events_written_total 5", "switchyard_usage_events_queued 1", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
