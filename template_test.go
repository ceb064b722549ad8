package switchyard_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

func validTemplate() *switchyard.ProviderTemplate {
	return &switchyard.ProviderTemplate{
		Slug:       "azure-openai",
		Name:       "Azure OpenAI",
		Protocol:   switchyard.ProtocolAzureOpenAI,
		BaseURL:    "https://{resource}.openai.azure.com/openai",
		AuthMethod: switchyard.AuthAPIKey,
		AuthConfig: map[string]string{"header": "api-key", "prefix": ""},
		Parameters: json.RawMessage(`{"type":"object","required":["resource"],"properties":{
			"resource":{"type":"string","examples":["my-resource"]},
			"api_version":{"type":"string","default":"2024-10-21"}}}`),
		Headers:  map[string]string{"X-Client": "switchyard"},
		Settings: switchyard.ProviderSettings{TimeoutMS: 30000},
		Models: []switchyard.TemplateModel{
			{UpstreamID: "gpt-4o-mini", Aliases: []string{"mini"}, Capabilities: switchyard.Capabilities{ContextWindow: 128000, MaxOutputTokens: 16384}},
			{UpstreamID: "gpt-4o"},
		},
		EnvVars:    []string{"AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"},
		SystemType: "azure-openai",
		System:     true,
	}
}

