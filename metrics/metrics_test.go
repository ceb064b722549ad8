package metrics_test

import (
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/switchyard/switchyard"
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

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestGatewayMetricsFromUsageEvents(t *testing.T) {
	g := metrics.NewGateway(nil)
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := metrics.Handler(metrics.Config{Gateway: g, DB: db})
	ok := switchyard.UsageEvent{ProviderID: "p1", ModelID: "m1", Model: "fast", UpstreamModel: "gpt-4o-mini", Status: switchyard.UsageOK,
		InputTokens: 100, OutputTokens: 20, LatencyMS: 300, TTFTMS: 80, CostUSD: 0.5}
	for range 3 {
		g.Record(ok)
	}
	failed := ok
	failed.Status, failed.ErrorClass, failed.OutputTokens, failed.CostUSD = switchyard.UsageError, "rate_limited", 0, 0
	g.Record(failed)
	// A made-up model name reaches no model: it counts under empty labels.
	g.Record(switchyard.UsageEvent{Model: "invented-name", UpstreamModel: "invented-name", Status: switchyard.UsageError, ErrorClass: "model_not_found"})
	body := scrape(t, h)
	for _, want := range []string{
		`switchyard_gateway_requests_total{model="gpt-4o-mini",provider="p1",status="ok"} 3`,
		`switchyard_gateway_requests_total{model="gpt-4o-mini",provider="p1",status="error"} 1`,
		`switchyard_gateway_requests_total{model="",provider="",status="error"} 1`,
		`switchyard_gateway_request_duration_seconds_count{model="gpt-4o-mini",provider="p1"} 3`,
		`switchyard_gateway_request_duration_seconds_bucket{model="gpt-4o-mini",provider="p1",le="0.5"} 3`,
		`switchyard_gateway_time_to_first_token_seconds_sum{model="gpt-4o-mini",provider="p1"} 0.24`,
		`switchyard_gateway_tokens_total{direction="input",model="gpt-4o-mini",provider="p1"} 400`,
		`switchyard_gateway_tokens_total{direction="output",model="gpt-4o-mini",provider="p1"} 60`,
		`switchyard_gateway_cost_usd_total{model="gpt-4o-mini",provider="p1"} 1.5`,
		`switchyard_gateway_errors_total{class="rate_limited",provider="p1"} 1`,
		`switchyard_gateway_errors_total{class="model_not_found",provider=""} 1`,
		`go_sql_open_connections{db_name="switchyard"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "invented-name") {
		t.Error("a client-chosen model name became a label")
	}
}

func BenchmarkGatewayObserve(b *testing.B) {
	g := metrics.NewGateway(nil)
	e := switchyard.UsageEvent{ProviderID: "p1", ModelID: "m1", UpstreamModel: "gpt-4o-mini", Status: switchyard.UsageOK,
		InputTokens: 100, OutputTokens: 20, LatencyMS: 300, TTFTMS: 80, CostUSD: 0.5}
	b.ReportAllocs()
	for b.Loop() {
		g.Observe(&e)
	}
}
