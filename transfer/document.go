// Package transfer moves configuration between installations: Export
// writes providers (with their credentials, headers and models), custom
// templates, connections' settings and alert channels and rules as one
// versioned document, and
// Import reads one back, validating all of it first, planning each item
// (create, update, unchanged, conflict) and applying the plan in one
// transaction.
//
// Secrets are left out unless a passphrase is given; then they travel in
// one age-encrypted block (scrypt passphrase recipient) inside the
// document. Gateway keys are never exported.
package transfer

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard"
)

// Format names the document type; Version is the newest document version
// this build writes. Older versions are upgraded when read.
const (
	Format  = "switchyard-export"
	Version = 1
)

// Secrets modes of a document.
const (
	SecretsOmitted = "omitted"
	SecretsSealed  = "sealed"
)

// Document is an export.
type Document struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	ExportedAt time.Time `json:"exported_at"`
	// Secrets is SecretsOmitted or SecretsSealed; Sealed then holds the
	// secrets, age-encrypted with the export's passphrase (ASCII armour).
	Secrets     string       `json:"secrets"`
	Sealed      string       `json:"sealed,omitempty"`
	Templates   []Template   `json:"templates"`
	Providers   []Provider   `json:"providers"`
	Connections []Connection `json:"connections"`
	// AlertChannels and AlertRules are the alerting configuration; absent
	// in documents written before alerts existed.
	AlertChannels []AlertChannel `json:"alert_channels,omitempty"`
	AlertRules    []AlertRule    `json:"alert_rules,omitempty"`
}

// Template is a custom provider template.
type Template struct {
	Slug        string                      `json:"slug"`
	Name        string                      `json:"name"`
	Description string                      `json:"description,omitempty"`
	Protocol    switchyard.Protocol         `json:"protocol"`
	BaseURL     string                      `json:"base_url"`
	AuthMethod  switchyard.AuthMethod       `json:"auth_method"`
	AuthConfig  map[string]string           `json:"auth_config,omitempty"`
	Parameters  json.RawMessage             `json:"parameters,omitempty"`
	Headers     map[string]string           `json:"headers,omitempty"`
	Settings    switchyard.ProviderSettings `json:"settings"`
	Models      []switchyard.TemplateModel  `json:"models,omitempty"`
	DocsURL     string                      `json:"docs_url,omitempty"`
	EnvVars     []string                    `json:"env_vars,omitempty"`
}

// Provider is a provider with its credentials, headers and models. System
// providers are included (they exist in every installation, seeded from
// the catalog) so that their settings and credentials travel too.
type Provider struct {
	Slug        string                      `json:"slug"`
	Name        string                      `json:"name"`
	Protocol    switchyard.Protocol         `json:"protocol"`
	BaseURL     string                      `json:"base_url"`
	Template    string                      `json:"template,omitempty"`
	Params      map[string]string           `json:"params,omitempty"`
	System      bool                        `json:"system,omitempty"`
	Enabled     bool                        `json:"enabled"`
	Settings    switchyard.ProviderSettings `json:"settings"`
	Headers     map[string]SecretRef        `json:"headers,omitempty"`
	Credentials []Credential                `json:"credentials"`
	Models      []Model                     `json:"models"`
}

// Credential is one credential set; its secrets are only marked as set.
type Credential struct {
	Name    string                `json:"name"`
	Method  switchyard.AuthMethod `json:"method"`
	Config  map[string]string     `json:"config,omitempty"`
	Secrets map[string]SecretRef  `json:"secrets,omitempty"`
	Weight  int                   `json:"weight"`
	// Status is active or disabled (a failing credential is exported as
	// active: failing is what the gateway saw, not a setting).
	Status switchyard.CredentialStatus `json:"status"`
	Models []string                    `json:"models,omitempty"`
}

// SecretRef says a secret is set; its value, if exported, is in the
// sealed block.
type SecretRef struct {
	Set bool `json:"set"`
}

// Model is a model of a provider, keyed by its upstream id.
type Model struct {
	UpstreamID   string                       `json:"upstream_id"`
	DisplayName  string                       `json:"display_name,omitempty"`
	Aliases      []string                     `json:"aliases,omitempty"`
	Enabled      bool                         `json:"enabled"`
	Capabilities switchyard.Capabilities      `json:"capabilities"`
	Pricing      switchyard.Pricing           `json:"pricing"`
	Sources      map[string]switchyard.Source `json:"sources,omitempty"`
}

// Connection is a connection's settings, keyed by owner and name. Its
// gateway key is never exported: an imported connection gets a new one.
type Connection struct {
	Name          string      `json:"name"`
	Owner         string      `json:"owner"`
	Provider      string      `json:"provider,omitempty"`
	ProviderType  string      `json:"provider_type,omitempty"`
	Models        []string    `json:"models,omitempty"`
	Credential    *Credential `json:"credential,omitempty"`
	RateLimitRPM  int         `json:"rate_limit_rpm"`
	TokenLimitTPM int         `json:"token_limit_tpm"`
	BudgetUSD     float64     `json:"budget_usd"`
	Enabled       bool        `json:"enabled"`
}

// key is a connection's identity in a document and in the sealed block.
func (c *Connection) key() string { return c.Owner + "/" + c.Name }

// Encode writes the document as JSON (indented) or YAML.
func (d *Document) Encode(format string) ([]byte, error) {
	switch format {
	case "", "json":
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(b, '\n'), nil
	case "yaml":
		// Through JSON, so that YAML and JSON documents have the same
		// fields (the templates' JSON Schema parameters included).
		var v any
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		var out bytes.Buffer
		enc := yaml.NewEncoder(&out)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	return nil, switchyard.Errorf(switchyard.EINVALID, "unknown export format %q: use json or yaml", format)
}

// upgrades turn a document of version v (the key) into version v+1, on its
// generic form, before it is decoded. Version 1 is the first.
var upgrades = map[int]func(map[string]any) error{}

// Decode reads a document in JSON or YAML, upgrading an older version.
// Unknown fields are refused by name.
func Decode(b []byte) (*Document, error) {
	var raw any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document is neither JSON nor YAML: %v", err)
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document must be an object with format %q, version and the items", Format)
	}
	var pr switchyard.Problems
	if f, _ := m["format"].(string); f != Format {
		pr.Add("format", "invalid", "must be %q (is this a Switchyard export?)", Format)
	}
	v, ok := m["version"].(int)
	switch {
	case !ok:
		pr.Add("version", "required", "must be the export version, a whole number (this build writes %d)", Version)
	case v > Version:
		pr.Add("version", "unsupported", "version %d was written by a newer Switchyard; this one reads up to %d: upgrade it first", v, Version)
	case v < 1:
		pr.Add("version", "unsupported", "must be between 1 and %d", Version)
	}
	if err := pr.Err("export document"); err != nil {
		return nil, err
	}
	for ; v < Version; v++ {
		if err := upgrades[v](m); err != nil {
			return nil, switchyard.Errorf(switchyard.EINVALID, "upgrading the document from version %d: %v", v, err)
		}
		m["version"] = v + 1
	}
	j, err := json.Marshal(m)
	if err != nil {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document cannot be read as JSON: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the document does not have the expected shape: %v", err)
	}
	return &d, nil
}

//go:embed schema.json
var schema []byte

// Schema returns the JSON Schema of the document version this build
// writes.
func Schema() []byte { return slices.Clone(schema) }
