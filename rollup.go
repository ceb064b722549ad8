package switchyard

import (
	"context"
	"slices"
	"time"
)

// Resolution is the width of an analytics time bucket.
type Resolution string

// Resolutions, finest first.
const (
	ResolutionMinute Resolution = "minute"
	ResolutionHour   Resolution = "hour"
	ResolutionDay    Resolution = "day"
)

// Resolutions lists every resolution, finest first.
var Resolutions = []Resolution{ResolutionMinute, ResolutionHour, ResolutionDay}

// Valid reports whether r is a known resolution.
func (r Resolution) Valid() bool { return slices.Contains(Resolutions, r) }

// Step is the width of one bucket (0 for an unknown resolution).
func (r Resolution) Step() time.Duration {
	switch r {
	case ResolutionMinute:
		return time.Minute
	case ResolutionHour:
		return time.Hour
	case ResolutionDay:
		return 24 * time.Hour
	}
	return 0
}

// Floor returns the start of the bucket holding t, in UTC (days start at
// midnight UTC).
func (r Resolution) Floor(t time.Time) time.Time { return t.UTC().Truncate(r.Step()) }

// Ceil returns the start of the first bucket that begins at or after t.
func (r Resolution) Ceil(t time.Time) time.Time {
	f := r.Floor(t)
	if f.Equal(t) {
		return f
	}
	return f.Add(r.Step())
}

// UsageRollup aggregates the usage events of one time bucket and one
// (provider, model, connection, user). Latency and TTFT hold the
// distributions as mergeable histograms, encoded by package analytics;
// the store keeps them as opaque bytes.
type UsageRollup struct {
	Resolution   Resolution
	Bucket       time.Time
	ProviderID   string
	ModelID      string
	ConnectionID string
	UserID       string

	Requests int64
	// Errors counts requests whose status is error; ErrorClasses splits
	// them by class (the empty class is "unknown"). Cancelled requests are
	// neither errors nor successes.
	Errors            int64
	Cancelled         int64
	ErrorClasses      map[string]int64
	InputTokens       int64
	OutputTokens      int64
	CachedInputTokens int64
	CostUSD           float64
	LatencySumMS      int64
	Latency           []byte
	// TTFTCount counts requests with a time to first token (streams).
	TTFTCount int64
	TTFTSumMS int64
	TTFT      []byte
}

// RollupAll stands for every value of a rollup's key field: the totals
// of a model over every connection have ConnectionID and UserID
// RollupAll; those of a connection over every model, ProviderID and
// ModelID.
const RollupAll = "*"

// RollupKind says what the rollups of a filter sum over.
type RollupKind int

const (
	// RollupDetail rollups are of one provider, model, connection and user.
	RollupDetail RollupKind = iota
	// RollupModelTotals sum a provider's model over every connection: a
	// question that names no connection or user reads these, one row per
	// model and bucket instead of one per connection.
	RollupModelTotals
	// RollupConnectionTotals sum a connection (and its user) over every
	// provider and model: for questions that name no provider or model.
	RollupConnectionTotals
)

// RollupFilter selects rollups of one kind and resolution in [Since,
// Until). ConnectionIDs, when not nil, limits them to those connections
// (an empty non-nil slice selects nothing).
type RollupFilter struct {
	Resolution    Resolution
	Kind          RollupKind
	Since         time.Time
	Until         time.Time
	ProviderID    string
	ModelID       string
	ConnectionID  string
	ConnectionIDs []string
}

