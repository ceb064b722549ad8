package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard"
)

// templateFile is the on-disk shape of one template (catalog/templates/*.yaml).
// Field names follow the REST API's JSON names. Unknown keys are an error.
type templateFile struct {
	Slug        string            `yaml:"slug"`
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Protocol    string            `yaml:"protocol"`
	BaseURL     string            `yaml:"base_url"`
	AuthMethod  string            `yaml:"auth_method"`
	AuthConfig  map[string]string `yaml:"auth_config"`
	// Parameters is a JSON Schema written in YAML.
	Parameters map[string]any    `yaml:"parameters"`
	Headers    map[string]string `yaml:"headers"`
	Settings   settingsFile      `yaml:"settings"`
	DocsURL    string            `yaml:"docs_url"`
	EnvVars    []string          `yaml:"env_vars"`
	SystemType string            `yaml:"system_type"`
	Models     []modelFile       `yaml:"models"`
}

type settingsFile struct {
	TimeoutMS            int  `yaml:"timeout_ms"`
	MaxRetries           int  `yaml:"max_retries"`
	HealthCheckIntervalS int  `yaml:"health_check_interval_s"`
	HealthCheckDisabled  bool `yaml:"health_check_disabled"`
	RateLimitRPM         int  `yaml:"rate_limit_rpm"`
}

type modelFile struct {
	UpstreamID   string           `yaml:"upstream_id"`
	DisplayName  string           `yaml:"display_name"`
	Aliases      []string         `yaml:"aliases"`
	Capabilities capabilitiesFile `yaml:"capabilities"`
	Pricing      pricingFile      `yaml:"pricing"`
	Deprecated   bool             `yaml:"deprecated"`
}

type capabilitiesFile struct {
	ContextWindow    int      `yaml:"context_window"`
	MaxOutputTokens  int      `yaml:"max_output_tokens"`
	InputModalities  []string `yaml:"input_modalities"`
	OutputModalities []string `yaml:"output_modalities"`
	Tools            bool     `yaml:"tools"`
	JSONMode         bool     `yaml:"json_mode"`
	Streaming        bool     `yaml:"streaming"`
	Vision           bool     `yaml:"vision"`
	Embeddings       bool     `yaml:"embeddings"`
	Reasoning        bool     `yaml:"reasoning"`
}

type pricingFile struct {
	InputPerMTok      float64 `yaml:"input_per_mtok"`
	OutputPerMTok     float64 `yaml:"output_per_mtok"`
	CacheReadPerMTok  float64 `yaml:"cache_read_per_mtok"`
	CacheWritePerMTok float64 `yaml:"cache_write_per_mtok"`
}

// ParseTemplate decodes one template document in the catalog's YAML format.
// Unknown keys, a second document and type mismatches are errors. The result
// is not validated; Load does that.
func ParseTemplate(data []byte) (*switchyard.ProviderTemplate, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f templateFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty template document")
		}
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("a template file holds exactly one YAML document")
	}
	t := &switchyard.ProviderTemplate{
		Slug:        f.Slug,
		Name:        f.Name,
		Description: f.Description,
		Protocol:    switchyard.Protocol(f.Protocol),
		BaseURL:     f.BaseURL,
		AuthMethod:  switchyard.AuthMethod(f.AuthMethod),
		AuthConfig:  f.AuthConfig,
		Headers:     f.Headers,
		Settings: switchyard.ProviderSettings{
			TimeoutMS:            f.Settings.TimeoutMS,
			MaxRetries:           f.Settings.MaxRetries,
			HealthCheckIntervalS: f.Settings.HealthCheckIntervalS,
			HealthCheckDisabled:  f.Settings.HealthCheckDisabled,
			RateLimitRPM:         f.Settings.RateLimitRPM,
		},
		DocsURL:    f.DocsURL,
		EnvVars:    f.EnvVars,
		SystemType: f.SystemType,
	}
	if f.Parameters == nil {
		f.Parameters = map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false}
	}
	raw, err := json.Marshal(f.Parameters)
	if err != nil {
		return nil, fmt.Errorf("parameters: %w", err)
	}
	t.Parameters = raw
	for _, m := range f.Models {
		c := m.Capabilities
		t.Models = append(t.Models, switchyard.TemplateModel{
			UpstreamID:  m.UpstreamID,
			DisplayName: m.DisplayName,
			Aliases:     slices.Clone(m.Aliases),
			Capabilities: switchyard.Capabilities{
				ContextWindow:    c.ContextWindow,
				MaxOutputTokens:  c.MaxOutputTokens,
				InputModalities:  c.InputModalities,
				OutputModalities: c.OutputModalities,
				Tools:            c.Tools,
				JSONMode:         c.JSONMode,
				Streaming:        c.Streaming,
				Vision:           c.Vision,
				Embeddings:       c.Embeddings,
				Reasoning:        c.Reasoning,
			},
			Pricing: switchyard.Pricing{
				InputPerMTok:      m.Pricing.InputPerMTok,
				OutputPerMTok:     m.Pricing.OutputPerMTok,
				CacheReadPerMTok:  m.Pricing.CacheReadPerMTok,
				CacheWritePerMTok: m.Pricing.CacheWritePerMTok,
			},
			Deprecated: m.Deprecated,
		})
	}
	return t, nil
}
