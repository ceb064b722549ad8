package switchyard

import (
	"context"
	"time"
)

// HealthRollup sums a provider's health checks over one bucket of a
// resolution: how many ran, how many succeeded, and the latency of the
// successful ones as a mergeable histogram (the analytics package's
// encoding), so that percentiles survive the rollup from minutes to hours
// to days.
type HealthRollup struct {
	Resolution   Resolution
	ProviderID   string
	Bucket       time.Time
	Checks       int64
	OK           int64
	LatencySumMS int64
	Latency      []byte
}

// HealthRollupStore keeps the rolled-up health-check history. Like the
// usage rollups it is derived data: ReplaceHealthRollups rewrites a whole
// window, so building one twice, or on two replicas, gives the same rows.
type HealthRollupStore interface {
	// ScanHealthChecks calls fn with every check in [since, until),
	// oldest first. fn must not keep the check.
	ScanHealthChecks(ctx context.Context, since, until time.Time, fn func(*HealthCheck) error) error
	// ReplaceHealthRollups deletes the rollups of res in [since, until)
	// and stores rows instead, in one transaction.
	ReplaceHealthRollups(ctx context.Context, res Resolution, since, until time.Time, rows []HealthRollup) error
	// ListHealthRollups calls fn with the rollups of res in [since, until),
	// of one provider or (providerID empty) all, oldest first.
	ListHealthRollups(ctx context.Context, res Resolution, providerID string, since, until time.Time, fn func(*HealthRollup) error) error
	// PruneHealthRollups deletes rollups of res whose bucket starts before
	// t and returns how many.
	PruneHealthRollups(ctx context.Context, res Resolution, before time.Time) (int64, error)
}

// HealthQuery asks for the health-check history over [From, To); a zero
// Resolution lets the answer pick one; ProviderID empty means every
// provider.
type HealthQuery struct {
	From       time.Time
	To         time.Time
	Resolution Resolution
	ProviderID string
}

// HealthStats are the measures of one bucket or of a whole series:
// Availability is OK / Checks; latency percentiles are in milliseconds,
// over successful checks.
type HealthStats struct {
	Checks       int64   `json:"checks"`
	OK           int64   `json:"ok"`
	Availability float64 `json:"availability"`
	LatencyP50   float64 `json:"latency_p50_ms"`
	LatencyP95   float64 `json:"latency_p95_ms"`
	LatencyP99   float64 `json:"latency_p99_ms"`
}

// HealthPoint is one bucket with checks.
type HealthPoint struct {
	At time.Time `json:"at"`
	HealthStats
}

// HealthSeries is one provider's history.
type HealthSeries struct {
	ProviderID string        `json:"provider_id"`
	Name       string        `json:"name"`
	Total      HealthStats   `json:"total"`
	Points     []HealthPoint `json:"points"`
}

// HealthReport answers a HealthQuery.
type HealthReport struct {
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Resolution Resolution     `json:"resolution"`
	Series     []HealthSeries `json:"series"`
}
