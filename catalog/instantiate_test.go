package catalog

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

func TestInstantiateEveryTemplate(t *testing.T) {
	c := mustLoad(t)
	for _, tmpl := range c.Templates {
		t.Run(tmpl.Slug, func(t *testing.T) {
			secrets, ok := sampleSecrets[tmpl.AuthMethod]
			if !ok {
				t.Fatalf("no sample secrets for %s", tmpl.AuthMethod)
			}
			p, models, err := Instantiate(tmpl, InstantiateInput{
				Name: "Test " + tmpl.Name, Slug: "test-" + tmpl.Slug,
				Params: sampleParams[tmpl.Slug], Credential: secrets, Enabled: true,
			})
			if err != nil {
				t.Fatalf("Instantiate: %v", err)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("provider does not validate: %v", err)
			}
			if p.Template != tmpl.Slug || p.Protocol != tmpl.Protocol || !p.Enabled || p.System {
				t.Errorf("provider = template %q protocol %q enabled %v system %v", p.Template, p.Protocol, p.Enabled, p.System)
			}
			if len(switchyard.Placeholders(p.BaseURL)) > 0 {
				t.Errorf("base URL %q keeps placeholders", p.BaseURL)
			}
			if len(p.Credentials) != 1 || p.Credentials[0].Name != "default" || p.Credentials[0].Method != tmpl.AuthMethod {
				t.Fatalf("credentials = %+v", p.Credentials)
			}
			for k, v := range p.Credentials[0].Config {
				if len(switchyard.Placeholders(v)) > 0 {
					t.Errorf("auth config %s = %q keeps placeholders", k, v)
				}
			}
			for k, v := range tmpl.Headers {
				if p.Headers[k].Reveal() != v {
					t.Errorf("header %s not copied", k)
				}
			}
			if len(models) != len(tmpl.Models) {
				t.Fatalf("%d models, want %d", len(models), len(tmpl.Models))
			}
			for i, m := range models {
				tm := tmpl.Models[i]
				if m.UpstreamID != tm.UpstreamID || m.DisplayName != tm.DisplayName || !m.Enabled || m.Status != switchyard.ModelUnknown {
					t.Errorf("model %d = %+v", i, m)
				}
				if m.Capabilities.ContextWindow != tm.Capabilities.ContextWindow || m.Pricing != tm.Pricing {
					t.Errorf("%s: capabilities or pricing not copied", m.UpstreamID)
				}
				for _, f := range switchyard.CapabilityFields {
					if m.SourceOf(f) != switchyard.SourceCatalog {
						t.Errorf("%s: source of %s = %s", m.UpstreamID, f, m.SourceOf(f))
					}
				}
				if err := m.Validate(); err != nil {
					t.Errorf("%s: %v", m.UpstreamID, err)
				}
			}
		})
	}
}

