package catalog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/switchyard/switchyard"
)

// InstantiateInput is what an admin supplies to make a provider from a
// template.
type InstantiateInput struct {
	// Name and Slug of the new provider; empty means the template's.
	Name string
	Slug string
	// Params are the template parameters as JSON values (strings, numbers,
	// booleans) as the API decodes them. A missing, null or empty-string
	// parameter takes the schema default, if it has one.
	Params map[string]any
	// Credential holds the secret fields of the auth method (api_key,
	// access_key_id, …). It may be empty: see Instantiate.
	Credential map[string]string
	// Models is a subset of the template's model upstream ids; empty means
	// all of them.
	Models  []string
	Enabled bool
}

// Instantiate makes a provider and its models from a template.
//
// Parameters are checked against the template's JSON Schema after schema
// defaults are applied; every bad parameter is reported as a field error
// "params.<name>" of an EINVALID *switchyard.Error. Values are substituted
// into the base URL and the auth config.
//
// Secrets: when in.Credential is empty, the provider may still be made, but
// only disabled: its "default" credential then has no secrets, and the
// caller sets them before enabling the provider. Asking for an enabled
// provider without secrets, or giving only some of the required secrets, is
// an EINVALID error naming "credentials[0].secrets.<field>".
func Instantiate(t *switchyard.ProviderTemplate, in InstantiateInput) (*switchyard.Provider, []*switchyard.Model, error) {
	var pr switchyard.Problems
	schema := t.Parameters
	if len(schema) == 0 {
		schema = json.RawMessage(`{"type":"object","additionalProperties":false}`)
	}
	sch := parseSchema(schema)
	s, err := compileSchema(schema)
	if err != nil {
		return nil, nil, &switchyard.Error{Code: switchyard.EINVALID,
			Message: fmt.Sprintf("template %s has an invalid parameter schema", t.Slug), Err: err}
	}
	params := withDefaults(sch, in.Params)
	for _, f := range paramProblems(s, sch, params, true) {
		pr.Add(f.Field, f.Code, "%s", f.Message)
	}
	if len(pr.Fields()) > 0 {
		return nil, nil, pr.Err("parameters")
	}

	values := map[string]string{}
	for k, v := range params {
		values[k] = stringify(v)
	}
	baseURL := switchyard.Substitute(t.BaseURL, values)
	var config map[string]string
	if len(t.AuthConfig) > 0 {
		config = map[string]string{}
		for k, v := range t.AuthConfig {
			config[k] = switchyard.Substitute(v, values)
		}
	}
	for _, n := range switchyard.Placeholders(baseURL) {
		pr.Add("params."+n, "required", "%s is needed by the base URL", n)
	}
	for _, k := range slices.Sorted(maps.Keys(config)) {
		for _, n := range switchyard.Placeholders(config[k]) {
			pr.Add("params."+n, "required", "%s is needed by the auth config %s", n, k)
		}
	}

	p := &switchyard.Provider{
		Name:     cmp.Or(in.Name, t.Name),
		Slug:     cmp.Or(in.Slug, t.Slug),
		Protocol: t.Protocol,
		BaseURL:  baseURL,
		Template: t.Slug,
		Params:   values,
		Enabled:  in.Enabled,
		Settings: t.Settings,
		Status:   switchyard.StatusUnknown,
	}
	if len(values) == 0 {
		p.Params = nil
	}
	if !p.Enabled {
		p.Status = switchyard.StatusDisabled
	}
	if len(t.Headers) > 0 {
		p.Headers = map[string]switchyard.Secret{}
		for k, v := range t.Headers {
			p.Headers[k] = switchyard.NewSecret(v)
		}
	}
	cred := switchyard.Credential{Name: "default", Method: t.AuthMethod, Config: config, Weight: 1,
		Status: switchyard.CredentialActive}
	if len(in.Credential) > 0 {
		cred.Secrets = map[string]switchyard.Secret{}
		for k, v := range in.Credential {
			cred.Secrets[k] = switchyard.NewSecret(v)
		}
	}
	p.Credentials = []switchyard.Credential{cred}

	noSecrets := len(in.Credential) == 0 && !p.Enabled
	for _, f := range switchyard.ErrorFields(p.Validate()) {
		if noSecrets && f.Code == "required" && strings.HasPrefix(f.Field, "credentials[0].secrets.") {
			continue // allowed: a disabled provider waiting for its secrets
		}
		if f.Code == "required" && strings.HasPrefix(f.Field, "credentials[0].secrets.") && len(in.Credential) == 0 {
			f.Message += "; give the secret, or create the provider disabled and set it later"
		}
		pr.Merge("", &switchyard.Error{Code: switchyard.EINVALID, Fields: []switchyard.FieldError{f}})
	}

	byID := map[string]switchyard.TemplateModel{}
	for _, m := range t.Models {
		byID[m.UpstreamID] = m
	}
	chosen := in.Models
	if len(chosen) == 0 {
		for _, m := range t.Models {
			chosen = append(chosen, m.UpstreamID)
		}
	}
	var models []*switchyard.Model
	seen := map[string]bool{}
	for i, id := range chosen {
		tm, ok := byID[id]
		switch {
		case !ok:
			pr.Add(fmt.Sprintf("models[%d]", i), "unknown_model", "template %s has no model %q", t.Slug, id)
			continue
		case seen[id]:
			pr.Add(fmt.Sprintf("models[%d]", i), "duplicate", "model %q is listed twice", id)
			continue
		}
		seen[id] = true
		models = append(models, modelFromTemplate(tm))
	}
	if err := pr.Err("provider"); err != nil {
		return nil, nil, err
	}
	return p, models, nil
}