func TestProviderTemplateValidate(t *testing.T) {
	params := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name   string
		mutate func(tp *switchyard.ProviderTemplate)
		want   []problem
	}{
		{"valid", func(*switchyard.ProviderTemplate) {}, nil},
		{"name required", func(tp *switchyard.ProviderTemplate) { tp.Name = "" }, []problem{{"name", "required"}}},
		{"name whitespace", func(tp *switchyard.ProviderTemplate) { tp.Name = "Azure " }, []problem{{"name", "whitespace"}}},
		{"slug invalid", func(tp *switchyard.ProviderTemplate) { tp.Slug = "Azure_OpenAI" }, []problem{{"slug", "invalid_slug"}}},
		{"protocol invalid", func(tp *switchyard.ProviderTemplate) { tp.Protocol = "azure" }, []problem{{"protocol", "invalid_enum"}}},
		{"auth method invalid", func(tp *switchyard.ProviderTemplate) { tp.AuthMethod = "basic" }, []problem{{"auth_method", "invalid_enum"}}},

		// parameters and placeholders
		{"undeclared base url placeholder", func(tp *switchyard.ProviderTemplate) {
			tp.BaseURL = "https://{resource}.{region}.example.com"
		}, []problem{{"base_url", "undeclared_parameter"}, {"base_url", "invalid_url"}}},
		{"placeholders without a schema", func(tp *switchyard.ProviderTemplate) { tp.Parameters = nil },
			[]problem{{"base_url", "undeclared_parameter"}, {"base_url", "invalid_url"}}},
		{"no placeholders and no schema", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters, tp.BaseURL = nil, "https://api.openai.com/v1"
		}, nil},
		{"parameters not JSON", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters, tp.BaseURL = params(`{"type":`), "https://api.openai.com/v1"
		}, []problem{{"parameters", "invalid_json"}}},
		{"parameters a JSON array", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters, tp.BaseURL = params(`[]`), "https://api.openai.com/v1"
		}, []problem{{"parameters", "invalid_json"}}},
		{"parameters not of type object", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters = params(`{"type":"string","properties":{"resource":{"default":"r"}}}`)
		}, []problem{{"parameters.type", "invalid_schema"}}},
		{"parameter name invalid", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters = params(`{"type":"object","properties":{"resource":{"default":"r"},"Api-Version":{}}}`)
		}, []problem{{"parameters.properties.Api-Version", "invalid_name"}}},
		{"base url filled with the default", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters = params(`{"type":"object","properties":{"resource":{"default":"contoso","examples":["has space"]}}}`)
		}, nil},
		{"base url filled with a bad default", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters = params(`{"type":"object","properties":{"resource":{"default":"con toso"}}}`)
		}, []problem{{"base_url", "invalid_url"}}},
		{"base url filled with the first example", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters = params(`{"type":"object","properties":{"resource":{"examples":["contoso","bad one"]}}}`)
		}, nil},
		{"base url filled with x", func(tp *switchyard.ProviderTemplate) {
			tp.Parameters = params(`{"type":"object","properties":{"resource":{"type":"string"}}}`)
		}, nil},
		{"base_url-only template with an example", func(tp *switchyard.ProviderTemplate) {
			tp.BaseURL = "{base_url}"
			tp.Parameters = params(`{"type":"object","required":["base_url"],"properties":{"base_url":{"type":"string","format":"uri","examples":["https://gateway.example.com/v1"]}}}`)
		}, nil},
		{"base_url-only template without an example", func(tp *switchyard.ProviderTemplate) {
			tp.BaseURL = "{base_url}"
			tp.Parameters = params(`{"type":"object","properties":{"base_url":{"type":"string"}}}`)
		}, []problem{{"base_url", "invalid_url"}}},
		{"port placeholder with a numeric default", func(tp *switchyard.ProviderTemplate) {
			tp.BaseURL = "http://localhost:{port}/v1"
			tp.Parameters = params(`{"type":"object","properties":{"port":{"type":"integer","default":11434}}}`)
		}, nil},
		{"port placeholder with a numeric example", func(tp *switchyard.ProviderTemplate) {
			tp.BaseURL = "http://{host}:{port}/v1"
			tp.Parameters = params(`{"type":"object","properties":{"host":{"default":"localhost"},"port":{"examples":[8000]}}}`)
		}, nil},
		{"port placeholder without a default", func(tp *switchyard.ProviderTemplate) {
			tp.BaseURL = "http://localhost:{port}/v1"
			tp.Parameters = params(`{"type":"object","properties":{"port":{"type":"integer"}}}`)
		}, []problem{{"base_url", "invalid_url"}}},
		{"base url required", func(tp *switchyard.ProviderTemplate) { tp.BaseURL = "" }, []problem{{"base_url", "invalid_url"}}},
		{"base url with userinfo", func(tp *switchyard.ProviderTemplate) { tp.BaseURL = "https://u:p@{resource}.example.com" },
			[]problem{{"base_url", "invalid_url"}}},
		{"auth config placeholders declared", func(tp *switchyard.ProviderTemplate) {
			tp.AuthMethod = switchyard.AuthAzureAD
			tp.AuthConfig = map[string]string{"tenant_id": "{tenant}", "client_id": "{client}"}
			tp.Parameters = params(`{"type":"object","properties":{"resource":{},"tenant":{},"client":{}}}`)
		}, nil},
		{"auth config placeholders undeclared", func(tp *switchyard.ProviderTemplate) {
			tp.AuthConfig = map[string]string{"header": "{header_name}", "prefix": "{scheme} {realm}"}
		}, []problem{{"auth_config.header", "undeclared_parameter"}, {"auth_config.prefix", "undeclared_parameter"}, {"auth_config.prefix", "undeclared_parameter"}}},

		// headers and settings
		{"header forbidden", func(tp *switchyard.ProviderTemplate) { tp.Headers = map[string]string{"Host": "x"} },
			[]problem{{"headers.Host", "forbidden_header"}}},
		{"header invalid", func(tp *switchyard.ProviderTemplate) { tp.Headers = map[string]string{"bad header": "x"} },
			[]problem{{"headers.bad header", "invalid_header"}}},
		{"settings out of range", func(tp *switchyard.ProviderTemplate) { tp.Settings.MaxRetries = 20 },
			[]problem{{"settings.max_retries", "out_of_range"}}},

		// system templates
		{"system template needs its type", func(tp *switchyard.ProviderTemplate) { tp.SystemType = "" }, []problem{{"system_type", "required"}}},
		{"custom template needs no type", func(tp *switchyard.ProviderTemplate) { tp.System, tp.SystemType = false, "" }, nil},

		// models
		{"no models", func(tp *switchyard.ProviderTemplate) { tp.Models = nil }, nil},
		{"duplicate model", func(tp *switchyard.ProviderTemplate) {
			tp.Models = append(tp.Models, switchyard.TemplateModel{UpstreamID: "gpt-4o-mini"})
		}, []problem{{"models[2].upstream_id", "duplicate"}}},
		{"invalid models", func(tp *switchyard.ProviderTemplate) {
			tp.Models[0].Aliases = []string{"a/b"}
			tp.Models[0].Capabilities.MaxOutputTokens = 999999
			tp.Models[1].UpstreamID = ""
			tp.Models[1].Pricing.InputPerMTok = -1
		}, []problem{{"models[0].aliases[0]", "invalid_alias"}, {"models[0].capabilities.max_output_tokens", "exceeds_context"},
			{"models[1].upstream_id", "invalid_model"}, {"models[1].pricing.input_per_mtok", "out_of_range"}}},

		// env vars
		{"env var lower case", func(tp *switchyard.ProviderTemplate) { tp.EnvVars = []string{"OPENAI_API_KEY", "openai_api_key"} },
			[]problem{{"env_vars[1]", "invalid_name"}}},
		{"env var empty", func(tp *switchyard.ProviderTemplate) { tp.EnvVars = []string{""} }, []problem{{"env_vars[0]", "invalid_name"}}},
		{"env var with digits and leading underscore", func(tp *switchyard.ProviderTemplate) { tp.EnvVars = []string{"_PRIVATE", "S3_KEY_2"} }, nil},
		{"env var not a name", func(tp *switchyard.ProviderTemplate) {
			tp.EnvVars = []string{"OPENAI API KEY", "OPENAI-API-KEY", "1PASSWORD_KEY", "$HOME", "KEY=VALUE"}
		}, []problem{{"env_vars[0]", "invalid_name"}, {"env_vars[1]", "invalid_name"}, {"env_vars[2]", "invalid_name"},
			{"env_vars[3]", "invalid_name"}, {"env_vars[4]", "invalid_name"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := validTemplate()
			tt.mutate(tp)
			wantProblems(t, tp.Validate(), tt.want...)
		})
	}
}