func TestInstantiateSubstitutesAndDefaults(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		slug       string
		params     map[string]any
		baseURL    string
		wantParams map[string]string
		authConfig map[string]string
	}{
		{"azure-openai", map[string]any{"resource": "contoso"}, "https://contoso.openai.azure.com",
			map[string]string{"resource": "contoso", "api_version": "2024-10-21"}, map[string]string{"header": "api-key", "prefix": ""}},
		{"azure-openai", map[string]any{"resource": "contoso", "api_version": "2025-04-01-preview"}, "https://contoso.openai.azure.com",
			map[string]string{"resource": "contoso", "api_version": "2025-04-01-preview"}, nil},
		{"bedrock", nil, "https://bedrock-runtime.us-east-1.amazonaws.com",
			map[string]string{"region": "us-east-1"}, map[string]string{"region": "us-east-1", "service": "bedrock"}},
		{"bedrock", map[string]any{"region": "eu-central-1"}, "https://bedrock-runtime.eu-central-1.amazonaws.com",
			map[string]string{"region": "eu-central-1"}, map[string]string{"region": "eu-central-1", "service": "bedrock"}},
		{"bedrock", map[string]any{"region": ""}, "https://bedrock-runtime.us-east-1.amazonaws.com",
			map[string]string{"region": "us-east-1"}, nil},
		{"vertex", map[string]any{"project": "acme-prod"}, "https://us-central1-aiplatform.googleapis.com/v1/projects/acme-prod/locations/us-central1",
			map[string]string{"project": "acme-prod", "location": "us-central1"}, nil},
		{"vertex", map[string]any{"project": "acme-prod", "location": "europe-west4"}, "https://europe-west4-aiplatform.googleapis.com/v1/projects/acme-prod/locations/europe-west4",
			map[string]string{"project": "acme-prod", "location": "europe-west4"}, nil},
		{"ollama", nil, "http://localhost:11434", map[string]string{"host": "localhost:11434"}, nil},
		{"ollama", map[string]any{"host": "10.0.0.5:11434"}, "http://10.0.0.5:11434", map[string]string{"host": "10.0.0.5:11434"}, nil},
		{"vllm", nil, "http://localhost:8000/v1", map[string]string{"host": "localhost:8000"}, nil},
		{"lmstudio", nil, "http://localhost:1234/v1", map[string]string{"host": "localhost:1234"}, nil},
		{"openai-compatible", map[string]any{"base_url": "https://gw.example.com:8443/openai/v1"}, "https://gw.example.com:8443/openai/v1",
			map[string]string{"base_url": "https://gw.example.com:8443/openai/v1"}, nil},
		{"openai", nil, "https://api.openai.com/v1", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			tmpl, _ := c.Template(tt.slug)
			p, _, err := Instantiate(tmpl, InstantiateInput{Params: tt.params})
			if err != nil {
				t.Fatalf("Instantiate: %v", err)
			}
			if p.BaseURL != tt.baseURL {
				t.Errorf("base URL = %q, want %q", p.BaseURL, tt.baseURL)
			}
			if len(p.Params) != len(tt.wantParams) {
				t.Errorf("params = %v, want %v", p.Params, tt.wantParams)
			}
			for k, v := range tt.wantParams {
				if p.Params[k] != v {
					t.Errorf("params[%s] = %q, want %q", k, p.Params[k], v)
				}
			}
			for k, v := range tt.authConfig {
				if got, ok := p.Credentials[0].Config[k]; !ok || got != v {
					t.Errorf("config[%s] = %q, want %q", k, got, v)
				}
			}
			if p.Name != tmpl.Name || p.Slug != tmpl.Slug {
				t.Errorf("name/slug default to the template's; got %q %q", p.Name, p.Slug)
			}
		})
	}
}

