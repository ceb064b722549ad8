package switchyard_test

import (
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

func TestCost(t *testing.T) {
	gpt := switchyard.Pricing{InputPerMTok: 2.5, OutputPerMTok: 10, CacheReadPerMTok: 1.25}
	claude := switchyard.Pricing{InputPerMTok: 3, OutputPerMTok: 15, CacheReadPerMTok: 0.3, CacheWritePerMTok: 3.75}
	plain := switchyard.Pricing{InputPerMTok: 0.15, OutputPerMTok: 0.6}
	tests := []struct {
		name string
		p    switchyard.Pricing
		t    switchyard.Tokens
		want float64
	}{
		{"nothing", gpt, switchyard.Tokens{}, 0},
		{"free model", switchyard.Pricing{}, switchyard.Tokens{Input: 1000, Output: 1000}, 0},
		{"one million each way", plain, switchyard.Tokens{Input: 1e6, Output: 1e6}, 0.75},
		{"input and output", gpt, switchyard.Tokens{Input: 1000, Output: 500}, (1000*2.5 + 500*10) / 1e6},
		{"cached input at the cache read price", gpt, switchyard.Tokens{Input: 1000, CachedInput: 800, Output: 100},
			(200*2.5 + 800*1.25 + 100*10) / 1e6},
		{"cached input without a cache price costs as input", plain, switchyard.Tokens{Input: 1000, CachedInput: 800},
			1000 * 0.15 / 1e6},
		{"cache reads and writes", claude, switchyard.Tokens{Input: 10000, CachedInput: 6000, CacheWrite: 3000, Output: 200},
			(1000*3 + 6000*0.3 + 3000*3.75 + 200*15) / 1e6},
		{"cached more than input is capped", gpt, switchyard.Tokens{Input: 100, CachedInput: 500}, 100 * 1.25 / 1e6},
		{"cache writes capped by what is left", claude, switchyard.Tokens{Input: 100, CachedInput: 60, CacheWrite: 100},
			(60*0.3 + 40*3.75) / 1e6},
		{"negative counts are zero", gpt, switchyard.Tokens{Input: -5, CachedInput: -1, CacheWrite: -3, Output: -7}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := switchyard.Cost(tt.p, tt.t)
			if math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Cost = %.12f, want %.12f", got, tt.want)
			}
		})
	}
}

func TestUsageEventValidate(t *testing.T) {
	valid := func() *switchyard.UsageEvent {
		return &switchyard.UsageEvent{Status: switchyard.UsageOK, Model: "fast", HTTPStatus: 200,
			InputTokens: 10, OutputTokens: 5, LatencyMS: 120, TTFTMS: 30, CostUSD: 0.0001, Attempts: 1}
	}
	tests := []struct {
		name   string
		mutate func(e *switchyard.UsageEvent)
		want   []problem
	}{
		{"valid", func(*switchyard.UsageEvent) {}, nil},
		{"error status", func(e *switchyard.UsageEvent) { e.Status, e.ErrorClass = switchyard.UsageError, "rate_limited" }, nil},
		{"cancelled status", func(e *switchyard.UsageEvent) { e.Status = switchyard.UsageCancelled }, nil},
		{"status required", func(e *switchyard.UsageEvent) { e.Status = "" }, []problem{{"status", "invalid_status"}}},
		{"unknown status", func(e *switchyard.UsageEvent) { e.Status = "maybe" }, []problem{{"status", "invalid_status"}}},
		{"negatives", func(e *switchyard.UsageEvent) {
			e.InputTokens, e.OutputTokens, e.CachedInputTokens, e.LatencyMS, e.TTFTMS, e.Attempts, e.HTTPStatus, e.CostUSD = -1, -1, -1, -1, -1, -1, -1, -1
		}, []problem{{"attempts", "negative"}, {"cached_input_tokens", "negative"}, {"cost_usd", "negative"},
			{"http_status", "negative"}, {"input_tokens", "negative"}, {"latency_ms", "negative"},
			{"output_tokens", "negative"}, {"ttft_ms", "negative"}}},
		{"cost not a number", func(e *switchyard.UsageEvent) { e.CostUSD = math.NaN() }, []problem{{"cost_usd", "negative"}}},
		{"model too long", func(e *switchyard.UsageEvent) { e.Model = strings.Repeat("m", 513) }, []problem{{"model", "too_long"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.mutate(e)
			wantProblems(t, e.Validate(), tt.want...)
		})
	}
}
