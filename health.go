package switchyard

import "time"

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
