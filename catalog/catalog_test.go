package catalog

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/switchyard/switchyard"
)

func mustLoad(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

var requiredSlugs = []string{"openai", "azure-openai", "anthropic", "bedrock", "gemini", "vertex",
	"mistral", "groq", "deepseek", "xai", "together", "fireworks", "openrouter", "cohere",
	"perplexity", "cerebras", "ollama", "vllm", "lmstudio", "openai-compatible"}

// sampleParams are the parameters each template needs beyond its defaults.
var sampleParams = map[string]map[string]any{
	"azure-openai":      {"resource": "contoso-eastus"},
	"vertex":            {"project": "my-project-123"},
	"openai-compatible": {"base_url": "https://llm.example.com/v1"},
}

// sampleSecrets satisfies each auth method.
var sampleSecrets = map[switchyard.AuthMethod]map[string]string{
	switchyard.AuthAPIKey:            {"api_key": "sk-test-0123456789abcdefghij"},
	switchyard.AuthAWSSigV4:          {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "secret/example"},
	switchyard.AuthGCPServiceAccount: {"service_account_json": `{"type":"service_account"}`},
	switchyard.AuthNone:              nil,
}

func TestLoadEveryTemplate(t *testing.T) {
	c := mustLoad(t)
	if c.Version != Version || Version < 1 {
		t.Fatalf("catalog version = %d, want %d (>= 1)", c.Version, Version)
	}
	if !slices.IsSortedFunc(c.Templates, func(a, b *switchyard.ProviderTemplate) int { return strings.Compare(a.Slug, b.Slug) }) {
		t.Error("templates are not sorted by slug")
	}
	for _, tmpl := range c.Templates {
		t.Run(tmpl.Slug, func(t *testing.T) {
			if !tmpl.System || tmpl.CatalogVersion != Version {
				t.Errorf("System=%v CatalogVersion=%d", tmpl.System, tmpl.CatalogVersion)
			}
			if tmpl.SystemType != tmpl.Slug {
				t.Errorf("system_type %q, want the slug", tmpl.SystemType)
			}
			if err := ValidateTemplate(tmpl); err != nil {
				t.Errorf("ValidateTemplate: %v", err)
			}
			if tmpl.Slug != "openai-compatible" {
				// Only the whole-URL template needs the relaxed base URL rule.
				if err := tmpl.Validate(); err != nil {
					t.Errorf("Validate: %v", err)
				}
			}
			if _, err := compileSchema(tmpl.Parameters); err != nil {
				t.Errorf("schema: %v", err)
			}
			if len(tmpl.EnvVars) == 0 || tmpl.DocsURL == "" || tmpl.Description == "" {
				t.Errorf("env_vars, docs_url and description are required in the catalog")
			}
			got, ok := c.Template(tmpl.Slug)
			if !ok || got != tmpl {
				t.Errorf("Template(%q) did not find it", tmpl.Slug)
			}
		})
	}
	if _, ok := c.Template("no-such"); ok {
		t.Error("Template(no-such) found something")
	}
}

func TestCatalogInvariants(t *testing.T) {
	c := mustLoad(t)
	slugs := map[string]bool{}
	for _, tmpl := range c.Templates {
		if slugs[tmpl.Slug] {
			t.Errorf("duplicate slug %s", tmpl.Slug)
		}
		slugs[tmpl.Slug] = true
	}
	for _, s := range requiredSlugs {
		if !slugs[s] {
			t.Errorf("required template %s is missing", s)
		}
	}
	minModels := map[string]int{"openai": 8, "azure-openai": 8, "anthropic": 5, "bedrock": 8, "gemini": 5,
		"vertex": 5, "mistral": 5, "groq": 5, "openrouter": 8, "together": 5, "fireworks": 5}
	noModels := []string{"ollama", "vllm", "openai-compatible"}
	for _, tmpl := range c.Templates {
		if n := minModels[tmpl.Slug]; len(tmpl.Models) < n {
			t.Errorf("%s has %d models, want at least %d", tmpl.Slug, len(tmpl.Models), n)
		}
		if slices.Contains(noModels, tmpl.Slug) && len(tmpl.Models) != 0 {
			t.Errorf("%s lists models; its models are discovered", tmpl.Slug)
		}
		if len(tmpl.Models) > 20 {
			t.Errorf("%s lists %d models; keep the catalog curated", tmpl.Slug, len(tmpl.Models))
		}
		for _, m := range tmpl.Models {
			cp, pr := m.Capabilities, m.Pricing
			name := tmpl.Slug + "/" + m.UpstreamID
			if cp.ContextWindow <= 0 {
				t.Errorf("%s: no context window", name)
			}
			if cp.MaxOutputTokens > cp.ContextWindow {
				t.Errorf("%s: max output %d > context %d", name, cp.MaxOutputTokens, cp.ContextWindow)
			}
			for _, p := range []float64{pr.InputPerMTok, pr.OutputPerMTok, pr.CacheReadPerMTok, pr.CacheWritePerMTok} {
				if p < 0 {
					t.Errorf("%s: negative price", name)
				}
			}
			if cp.Vision != slices.Contains(cp.InputModalities, switchyard.ModalityImage) {
				t.Errorf("%s: vision does not follow image input", name)
			}
			if cp.Embeddings && (cp.Streaming || cp.Tools || cp.MaxOutputTokens != 0) {
				t.Errorf("%s: an embedding model streams, calls tools or has output tokens", name)
			}
			if m.Deprecated {
				t.Errorf("%s: the curated catalog should not list deprecated models", name)
			}
		}
	}
	openai, _ := c.Template("openai")
	var ids []string
	for _, m := range openai.Models {
		ids = append(ids, m.UpstreamID)
	}
	for _, want := range []string{"text-embedding-3-small", "text-embedding-3-large"} {
		if !slices.Contains(ids, want) {
			t.Errorf("openai lacks %s", want)
		}
	}
}

func TestTemplateShapes(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		slug       string
		protocol   switchyard.Protocol
		baseURL    string
		method     switchyard.AuthMethod
		authConfig map[string]string
		headers    map[string]string
		envVar     string
	}{
		{"openai", switchyard.ProtocolOpenAI, "https://api.openai.com/v1", switchyard.AuthAPIKey, nil, nil, "OPENAI_API_KEY"},
		{"azure-openai", switchyard.ProtocolAzureOpenAI, "https://{resource}.openai.azure.com", switchyard.AuthAPIKey, map[string]string{"header": "api-key", "prefix": ""}, nil, "AZURE_OPENAI_API_KEY"},
		{"anthropic", switchyard.ProtocolAnthropic, "https://api.anthropic.com", switchyard.AuthAPIKey, map[string]string{"header": "x-api-key", "prefix": ""}, map[string]string{"anthropic-version": "2023-06-01"}, "ANTHROPIC_API_KEY"},
		{"bedrock", switchyard.ProtocolBedrock, "https://bedrock-runtime.{region}.amazonaws.com", switchyard.AuthAWSSigV4, map[string]string{"region": "{region}", "service": "bedrock"}, nil, "AWS_SESSION_TOKEN"},
		{"gemini", switchyard.ProtocolGemini, "https://generativelanguage.googleapis.com/v1beta", switchyard.AuthAPIKey, map[string]string{"header": "x-goog-api-key", "prefix": ""}, nil, "GEMINI_API_KEY"},
		{"vertex", switchyard.ProtocolVertex, "https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}", switchyard.AuthGCPServiceAccount, map[string]string{"scopes": "https://www.googleapis.com/auth/cloud-platform"}, nil, "GOOGLE_CLOUD_PROJECT"},
		{"cohere", switchyard.ProtocolOpenAICompatible, "https://api.cohere.ai/compatibility/v1", switchyard.AuthAPIKey, nil, nil, "COHERE_API_KEY"},
		{"ollama", switchyard.ProtocolOllama, "http://{host}", switchyard.AuthNone, nil, nil, "OLLAMA_HOST"},
		{"vllm", switchyard.ProtocolOpenAICompatible, "http://{host}/v1", switchyard.AuthNone, nil, nil, "VLLM_API_KEY"},
		{"lmstudio", switchyard.ProtocolOpenAICompatible, "http://{host}/v1", switchyard.AuthNone, nil, nil, "LMSTUDIO_API_KEY"},
		{"openai-compatible", switchyard.ProtocolOpenAICompatible, "{base_url}", switchyard.AuthAPIKey, nil, nil, "OPENAI_API_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			tmpl, ok := c.Template(tt.slug)
			if !ok {
				t.Fatal("missing")
			}
			if tmpl.Protocol != tt.protocol || tmpl.BaseURL != tt.baseURL || tmpl.AuthMethod != tt.method {
				t.Errorf("got %s %s %s", tmpl.Protocol, tmpl.BaseURL, tmpl.AuthMethod)
			}
			if len(tmpl.AuthConfig) != len(tt.authConfig) {
				t.Errorf("auth_config = %v, want %v", tmpl.AuthConfig, tt.authConfig)
			}
			for k, v := range tt.authConfig {
				if got, ok := tmpl.AuthConfig[k]; !ok || got != v {
					t.Errorf("auth_config[%s] = %q, want %q", k, got, v)
				}
			}
			for k, v := range tt.headers {
				if tmpl.Headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, tmpl.Headers[k], v)
				}
			}
			if !slices.Contains(tmpl.EnvVars, tt.envVar) {
				t.Errorf("env_vars %v lack %s", tmpl.EnvVars, tt.envVar)
			}
		})
	}
}

