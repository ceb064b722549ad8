package switchyard

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Modality names an input or output kind.
const (
	ModalityText  = "text"
	ModalityImage = "image"
	ModalityAudio = "audio"
	ModalityVideo = "video"
	ModalityPDF   = "pdf"
)

// Modalities lists the known modalities.
var Modalities = []string{ModalityText, ModalityImage, ModalityAudio, ModalityVideo, ModalityPDF}

// ModelStatus says whether a model answers.
type ModelStatus string

const (
	ModelUnknown     ModelStatus = "unknown"
	ModelAvailable   ModelStatus = "available"
	ModelUnavailable ModelStatus = "unavailable"
	ModelDeprecated  ModelStatus = "deprecated"
)

// Model is a model served by a provider.
type Model struct {
	ID          string      `json:"id"`
	ProviderID  string      `json:"provider_id"`
	UpstreamID  string      `json:"upstream_id"`
	DisplayName string      `json:"display_name"`
	Aliases     []string    `json:"aliases"`
	Enabled     bool        `json:"enabled"`
	Status      ModelStatus `json:"status"`
	// Capabilities and Pricing hold the effective values; Sources says where
	// each came from, so that a sync never overwrites an admin's override.
	Capabilities  Capabilities      `json:"capabilities"`
	Pricing       Pricing           `json:"pricing"`
	Sources       map[string]Source `json:"sources"`
	LastTest      *TestResult       `json:"last_test"`
	LastBenchmark *BenchmarkResult  `json:"last_benchmark"`
	Version       int64             `json:"version"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// Capabilities are what a model can do.
type Capabilities struct {
	ContextWindow    int      `json:"context_window"`
	MaxOutputTokens  int      `json:"max_output_tokens"`
	InputModalities  []string `json:"input_modalities"`
	OutputModalities []string `json:"output_modalities"`
	Tools            bool     `json:"tools"`
	JSONMode         bool     `json:"json_mode"`
	Streaming        bool     `json:"streaming"`
	Vision           bool     `json:"vision"`
	Embeddings       bool     `json:"embeddings"`
	Reasoning        bool     `json:"reasoning"`
}

// Pricing is in US dollars per million tokens.
type Pricing struct {
	InputPerMTok      float64 `json:"input_per_mtok"`
	OutputPerMTok     float64 `json:"output_per_mtok"`
	CacheReadPerMTok  float64 `json:"cache_read_per_mtok,omitempty"`
	CacheWritePerMTok float64 `json:"cache_write_per_mtok,omitempty"`
}

// Source says where a capability value came from. Higher ranks win.
type Source string

const (
	SourceDefault  Source = "default"
	SourceCatalog  Source = "catalog"
	SourceProvider Source = "provider"
	SourceOverride Source = "override"
)

// Rank orders sources: override > provider > catalog > default.
func (s Source) Rank() int {
	switch s {
	case SourceOverride:
		return 3
	case SourceProvider:
		return 2
	case SourceCatalog:
		return 1
	default:
		return 0
	}
}

// CapabilityFields names every field of Capabilities, plus "pricing", as
// they appear in Sources.
var CapabilityFields = []string{"context_window", "max_output_tokens", "input_modalities",
	"output_modalities", "tools", "json_mode", "streaming", "vision", "embeddings", "reasoning", "pricing"}

// DefaultCapabilities are assumed for a model nothing is known about.
func DefaultCapabilities() Capabilities {
	return Capabilities{InputModalities: []string{ModalityText}, OutputModalities: []string{ModalityText}, Streaming: true}
}

// SourceOf returns where field's value came from.
func (m *Model) SourceOf(field string) Source {
	if s, ok := m.Sources[field]; ok {
		return s
	}
	return SourceDefault
}

// ApplyCapabilities copies the named fields (names from CapabilityFields)
// from caps and pricing into m, each only where the field's current source
// does not outrank src. It returns the fields it changed the source or value
// of. An admin's override is therefore kept when a provider sync or a catalog
// update comes later.
func (m *Model) ApplyCapabilities(caps Capabilities, pricing Pricing, fields []string, src Source) []string {
	if m.Sources == nil {
		m.Sources = map[string]Source{}
	}
	var applied []string
	for _, f := range fields {
		if m.SourceOf(f).Rank() > src.Rank() {
			continue
		}
		before, beforePricing := m.Capabilities, m.Pricing
		if !copyCapability(&m.Capabilities, &m.Pricing, caps, pricing, f) {
			continue
		}
		if m.SourceOf(f) == src && beforePricing == m.Pricing && capabilitiesEqual(before, m.Capabilities) {
			continue
		}
		m.Sources[f] = src
		applied = append(applied, f)
	}
	return applied
}

func capabilitiesEqual(a, b Capabilities) bool {
	if !slices.Equal(a.InputModalities, b.InputModalities) || !slices.Equal(a.OutputModalities, b.OutputModalities) {
		return false
	}
	a.InputModalities, a.OutputModalities = nil, nil
	b.InputModalities, b.OutputModalities = nil, nil
	return reflect.DeepEqual(a, b)
}

func copyCapability(dst *Capabilities, dstP *Pricing, src Capabilities, srcP Pricing, field string) bool {
	switch field {
	case "context_window":
		dst.ContextWindow = src.ContextWindow
	case "max_output_tokens":
		dst.MaxOutputTokens = src.MaxOutputTokens
	case "input_modalities":
		dst.InputModalities = slices.Clone(src.InputModalities)
	case "output_modalities":
		dst.OutputModalities = slices.Clone(src.OutputModalities)
	case "tools":
		dst.Tools = src.Tools
	case "json_mode":
		dst.JSONMode = src.JSONMode
	case "streaming":
		dst.Streaming = src.Streaming
	case "vision":
		dst.Vision = src.Vision
	case "embeddings":
		dst.Embeddings = src.Embeddings
	case "reasoning":
		dst.Reasoning = src.Reasoning
	case "pricing":
		*dstP = srcP
	default:
		return false
	}
	return true
}

// TestResult is the outcome of the last model or provider test.
type TestResult struct {
	At        time.Time `json:"at"`
	OK        bool      `json:"ok"`
	Code      string    `json:"code,omitempty"`
	Message   string    `json:"message,omitempty"`
	LatencyMS int64     `json:"latency_ms"`
	// TTFTMS is the time to the first streamed token (0: not measured).
	TTFTMS       int64 `json:"ttft_ms,omitempty"`
	InputTokens  int   `json:"input_tokens,omitempty"`
	OutputTokens int   `json:"output_tokens,omitempty"`
	// Checks verify the capabilities the model declares, one per
	// capability (see CapabilityChecks).
	Checks []CapabilityCheck `json:"checks,omitempty"`
}

// Outcomes of a capability check.
const (
	// CheckVerified: a real call showed the capability.
	CheckVerified = "verified"
	// CheckUnsupported: the provider refused the call, or answered without
	// the feature where it had to show it.
	CheckUnsupported = "unsupported"
	// CheckUnknown: not tried, or the answer was inconclusive.
	CheckUnknown = "unknown"
)

// CapabilityChecks names the capabilities a model test verifies.
var CapabilityChecks = []string{"streaming", "tools", "json_mode", "vision", "embeddings"}

// CapabilityCheck is what a model test found out about one capability,
// beside what the model declares.
type CapabilityCheck struct {
	Name     string `json:"name"`
	Declared bool   `json:"declared"`
	Result   string `json:"result"`
	Message  string `json:"message,omitempty"`
}

// Benchmark run statuses.
const (
	BenchmarkRunning   = "running"
	BenchmarkCompleted = "completed"
	BenchmarkCancelled = "cancelled"
)

// BenchmarkResult is the outcome of a benchmark of a model: the last one on
// the model, and every one in its history. Latencies are of whole requests
// that succeeded; TTFTMS is the median time to the first streamed token.
type BenchmarkResult struct {
	ID          string    `json:"id,omitempty"`
	ModelID     string    `json:"model_id,omitempty"`
	At          time.Time `json:"at"`
	Status      string    `json:"status,omitempty"`
	Requests    int       `json:"requests"`
	Concurrency int       `json:"concurrency,omitempty"`
	Errors      int       `json:"errors"`
	ErrorRate   float64   `json:"error_rate"`
	P50MS       float64   `json:"p50_ms"`
	P95MS       float64   `json:"p95_ms"`
	P99MS       float64   `json:"p99_ms"`
	TTFTMS      float64   `json:"ttft_ms"`
	// TokensPerSec is output tokens over the summed duration of the
	// requests that succeeded: the speed one client sees.
	TokensPerSec float64 `json:"tokens_per_s"`
	DurationMS   int64   `json:"duration_ms,omitempty"`
}

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// Validate checks every field and reports every problem at once.
func (m *Model) Validate() error {
	var pr Problems
	if msg := validateUpstreamID(m.UpstreamID); msg != "" {
		pr.Add("upstream_id", "invalid_model", "%s", msg)
	}
	if len(m.DisplayName) > 200 {
		pr.Add("display_name", "too_long", "must be at most 200 bytes")
	}
	seen := map[string]bool{}
	for i, a := range m.Aliases {
		f := "aliases[" + itoa(i) + "]"
		switch {
		case !aliasRE.MatchString(a):
			pr.Add(f, "invalid_alias", "must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (no '/', which separates a provider slug from a model id)")
		case seen[a]:
			pr.Add(f, "duplicate", "alias %q is listed twice", a)
		}
		seen[a] = true
	}
	if m.Status != "" && !slices.Contains([]ModelStatus{ModelUnknown, ModelAvailable, ModelUnavailable, ModelDeprecated}, m.Status) {
		pr.Add("status", "invalid_enum", "must be unknown, available, unavailable or deprecated")
	}
	pr.Merge("capabilities", m.Capabilities.Validate())
	pr.Merge("pricing", m.Pricing.Validate())
	for f, s := range m.Sources {
		if !slices.Contains(CapabilityFields, f) {
			pr.Add("sources."+f, "unknown_field", "is not a capability field")
		}
		if !slices.Contains([]Source{SourceDefault, SourceCatalog, SourceProvider, SourceOverride}, s) {
			pr.Add("sources."+f, "invalid_enum", "must be default, catalog, provider or override")
		}
	}
	return pr.Err("model")
}

// Validate checks limits and modalities.
func (c Capabilities) Validate() error {
	var pr Problems
	if c.ContextWindow < 0 || c.ContextWindow > 100_000_000 {
		pr.Add("context_window", "out_of_range", "must be between 0 (unknown) and 100000000 tokens")
	}
	if c.MaxOutputTokens < 0 || c.MaxOutputTokens > 100_000_000 {
		pr.Add("max_output_tokens", "out_of_range", "must be between 0 (unknown) and 100000000 tokens")
	}
	if c.ContextWindow > 0 && c.MaxOutputTokens > c.ContextWindow {
		pr.Add("max_output_tokens", "exceeds_context", "must not exceed context_window (%d)", c.ContextWindow)
	}
	for i, mod := range c.InputModalities {
		if !slices.Contains(Modalities, mod) {
			pr.Add("input_modalities["+itoa(i)+"]", "invalid_enum", "must be one of %s", strings.Join(Modalities, ", "))
		}
	}
	for i, mod := range c.OutputModalities {
		if !slices.Contains(Modalities, mod) {
			pr.Add("output_modalities["+itoa(i)+"]", "invalid_enum", "must be one of %s", strings.Join(Modalities, ", "))
		}
	}
	return pr.Err("capabilities")
}

// Validate checks that no price is negative.
func (p Pricing) Validate() error {
	var pr Problems
	for name, v := range map[string]float64{"input_per_mtok": p.InputPerMTok, "output_per_mtok": p.OutputPerMTok,
		"cache_read_per_mtok": p.CacheReadPerMTok, "cache_write_per_mtok": p.CacheWritePerMTok} {
		if v < 0 || v > 1e6 || v != v {
			pr.Add(name, "out_of_range", "must be a price in US dollars per million tokens, 0 or more")
		}
	}
	slices.SortFunc(pr.fields, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return pr.Err("pricing")
}

func validateUpstreamID(id string) string {
	switch {
	case id == "":
		return "is required: the model id the provider knows, such as \"gpt-4o-mini\""
	case len(id) > 256:
		return "must be at most 256 bytes"
	case strings.ContainsFunc(id, func(r rune) bool { return r <= 0x20 || r == 0x7f }):
		return "must not contain spaces or control characters"
	}
	return ""
}