// RollupStore keeps the rolled-up usage history. Rollups are derived data:
// ReplaceRollups rewrites a whole time window, so building one twice, or
// on two replicas at once, gives the same rows.
type RollupStore interface {
	// ScanUsage calls fn with every usage event in [since, until), oldest
	// first. fn must not keep the event.
	ScanUsage(ctx context.Context, since, until time.Time, fn func(*UsageEvent) error) error
	// FirstUsage returns the time of the oldest usage event, or the zero
	// time when there is none.
	FirstUsage(ctx context.Context) (time.Time, error)
	// ReplaceRollups deletes the rollups of res in [since, until) and
	// stores rows instead, in one transaction; on PostgreSQL the
	// transaction holds an advisory lock, so that replicas take turns.
	// When mark is not zero it also records it as the rollup watermark.
	ReplaceRollups(ctx context.Context, res Resolution, since, until time.Time, rows []UsageRollup, mark time.Time) error
	// ListRollups calls fn with every rollup f selects, oldest first. fn
	// must not keep the rollup.
	ListRollups(ctx context.Context, f RollupFilter, fn func(*UsageRollup) error) error
	// RollupWatermark returns the end of the last minute window built
	// from raw events (zero before the first run).
	RollupWatermark(ctx context.Context) (time.Time, error)
	// IngestWatermark returns the write time up to which events have been
	// looked at for late arrivals (zero before the first run);
	// SetIngestWatermark moves it forward (never back).
	IngestWatermark(ctx context.Context) (time.Time, error)
	SetIngestWatermark(ctx context.Context, t time.Time) error
	// UsageMinutesWritten returns the minutes (by event time) of the
	// events written after the given write time and up to settle before
	// now, by the store's clock (ids are time-ordered), and that upper
	// bound: the minutes a late event may have changed. With a zero after
	// it returns only the bound.
	UsageMinutesWritten(ctx context.Context, after time.Time, settle time.Duration) (minutes []time.Time, upTo time.Time, err error)
	// PruneUsage deletes raw usage events before t and returns how many.
	PruneUsage(ctx context.Context, before time.Time) (int64, error)
	// PruneRollups deletes rollups of res whose bucket starts before t.
	PruneRollups(ctx context.Context, res Resolution, before time.Time) (int64, error)
}

// Usage report groupings.
const (
	GroupByNone       = ""
	GroupByProvider   = "provider"
	GroupByModel      = "model"
	GroupByConnection = "connection"
	GroupByUser       = "user"
)

// UsageGroupings lists the values of UsageQuery.GroupBy besides none.
var UsageGroupings = []string{GroupByProvider, GroupByModel, GroupByConnection, GroupByUser}

// UsageQuery asks for usage over [From, To). A zero Resolution lets the
// answer pick one; ConnectionIDs, when not nil, limits the answer to those
// connections (how a user's view is scoped).
type UsageQuery struct {
	From          time.Time
	To            time.Time
	GroupBy       string
	Resolution    Resolution
	ProviderID    string
	ModelID       string
	ConnectionID  string
	ConnectionIDs []string
}

// UsageStats are the measures of one bucket, or of a whole series. Latency
// and TTFT percentiles are in milliseconds, over successful requests;
// ErrorRate is Errors / Requests.
type UsageStats struct {
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	Cancelled    int64            `json:"cancelled"`
	ErrorRate    float64          `json:"error_rate"`
	ErrorClasses map[string]int64 `json:"error_classes,omitempty"`
	InputTokens  int64            `json:"input_tokens"`
	OutputTokens int64            `json:"output_tokens"`
	CostUSD      float64          `json:"cost_usd"`
	LatencyP50   float64          `json:"latency_p50_ms"`
	LatencyP95   float64          `json:"latency_p95_ms"`
	LatencyP99   float64          `json:"latency_p99_ms"`
	TTFTP50      float64          `json:"ttft_p50_ms"`
}

// UsagePoint is one bucket of a series.
type UsagePoint struct {
	At time.Time `json:"at"`
	UsageStats
}

// UsageSeries is the usage of one group (one provider, say) over time:
// only buckets with requests have a point.
type UsageSeries struct {
	// Key is the group's id (a provider id, say); empty without grouping.
	Key string `json:"key"`
	// Name is the group's name where it is still known.
	Name   string       `json:"name"`
	Total  UsageStats   `json:"total"`
	Points []UsagePoint `json:"points"`
}

// UsageReport answers a UsageQuery.
type UsageReport struct {
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	Resolution Resolution    `json:"resolution"`
	GroupBy    string        `json:"group_by"`
	Series     []UsageSeries `json:"series"`
}

// Recommendation kinds.
const (
	RecommendCheaperModel   = "cheaper_model"
	RecommendFasterProvider = "faster_provider"
	RecommendRisingErrors   = "rising_errors"
	RecommendUnusedModel    = "unused_model"
	RecommendUnusedProvider = "unused_provider"
	RecommendNearBudget     = "near_budget"
)

// Subject names what a recommendation is about, or the alternative it
// suggests.
type Subject struct {
	// Type is "provider", "model" or "connection".
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Recommendation is advice drawn from measured usage, with the numbers
// that justify it.
type Recommendation struct {
	Kind        string             `json:"kind"`
	Subject     Subject            `json:"subject"`
	Alternative *Subject           `json:"alternative,omitempty"`
	Message     string             `json:"message"`
	Evidence    map[string]float64 `json:"evidence"`
}