func TestProviderTemplateValidateReportsEveryProblemAtOnce(t *testing.T) {
	tp := &switchyard.ProviderTemplate{
		Slug:       "",
		Protocol:   "x",
		AuthMethod: "y",
		BaseURL:    "https://{host}/v1",
		System:     true,
		Models:     []switchyard.TemplateModel{{UpstreamID: "m"}, {UpstreamID: "m"}},
		EnvVars:    []string{"lower"},
	}
	wantProblems(t, tp.Validate(),
		problem{"name", "required"},
		problem{"slug", "invalid_slug"},
		problem{"protocol", "invalid_enum"},
		problem{"auth_method", "invalid_enum"},
		problem{"base_url", "undeclared_parameter"},
		problem{"base_url", "invalid_url"},
		problem{"system_type", "required"},
		problem{"models[1].upstream_id", "duplicate"},
		problem{"env_vars[0]", "invalid_name"},
	)
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"https://api.openai.com/v1", nil},
		{"https://{resource}.openai.azure.com", []string{"resource"}},
		{"https://{region}-{project}.example.com/{region}/v1", []string{"region", "project"}},
		{"{base_url}", []string{"base_url"}},
		{"http://localhost:{port}", []string{"port"}},
		{"{Region} {1x} {} {a-b} {a b}", nil},
		{"{{nested}}", []string{"nested"}},
		{"{a1_b2}", []string{"a1_b2"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := switchyard.Placeholders(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("Placeholders(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	params := map[string]string{"resource": "contoso", "region": "eu", "empty": ""}
	tests := []struct{ name, in, want string }{
		{"no placeholders", "https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"one", "https://{resource}.openai.azure.com", "https://contoso.openai.azure.com"},
		{"repeated", "{region}/{region}", "eu/eu"},
		{"unknown left as is", "https://{resource}.{zone}.example.com", "https://contoso.{zone}.example.com"},
		{"empty value", "a{empty}b", "ab"},
		{"not a placeholder", "{Region} {}", "{Region} {}"},
		{"values are not substituted again", "{resource}", "contoso"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := switchyard.Substitute(tt.in, params); got != tt.want {
				t.Errorf("Substitute(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("a value holding a placeholder is not expanded", func(t *testing.T) {
		got := switchyard.Substitute("{a}", map[string]string{"a": "{b}", "b": "x"})
		if got != "{b}" {
			t.Errorf("Substitute = %q, want %q", got, "{b}")
		}
	})
	t.Run("nil params", func(t *testing.T) {
		if got := switchyard.Substitute("{a}", nil); got != "{a}" {
			t.Errorf("Substitute = %q", got)
		}
	})
}

func TestParameterNames(t *testing.T) {
	tests := []struct {
		name   string
		params string
		want   []string
	}{
		{"none", "", nil},
		{"sorted", `{"type":"object","properties":{"resource":{},"api_version":{},"deployment":{}}}`, []string{"api_version", "deployment", "resource"}},
		{"no properties", `{"type":"object"}`, nil},
		{"invalid JSON", `{"properties":`, nil},
		{"not an object", `[1,2]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := &switchyard.ProviderTemplate{Parameters: json.RawMessage(tt.params)}
			got := tp.ParameterNames()
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParameterNames() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProviderTemplateBaseURLMessageDoesNotEchoUserinfo(t *testing.T) {
	tp := validTemplate()
	tp.BaseURL = "https://admin:hunter2@{resource}.example.com"
	err := tp.Validate()
	wantProblems(t, err, problem{"base_url", "invalid_url"})
	wantNotInError(t, err, "hunter2")
	if msg := fieldMessage(t, err, "base_url"); strings.Contains(msg, "{resource}") {
		t.Errorf("message %q echoes the URL", msg)
	}
}
