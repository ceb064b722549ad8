package switchyard

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// ProviderTemplate is a recipe for a provider. System templates ship with
// the binary (the built-in catalog); admins create custom ones.
// Instantiating a template with parameters yields a provider and its models.
type ProviderTemplate struct {
	ID          string   `json:"id"`
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Protocol    Protocol `json:"protocol"`
	// BaseURL may hold {param} placeholders, such as
	// "https://{resource}.openai.azure.com".
	BaseURL    string     `json:"base_url"`
	AuthMethod AuthMethod `json:"auth_method"`
	// AuthConfig is the credential config the template presets; values may
	// hold {param} placeholders.
	AuthConfig map[string]string `json:"auth_config"`
	// Parameters is a JSON Schema (type object) of the template parameters.
	Parameters json.RawMessage `json:"parameters"`
	// Headers are default, non-secret request headers.
	Headers  map[string]string `json:"headers"`
	Settings ProviderSettings  `json:"settings"`
	Models   []TemplateModel   `json:"models"`
	// DocsURL links to the provider's documentation.
	DocsURL string `json:"docs_url"`
	// EnvVars are the environment variables users of this provider commonly
	// set (OPENAI_API_KEY…), used when migrating a hardcoded configuration.
	EnvVars []string `json:"env_vars"`
	// SystemType is the built-in provider type the template stands for
	// (system templates only).
	SystemType string `json:"system_type"`
	System     bool   `json:"system"`
	// CatalogVersion is the built-in catalog version a system template came
	// from; a newer binary updates templates with an older version.
	CatalogVersion int       `json:"catalog_version"`
	Version        int64     `json:"version"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// TemplateModel is a model a template adds to the providers made from it.
type TemplateModel struct {
	UpstreamID   string       `json:"upstream_id"`
	DisplayName  string       `json:"display_name,omitempty"`
	Aliases      []string     `json:"aliases,omitempty"`
	Capabilities Capabilities `json:"capabilities"`
	Pricing      Pricing      `json:"pricing"`
	Deprecated   bool         `json:"deprecated,omitempty"`
}

var placeholderRE = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// envVarRE matches a portable environment variable name.
var envVarRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// Placeholders returns the {param} names used in s, in order of appearance.
func Placeholders(s string) []string {
	var names []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return names
}

// Substitute replaces {param} placeholders in s with values from params;
// unknown placeholders are left as they are.
func Substitute(s string, params map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := params[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// ParameterNames returns the property names declared by the template's
// parameter schema.
func (t *ProviderTemplate) ParameterNames() []string {
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal(t.Parameters, &schema)
	return sortedKeys(schema.Properties)
}

// sampleParams gives each declared parameter its default, else its first
// example, else "x", to check that the base URL is well formed once filled.
func (t *ProviderTemplate) sampleParams() map[string]string {
	var schema struct {
		Properties map[string]struct {
			Default  any   `json:"default"`
			Examples []any `json:"examples"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(t.Parameters, &schema)
	out := make(map[string]string, len(schema.Properties))
	for n, p := range schema.Properties {
		v := any("x")
		switch {
		case p.Default != nil:
			v = p.Default
		case len(p.Examples) > 0:
			v = p.Examples[0]
		}
		out[n] = fmt.Sprint(v)
	}
	return out
}

// Validate checks the template's own fields. The parameter schema is checked
// to be a JSON object declaring every placeholder; compiling it as JSON
// Schema is left to the catalog package.
func (t *ProviderTemplate) Validate() error {
	var pr Problems
	validateName(&pr, "name", t.Name)
	if !ValidSlug(t.Slug) {
		pr.Add("slug", "invalid_slug", "must be 1-64 lower-case letters, digits and inner hyphens, such as \"my-gateway\"")
	}
	if !t.Protocol.Valid() {
		pr.Add("protocol", "invalid_enum", "must be one of %s", joinProtocols())
	}
	if _, ok := AuthMethods[t.AuthMethod]; !ok {
		pr.Add("auth_method", "invalid_enum", "must be one of %s", joinMethods())
	}
	declared := map[string]bool{}
	if len(t.Parameters) > 0 {
		var schema map[string]any
		if err := json.Unmarshal(t.Parameters, &schema); err != nil {
			pr.Add("parameters", "invalid_json", "must be a JSON Schema object")
		} else if typ, ok := schema["type"]; ok && typ != "object" {
			pr.Add("parameters.type", "invalid_schema", "must be \"object\"")
		}
		for _, n := range t.ParameterNames() {
			declared[n] = true
			if !paramNameRE.MatchString(n) {
				pr.Add("parameters.properties."+n, "invalid_name", "parameter names are lower-case letters, digits and underscores")
			}
		}
	}
	check := func(field, value string) {
		for _, n := range Placeholders(value) {
			if !declared[n] {
				pr.Add(field, "undeclared_parameter", "uses {%s}, which the parameters schema does not declare", n)
			}
		}
	}
	check("base_url", t.BaseURL)
	sample := t.sampleParams()
	if err := ValidateBaseURL(Substitute(t.BaseURL, sample)); err != nil {
		pr.Add("base_url", "invalid_url", "%s", ErrorMessage(err))
	}
	for _, k := range sortedKeys(t.AuthConfig) {
		check("auth_config."+k, t.AuthConfig[k])
	}
	validateHeaders(&pr, "headers", sortedKeys(t.Headers))
	pr.Merge("settings", t.Settings.Validate())
	if t.System && t.SystemType == "" {
		pr.Add("system_type", "required", "a system template names the built-in type it stands for")
	}
	seen := map[string]bool{}
	for i, m := range t.Models {
		prefix := "models[" + itoa(i) + "]"
		model := Model{UpstreamID: m.UpstreamID, DisplayName: m.DisplayName, Aliases: m.Aliases, Capabilities: m.Capabilities, Pricing: m.Pricing}
		pr.Merge(prefix, model.Validate())
		if seen[m.UpstreamID] {
			pr.Add(prefix+".upstream_id", "duplicate", "model %q is listed twice", m.UpstreamID)
		}
		seen[m.UpstreamID] = true
	}
	for i, e := range t.EnvVars {
		if !envVarRE.MatchString(e) {
			pr.Add("env_vars["+itoa(i)+"]", "invalid_name", "must be an environment variable name: upper-case letters, digits and underscores, not starting with a digit")
		}
	}
	return pr.Err("template")
}
