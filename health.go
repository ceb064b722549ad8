package switchyard

import (
	"context"
	"time"
)

// ProviderTest is the result of a connectivity test: each stage of reaching
// the provider, in order, with its outcome.
type ProviderTest struct {
	At time.Time `json:"at"`
	OK bool      `json:"ok"`
	// Code is the stable code of the first failed stage, if any.
	Code   string      `json:"code,omitempty"`
	Stages []TestStage `json:"stages"`
	// Models is how many models the provider's model list returned.
	Models int `json:"models"`
}

// Test stage names, in the order they run.
const (
	StageDNS      = "dns"
	StageTCP      = "tcp"
	StageTLS      = "tls"
	StageAuth     = "auth"
	StageEndpoint = "endpoint"
	StageModels   = "models"
)

// Test stage outcomes.
const (
	StageOK      = "ok"
	StageFailed  = "failed"
	StageSkipped = "skipped"
)

// TestStage is one stage of a connectivity test. A failed stage carries a
// stable code and a hint a person can act on.
type TestStage struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
	Hint       string `json:"hint,omitempty"`
}

// HealthCheck is the result of one health check of a provider (or of one
// of its models): whether it answered, how fast, and the stable error code
// when it did not. It never holds the upstream's message, which may echo
// what was sent.
type HealthCheck struct {
	ID         string `json:"id"`
	ProviderID string `json:"provider_id"`
	// ModelID is set when a model, not the provider, was checked.
	ModelID   string    `json:"model_id,omitempty"`
	At        time.Time `json:"at"`
	OK        bool      `json:"ok"`
	LatencyMS int64     `json:"latency_ms"`
	// Code is the failure's stable code (provider.Code*); empty when OK.
	Code string `json:"code,omitempty"`
}

// StatusChange is one change of a provider's health status, with the
// reason a person can read.
type StatusChange struct {
	ID         string         `json:"id"`
	ProviderID string         `json:"provider_id"`
	At         time.Time      `json:"at"`
	From       ProviderStatus `json:"from"`
	To         ProviderStatus `json:"to"`
	Reason     string         `json:"reason"`
}

// HealthStore keeps health checks and status changes. Both go with their
// provider when it is deleted.
type HealthStore interface {
	// AddHealthCheck stores a check result; ID and At are set when empty.
	AddHealthCheck(ctx context.Context, c *HealthCheck) error
	// ListHealthChecks lists a provider's checks, newest first.
	ListHealthChecks(ctx context.Context, providerID string, opts ListOptions) (Page[*HealthCheck], error)
	// ChangeProviderStatus sets the provider's status and records the
	// change with its reason, in one transaction, without changing the
	// provider's version. ID and At are set when empty. It returns
	// ENOTFOUND for an unknown provider.
	ChangeProviderStatus(ctx context.Context, c *StatusChange) error
	// ListStatusChanges lists a provider's status changes, newest first.
	ListStatusChanges(ctx context.Context, providerID string, opts ListOptions) (Page[*StatusChange], error)
	// PruneHealth deletes checks and status changes older than before and
	// returns how many rows went.
	PruneHealth(ctx context.Context, before time.Time) (int64, error)
}