func TestParseTemplateRejectsUnknownFields(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown top-level key", "slug: x\nname: X\nprotocol: openai\nbase_url: https://x\nauth_method: none\nregion: us\n", "region"},
		{"unknown capability", "slug: x\nmodels:\n  - upstream_id: m\n    capabilities:\n      context: 5\n", "context"},
		{"unknown pricing key", "slug: x\nmodels:\n  - upstream_id: m\n    pricing:\n      input: 1\n", "input"},
		{"wrong type", "slug: x\nenv_vars: FOO\n", "env_vars"},
		{"two documents", "slug: x\n---\nslug: y\n", "one YAML document"},
		{"empty", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTemplate([]byte(tt.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) && !strings.Contains(err.Error(), "!!str") {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestLoadRejectsBadTemplates(t *testing.T) {
	good := "name: X\ndescription: d\nprotocol: openai_compatible\nauth_method: api_key\ndocs_url: https://x\nenv_vars: [X_KEY]\nmodels: []\n"
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"slug differs from file", map[string]string{"t/a.yaml": "slug: b\nsystem_type: b\nbase_url: https://x\n" + good}, "does not match"},
		{"placeholder without pattern", map[string]string{"t/a.yaml": "slug: a\nsystem_type: a\nbase_url: https://{host}/v1\nparameters:\n  type: object\n  properties:\n    host: {type: string, default: h}\n" + good}, "needs a strict pattern"},
		{"bad default", map[string]string{"t/a.yaml": "slug: a\nsystem_type: a\nbase_url: https://{host}/v1\nparameters:\n  type: object\n  properties:\n    host: {type: string, pattern: '^[a-z]+$', default: 'a.b'}\n" + good}, "invalid_default"},
		{"bad schema", map[string]string{"t/a.yaml": "slug: a\nsystem_type: a\nbase_url: https://x\nparameters:\n  type: object\n  properties:\n    p: {type: 5}\n" + good}, "JSON Schema"},
		{"max output over context", map[string]string{"t/a.yaml": "slug: a\nsystem_type: a\nbase_url: https://x\nname: X\ndescription: d\nprotocol: openai_compatible\nauth_method: api_key\nmodels:\n  - upstream_id: m\n    capabilities: {context_window: 10, max_output_tokens: 20}\n"}, "max_output_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, d := range tt.files {
				fsys[n] = &fstest.MapFile{Data: []byte(d)}
			}
			_, err := load(fsys, "t")
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) && !hasField(err, tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func hasField(err error, code string) bool {
	for _, f := range switchyard.ErrorFields(err) {
		if f.Code == code || strings.Contains(f.Field, code) {
			return true
		}
	}
	return false
}
