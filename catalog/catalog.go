// Package catalog holds the built-in catalog of system provider templates
// (embedded YAML files under templates/) and turns a template plus
// parameters into a provider and its models.
package catalog

//go:generate go run ./internal/gen -ref ../../shared/reference/models-dev-providers.json -dir templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchyard/switchyard"
)

// Version is the catalog version every system template carries as
// CatalogVersion. Raise it whenever a template file changes, so that a newer
// binary updates the system templates stored by an older one.
const Version = 1

//go:embed templates/*.yaml
var templateFS embed.FS

// Catalog is the parsed, validated built-in catalog.
type Catalog struct {
	Version int
	// Templates are sorted by slug.
	Templates []*switchyard.ProviderTemplate
}

// Template returns the template with the given slug.
func (c *Catalog) Template(slug string) (*switchyard.ProviderTemplate, bool) {
	i, ok := slices.BinarySearchFunc(c.Templates, slug, func(t *switchyard.ProviderTemplate, s string) int {
		return strings.Compare(t.Slug, s)
	})
	if !ok {
		return nil, false
	}
	return c.Templates[i], true
}

// Load parses and validates every embedded template. Each call returns fresh
// values that the caller may change.
func Load() (*Catalog, error) {
	return load(templateFS, "templates")
}

func load(fsys fs.FS, dir string) (*Catalog, error) {
	names, err := fs.Glob(fsys, dir+"/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	c := &Catalog{Version: Version}
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		t, err := ParseTemplate(data)
		if err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", name, err)
		}
		t.System = true
		t.CatalogVersion = Version
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); t.Slug != want {
			return nil, fmt.Errorf("catalog: %s: slug %q does not match the file name", name, t.Slug)
		}
		if other, dup := seen[t.Slug]; dup {
			return nil, fmt.Errorf("catalog: %s: slug %q is also used by %s", name, t.Slug, other)
		}
		seen[t.Slug] = name
		if err := ValidateTemplate(t); err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", name, err)
		}
		c.Templates = append(c.Templates, t)
	}
	slices.SortFunc(c.Templates, func(a, b *switchyard.ProviderTemplate) int { return strings.Compare(a.Slug, b.Slug) })
	return c, nil
}

// ValidateTemplate checks a template as the catalog needs it: the domain
// rules of (*switchyard.ProviderTemplate).Validate, a parameter schema that
// compiles as JSON Schema with defaults that satisfy it, and a pattern (or
// enum, or a non-string type) on every parameter substituted into the base
// URL or the auth config, so that no value can inject into a URL.
//
// One domain rule is relaxed: Validate checks the base URL with every
// placeholder replaced by "x", which rejects templates whose whole base URL
// is a parameter ("{base_url}"). Here such a base URL is checked with each
// parameter's default or first example instead.
func ValidateTemplate(t *switchyard.ProviderTemplate) error {
	var pr switchyard.Problems
	for _, f := range switchyard.ErrorFields(t.Validate()) {
		if f.Field == "base_url" && f.Code == "invalid_url" && sampleURLValid(t) {
			continue
		}
		pr.Merge("", &switchyard.Error{Code: switchyard.EINVALID, Fields: []switchyard.FieldError{f}})
	}
	if len(t.Parameters) > 0 {
		s, err := compileSchema(t.Parameters)
		if err != nil {
			pr.Add("parameters", "invalid_schema", "is not a valid JSON Schema: %v", err)
		} else {
			sch := parseSchema(t.Parameters)
			defaults := map[string]any{}
			for name, p := range sch.Properties {
				if p.Default != nil {
					defaults[name] = p.Default
				}
			}
			for _, f := range paramProblems(s, sch, defaults, false) {
				if f.Code == "required" {
					continue // only the defaults given are checked here
				}
				pr.Add("parameters.properties."+strings.TrimPrefix(f.Field, "params.")+".default", "invalid_default", "%s", f.Message)
			}
			used := switchyard.Placeholders(t.BaseURL)
			for _, v := range t.AuthConfig {
				used = append(used, switchyard.Placeholders(v)...)
			}
			slices.Sort(used)
			for _, name := range slices.Compact(used) {
				p, ok := sch.Properties[name]
				if !ok {
					continue // reported by Validate
				}
				if p.Pattern == "" && len(p.Enum) == 0 && (p.Type == "" || p.Type == "string") {
					pr.Add("parameters.properties."+name, "missing_pattern", "is substituted into the base URL or auth config and needs a strict pattern or enum")
				}
			}
		}
	}
	return pr.Err("template " + t.Slug)
}

func sampleURLValid(t *switchyard.ProviderTemplate) bool {
	sch := parseSchema(t.Parameters)
	sample := map[string]string{}
	for name, p := range sch.Properties {
		switch {
		case p.Default != nil:
			sample[name] = stringify(p.Default)
		case len(p.Examples) > 0:
			sample[name] = stringify(p.Examples[0])
		default:
			sample[name] = "x"
		}
	}
	return switchyard.ValidateBaseURL(switchyard.Substitute(t.BaseURL, sample)) == nil
}

// schemaInfo is the part of a parameter schema the catalog reads itself.
type schemaInfo struct {
	Required   []string                `json:"required"`
	Properties map[string]propertyInfo `json:"properties"`
}

type propertyInfo struct {
	Type        any    `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Pattern     string `json:"pattern"`
	Format      string `json:"format"`
	Enum        []any  `json:"enum"`
	Default     any    `json:"default"`
	Examples    []any  `json:"examples"`
}

func parseSchema(raw json.RawMessage) schemaInfo {
	var s schemaInfo
	_ = json.Unmarshal(raw, &s)
	return s
}

func compileSchema(raw json.RawMessage) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const loc = "urn:switchyard:template-parameters"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// stringify turns a JSON parameter value into the string substituted into
// URLs and stored in Provider.Params.
func stringify(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