func TestInstantiateNamesBadParameters(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		slug   string
		params map[string]any
		want   map[string]string // field → code
	}{
		{"azure-openai", nil, map[string]string{"params.resource": "required"}},
		{"azure-openai", map[string]any{"resource": "Bad_Name", "api_version": "latest"},
			map[string]string{"params.resource": "invalid_pattern", "params.api_version": "invalid_pattern"}},
		{"azure-openai", map[string]any{"resource": "ok", "colour": "blue"}, map[string]string{"params.colour": "unknown_parameter"}},
		{"vertex", map[string]any{"location": "global"}, map[string]string{"params.project": "required", "params.location": "invalid_pattern"}},
		{"bedrock", map[string]any{"region": 5}, map[string]string{"params.region": "invalid_type"}},
		{"openai-compatible", map[string]any{"base_url": "ftp://x"}, map[string]string{"params.base_url": "invalid_pattern"}},
		{"openai", map[string]any{"region": "x"}, map[string]string{"params.region": "unknown_parameter"}},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			tmpl, _ := c.Template(tt.slug)
			_, _, err := Instantiate(tmpl, InstantiateInput{Params: tt.params})
			if switchyard.ErrorCode(err) != switchyard.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			got := map[string]string{}
			for _, f := range switchyard.ErrorFields(err) {
				got[f.Field] = f.Code
				name := strings.TrimPrefix(f.Field, "params.")
				if !strings.Contains(f.Message, name) {
					t.Errorf("message %q does not name %s", f.Message, name)
				}
			}
			for field, code := range tt.want {
				if got[field] != code {
					t.Errorf("%s: code %q, want %q (all: %v)", field, got[field], code, got)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInstantiateMessageSaysWhatIsAccepted(t *testing.T) {
	c := mustLoad(t)
	tmpl, _ := c.Template("azure-openai")
	_, _, err := Instantiate(tmpl, InstantiateInput{Params: map[string]any{"resource": "a/b"}})
	f := switchyard.ErrorFields(err)
	if len(f) != 1 || !strings.Contains(f[0].Message, "must match ^[a-z0-9]") || !strings.Contains(f[0].Message, "resource name") {
		t.Errorf("fields = %+v", f)
	}
}

// injections are values that would change the host, add credentials, a
// query or a fragment, or break out of the URL if substituted as they are.
var injections = []any{
	"evil.com/x#", "evil.com/", "a@evil.com", "x?y=1", "x#frag", "evil.com:80@x", "x y", "x\nHost: evil",
	"../../etc", "%2F%2Fevil", "x/../y", "http://evil.com", "x\\evil", "", " x", "x.evil.com/",
	"[::1]", "x:99999999", "evil.com#", "-x", 42, true, 1.5, []any{"a"}, map[string]any{"a": "b"},
}

func TestInstantiateRejectsInjection(t *testing.T) {
	c := mustLoad(t)
	for _, tmpl := range c.Templates {
		for _, name := range tmpl.ParameterNames() {
			for _, bad := range injections {
				params := map[string]any{}
				for k, v := range sampleParams[tmpl.Slug] {
					params[k] = v
				}
				params[name] = bad
				if bad == "http://evil.com" && parseSchema(tmpl.Parameters).Properties[name].Format == "uri" {
					continue // a whole base URL is this parameter's purpose; TestGenericBaseURL covers it
				}
				p, _, err := Instantiate(tmpl, InstantiateInput{Params: params})
				if bad == "" {
					// Empty means "use the default"; only required
					// parameters without a default may fail.
					if err == nil {
						assertSafeURL(t, tmpl, p)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: %s=%q accepted (base URL %q)", tmpl.Slug, name, bad, p.BaseURL)
					continue
				}
				found := false
				for _, f := range switchyard.ErrorFields(err) {
					if f.Field == "params."+name && strings.Contains(f.Message, name) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: %s=%q: error does not name params.%s: %v", tmpl.Slug, name, bad, name, err)
				}
			}
		}
	}
}

// The generic template's base_url is a URL by design; what must not get
// through is user information, a query or a fragment.
func TestGenericBaseURL(t *testing.T) {
	c := mustLoad(t)
	tmpl, _ := c.Template("openai-compatible")
	for _, bad := range []string{"https://user:pw@x.com/v1", "https://x.com/v1?key=1", "https://x.com/v1#f", "https://x.com/v 1", "javascript:alert(1)", "https://", "//x.com"} {
		if _, _, err := Instantiate(tmpl, InstantiateInput{Params: map[string]any{"base_url": bad}}); err == nil {
			t.Errorf("base_url %q accepted", bad)
		}
	}
	for _, good := range []string{"https://x.com", "http://10.0.0.1:4000/v1", "https://llm.internal.example.com/api/openai/v1"} {
		if _, _, err := Instantiate(tmpl, InstantiateInput{Params: map[string]any{"base_url": good}}); err != nil {
			t.Errorf("base_url %q rejected: %v", good, err)
		}
	}
}

func assertSafeURL(t *testing.T, tmpl *switchyard.ProviderTemplate, p *switchyard.Provider) {
	t.Helper()
	u, err := url.Parse(p.BaseURL)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		t.Errorf("%s: unsafe base URL %q", tmpl.Slug, p.BaseURL)
	}
}

func TestInstantiateSecrets(t *testing.T) {
	c := mustLoad(t)
	openai, _ := c.Template("openai")
	bedrock, _ := c.Template("bedrock")
	ollama, _ := c.Template("ollama")

	t.Run("disabled without secrets is allowed", func(t *testing.T) {
		p, _, err := Instantiate(openai, InstantiateInput{Enabled: false})
		if err != nil {
			t.Fatalf("Instantiate: %v", err)
		}
		if p.Enabled || p.Status != switchyard.StatusDisabled || len(p.Credentials[0].Secrets) != 0 {
			t.Errorf("provider = enabled %v status %s secrets %v", p.Enabled, p.Status, p.Credentials[0].Secrets)
		}
		// It validates while disabled; enabling it needs the secret.
		if err := p.Validate(); err != nil {
			t.Errorf("Validate of the disabled provider = %v", err)
		}
		p.Enabled = true
		if err := p.Validate(); !hasFieldNamed(err, "credentials[0].secrets.api_key") {
			t.Errorf("Validate of the enabled provider = %v, want the missing api_key named", err)
		}
	})
	t.Run("enabled without secrets is refused", func(t *testing.T) {
		_, _, err := Instantiate(openai, InstantiateInput{Enabled: true})
		if !hasFieldNamed(err, "credentials[0].secrets.api_key") {
			t.Errorf("err = %v, want credentials[0].secrets.api_key", err)
		}
	})
	t.Run("partial secrets are refused even when disabled", func(t *testing.T) {
		_, _, err := Instantiate(bedrock, InstantiateInput{Credential: map[string]string{"access_key_id": "AKIA"}})
		if !hasFieldNamed(err, "credentials[0].secrets.secret_access_key") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown secret is refused", func(t *testing.T) {
		_, _, err := Instantiate(openai, InstantiateInput{Credential: map[string]string{"api_key": "sk-x", "token": "t"}})
		if !hasFieldNamed(err, "credentials[0].secrets.token") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("auth none needs nothing", func(t *testing.T) {
		p, _, err := Instantiate(ollama, InstantiateInput{Enabled: true})
		if err != nil || !p.Enabled || p.Validate() != nil {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("secrets never appear in output", func(t *testing.T) {
		const key = "sk-proj-SECRETSECRETSECRET1234"
		p, _, err := Instantiate(openai, InstantiateInput{Credential: map[string]string{"api_key": key}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if p.Credentials[0].Secrets["api_key"].Reveal() != key {
			t.Error("secret not stored")
		}
		b, _ := json.Marshal(p)
		if strings.Contains(string(b), key) {
			t.Error("secret leaked into JSON")
		}
	})
}

func TestInstantiateModelSubset(t *testing.T) {
	c := mustLoad(t)
	openai, _ := c.Template("openai")
	_, models, err := Instantiate(openai, InstantiateInput{Models: []string{"gpt-4o-mini", "text-embedding-3-small"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 2 || models[0].UpstreamID != "gpt-4o-mini" || !models[1].Capabilities.Embeddings {
		t.Errorf("models = %v", models)
	}
	_, _, err = Instantiate(openai, InstantiateInput{Models: []string{"gpt-4o-mini", "nope", "gpt-4o-mini"}})
	if !hasFieldNamed(err, "models[1]") || !hasFieldNamed(err, "models[2]") {
		t.Errorf("err = %v", err)
	}
	// Instantiated models are independent copies of the template's.
	_, models, _ = Instantiate(openai, InstantiateInput{})
	models[0].Capabilities.InputModalities[0] = "changed"
	if openai.Models[0].Capabilities.InputModalities[0] == "changed" {
		t.Error("model shares its modalities slice with the template")
	}
}

func TestSystemProvider(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		slug string
		ok   bool
	}{
		{"openai", true}, {"anthropic", true}, {"bedrock", true}, {"gemini", true}, {"ollama", true},
		{"vllm", true}, {"lmstudio", true}, {"mistral", true},
		{"azure-openai", false}, {"vertex", false}, {"openai-compatible", false},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			tmpl, _ := c.Template(tt.slug)
			p, models, ok := SystemProvider(tmpl)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if !p.System || p.SystemType != tt.slug || p.Enabled || p.Slug != tt.slug || p.Name != tmpl.Name || p.Template != tt.slug {
				t.Errorf("provider = %+v", p)
			}
			if len(models) != len(tmpl.Models) {
				t.Errorf("%d models, want %d", len(models), len(tmpl.Models))
			}
			// With its secrets set, the system provider validates.
			p.Credentials[0].Secrets = map[string]switchyard.Secret{}
			for k, v := range sampleSecrets[tmpl.AuthMethod] {
				p.Credentials[0].Secrets[k] = switchyard.NewSecret(v)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
	// Every template that has no required parameter without a default gets one.
	for _, tmpl := range c.Templates {
		_, _, ok := SystemProvider(tmpl)
		want := !slices.Contains([]string{"azure-openai", "vertex", "openai-compatible"}, tmpl.Slug)
		if ok != want {
			t.Errorf("%s: SystemProvider ok = %v, want %v", tmpl.Slug, ok, want)
		}
	}
	custom := *c.Templates[0]
	custom.System = false
	if _, _, ok := SystemProvider(&custom); ok {
		t.Error("a custom template got a system provider")
	}
}

func TestInstantiateCustomTemplateWithoutParameters(t *testing.T) {
	tmpl := &switchyard.ProviderTemplate{Slug: "corp", Name: "Corp gateway", Protocol: switchyard.ProtocolOpenAICompatible,
		BaseURL: "https://llm.corp.example/v1", AuthMethod: switchyard.AuthBearer}
	p, models, err := Instantiate(tmpl, InstantiateInput{Credential: map[string]string{"token": "t0k3n"}, Enabled: true})
	if err != nil || p.BaseURL != tmpl.BaseURL || len(models) != 0 || p.Params != nil {
		t.Fatalf("p = %+v, err = %v", p, err)
	}
	_, _, err = Instantiate(tmpl, InstantiateInput{Params: map[string]any{"x": "y"}})
	if !hasFieldNamed(err, "params.x") {
		t.Errorf("err = %v", err)
	}
	// A system-less template never gets a system provider.
	if _, _, ok := SystemProvider(tmpl); ok {
		t.Error("custom template got a system provider")
	}
}

func hasFieldNamed(err error, field string) bool {
	for _, f := range switchyard.ErrorFields(err) {
		if f.Field == field {
			return true
		}
	}
	return false
}
