package switchyard

import (
	"context"
	"time"
)

// Usage statuses: how a gateway request ended.
const (
	UsageOK        = "ok"
	UsageError     = "error"
	UsageCancelled = "cancelled"
)

// UsageEvent records one gateway request: who made it, what it reached, the
// tokens it used, how long it took and what it cost. Events are written in
// batches after the request (see analytics.Recorder) and never changed.
type UsageEvent struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	RequestID string    `json:"request_id"`

	ConnectionID string `json:"connection_id"`
	UserID       string `json:"user_id"`
	ProviderID   string `json:"provider_id"`
	ModelID      string `json:"model_id"`
	// Model is the name the client asked for (an alias, an upstream id or
	// "provider-slug/model-id"); UpstreamModel is what the upstream was
	// sent.
	Model         string `json:"model"`
	UpstreamModel string `json:"upstream_model"`
	Stream        bool   `json:"stream"`

	// Status is UsageOK, UsageError or UsageCancelled.
	Status string `json:"status"`
	// ErrorClass is the upstream or gateway error code (an Error code such
	// as "rate_limited"), empty when Status is ok.
	ErrorClass string `json:"error_class"`
	HTTPStatus int    `json:"http_status"`

	// InputTokens counts every prompt token, CachedInputTokens included.
	InputTokens       int `json:"input_tokens"`
	OutputTokens      int `json:"output_tokens"`
	CachedInputTokens int `json:"cached_input_tokens"`

	// LatencyMS is the whole request; TTFTMS is the time to the first token
	// of a stream (0 when there was none).
	LatencyMS int64   `json:"latency_ms"`
	TTFTMS    int64   `json:"ttft_ms"`
	CostUSD   float64 `json:"cost_usd"`
	// Attempts counts upstream tries: more than 1 after retries or fallback.
	Attempts int `json:"attempts"`
}

// Validate reports every bad field of e.
func (e *UsageEvent) Validate() error {
	var p Problems
	switch e.Status {
	case UsageOK, UsageError, UsageCancelled:
	default:
		p.Add("status", "invalid_status", "must be %q, %q or %q", UsageOK, UsageError, UsageCancelled)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"http_status", int64(e.HTTPStatus)}, {"input_tokens", int64(e.InputTokens)},
		{"output_tokens", int64(e.OutputTokens)}, {"cached_input_tokens", int64(e.CachedInputTokens)},
		{"latency_ms", e.LatencyMS}, {"ttft_ms", e.TTFTMS}, {"attempts", int64(e.Attempts)},
	} {
		if f.v < 0 {
			p.Add(f.name, "negative", "must not be negative")
		}
	}
	if e.CostUSD < 0 || e.CostUSD != e.CostUSD {
		p.Add("cost_usd", "negative", "must be a non-negative number")
	}
	for _, f := range []struct{ name, v string }{
		{"id", e.ID}, {"request_id", e.RequestID}, {"connection_id", e.ConnectionID}, {"user_id", e.UserID},
		{"provider_id", e.ProviderID}, {"model_id", e.ModelID}, {"model", e.Model},
		{"upstream_model", e.UpstreamModel}, {"error_class", e.ErrorClass},
	} {
		if len(f.v) > maxUsageField {
			p.Add(f.name, "too_long", "must be at most %d bytes", maxUsageField)
		}
	}
	return p.Err("usage event")
}

// maxUsageField bounds each text field of a usage event.
const maxUsageField = 512

// Tokens are the token counts that a request is charged for. Input counts
// every prompt token, cached reads and cache writes included.
type Tokens struct {
	Input       int
	CachedInput int
	CacheWrite  int
	Output      int
}

// Cost returns what t costs at prices p, in US dollars. Cached input is
// priced at CacheReadPerMTok and cache writes at CacheWritePerMTok when
// those are set, and at InputPerMTok otherwise. Negative counts count as 0,
// and cached reads and writes never count for more than the input.
func Cost(p Pricing, t Tokens) float64 {
	input, output := max(t.Input, 0), max(t.Output, 0)
	cached := min(max(t.CachedInput, 0), input)
	written := min(max(t.CacheWrite, 0), input-cached)
	cacheRead, cacheWrite := p.InputPerMTok, p.InputPerMTok
	if p.CacheReadPerMTok > 0 {
		cacheRead = p.CacheReadPerMTok
	}
	if p.CacheWritePerMTok > 0 {
		cacheWrite = p.CacheWritePerMTok
	}
	plain := input - cached - written
	return (float64(plain)*p.InputPerMTok + float64(cached)*cacheRead +
		float64(written)*cacheWrite + float64(output)*p.OutputPerMTok) / 1e6
}

// UsageFilter selects usage events; the newest come first. Since is
// inclusive and Until exclusive; zero fields select everything.
type UsageFilter struct {
	ListOptions
	Since        time.Time
	Until        time.Time
	ConnectionID string
	ProviderID   string
	ModelID      string
	Status       string
}

// UsageStore keeps usage events. They are never changed.
type UsageStore interface {
	// AppendUsage stores events in one transaction: all or none. It sets
	// the ID and At of events that lack them, in place, and skips an event
	// whose ID is already stored, so that a retried batch is written once.
	// An invalid event returns EINVALID and nothing is stored.
	AppendUsage(ctx context.Context, events []UsageEvent) error
	// ListUsage returns one page of events, newest first (by At, then ID).
	ListUsage(ctx context.Context, f UsageFilter) (Page[*UsageEvent], error)
	// ConnectionSpend returns what each of the connections spent (the sum
	// of CostUSD) in events at or after since; a connection with no such
	// event is absent.
	ConnectionSpend(ctx context.Context, connectionIDs []string, since time.Time) (map[string]float64, error)
}