// modelFromTemplate makes a model whose capabilities and pricing are marked
// as coming from the catalog.
func modelFromTemplate(tm switchyard.TemplateModel) *switchyard.Model {
	m := &switchyard.Model{
		UpstreamID:  tm.UpstreamID,
		DisplayName: tm.DisplayName,
		Aliases:     slices.Clone(tm.Aliases),
		Enabled:     true,
		Status:      switchyard.ModelUnknown,
	}
	if tm.Deprecated {
		m.Status = switchyard.ModelDeprecated
	}
	m.ApplyCapabilities(tm.Capabilities, tm.Pricing, switchyard.CapabilityFields, switchyard.SourceCatalog)
	return m
}

// SystemProvider returns the system provider of a system template: made with
// the default parameters, disabled, without secrets, with the template's slug
// and name. ok is false for a template that is not a system template or that
// has a required parameter without a default (an admin creates those through
// Instantiate).
func SystemProvider(t *switchyard.ProviderTemplate) (*switchyard.Provider, []*switchyard.Model, bool) {
	if t == nil || !t.System {
		return nil, nil, false
	}
	sch := parseSchema(t.Parameters)
	for _, name := range sch.Required {
		if p, ok := sch.Properties[name]; !ok || p.Default == nil {
			return nil, nil, false
		}
	}
	p, models, err := Instantiate(t, InstantiateInput{Name: t.Name, Slug: t.Slug})
	if err != nil {
		return nil, nil, false
	}
	p.System = true
	p.SystemType = t.SystemType
	return p, models, true
}

// withDefaults returns a copy of params in which missing, null and
// empty-string values take the schema default, normalised to JSON values.
func withDefaults(sch schemaInfo, params map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range params {
		if v == nil || v == "" {
			continue
		}
		out[k] = v
	}
	for name, p := range sch.Properties {
		if _, ok := out[name]; !ok && p.Default != nil {
			out[name] = p.Default
		}
	}
	return out
}

// paramProblems validates params against the compiled schema and returns
// one field error per bad parameter and rule, named "params.<name>", with a
// message that says what the parameter accepts.
func paramProblems(s *jsonschema.Schema, sch schemaInfo, params map[string]any, checkUnknown bool) []switchyard.FieldError {
	raw, err := json.Marshal(params)
	if err != nil {
		return []switchyard.FieldError{{Field: "params", Code: "invalid", Message: "parameters must be JSON values"}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []switchyard.FieldError{{Field: "params", Code: "invalid", Message: "parameters must be JSON values"}}
	}
	err = s.Validate(inst)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		if err != nil {
			return []switchyard.FieldError{{Field: "params", Code: "invalid", Message: "parameters could not be validated"}}
		}
		return nil
	}
	printer := message.NewPrinter(language.English)
	var out []switchyard.FieldError
	seen := map[string]bool{}
	add := func(name, code, msg string) {
		key := name + "\x00" + code
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, switchyard.FieldError{Field: "params." + name, Code: code, Message: msg})
	}
	describe := func(name string) string {
		if d := sch.Properties[name].Description; d != "" {
			return " (" + strings.TrimSuffix(d, ".") + ")"
		}
		return ""
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		if len(e.InstanceLocation) == 0 {
			switch k := e.ErrorKind.(type) {
			case *kind.Required:
				for _, n := range k.Missing {
					add(n, "required", n+" is required"+describe(n))
				}
			case *kind.AdditionalProperties:
				if !checkUnknown {
					return
				}
				known := slices.Sorted(maps.Keys(sch.Properties))
				for _, n := range k.Properties {
					add(n, "unknown_parameter", fmt.Sprintf("%s is not a parameter of this template; it takes %s", n, listOrNone(known)))
				}
			default:
				out = append(out, switchyard.FieldError{Field: "params", Code: "invalid", Message: e.ErrorKind.LocalizedString(printer)})
			}
			return
		}
		name := e.InstanceLocation[0]
		switch k := e.ErrorKind.(type) {
		case *kind.Pattern:
			add(name, "invalid_pattern", fmt.Sprintf("%s must match %s%s", name, k.Want, describe(name)))
		case *kind.Enum:
			want := make([]string, len(k.Want))
			for i, w := range k.Want {
				want[i] = stringify(w)
			}
			add(name, "invalid_enum", fmt.Sprintf("%s must be one of %s", name, strings.Join(want, ", ")))
		case *kind.Type:
			add(name, "invalid_type", fmt.Sprintf("%s must be of type %s, not %s%s", name, strings.Join(k.Want, " or "), k.Got, describe(name)))
		case *kind.Format:
			add(name, "invalid_format", fmt.Sprintf("%s must be a valid %s%s", name, k.Want, describe(name)))
		default:
			add(name, "invalid", fmt.Sprintf("%s: %s%s", name, e.ErrorKind.LocalizedString(printer), describe(name)))
		}
	}
	walk(ve)
	slices.SortStableFunc(out, func(a, b switchyard.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
