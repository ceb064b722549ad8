package switchyard_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
)

func secrets(kv ...string) map[string]switchyard.Secret {
	m := map[string]switchyard.Secret{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = switchyard.NewSecret(kv[i+1])
	}
	return m
}

// validProvider returns an enabled provider that passes validation.
func validProvider() *switchyard.Provider {
	return &switchyard.Provider{
		Name:     "OpenAI production",
		Slug:     "openai-prod",
		Protocol: switchyard.ProtocolOpenAI,
		BaseURL:  "https://api.openai.com/v1",
		Params:   map[string]string{"api_version": "2024-10-21"},
		Enabled:  true,
		Headers:  map[string]switchyard.Secret{"OpenAI-Organization": switchyard.NewSecret("org-123")},
		Settings: switchyard.ProviderSettings{TimeoutMS: 30000, MaxRetries: 2},
		Status:   switchyard.StatusHealthy,
		Credentials: []switchyard.Credential{{
			Name:    "primary",
			Method:  switchyard.AuthAPIKey,
			Secrets: secrets("api_key", "sk-test-0123456789abcdef"),
			Config:  map[string]string{"header": "Authorization", "prefix": "Bearer "},
			Weight:  1,
			Status:  switchyard.CredentialActive,
			Models:  []string{"gpt-4o-mini"},
		}},
	}
}

func TestProviderValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *switchyard.Provider)
		want   []problem
	}{
		{"valid", func(*switchyard.Provider) {}, nil},

		// name
		{"name required", func(p *switchyard.Provider) { p.Name = "" }, []problem{{"name", "required"}}},
		{"name blank", func(p *switchyard.Provider) { p.Name = "   " }, []problem{{"name", "required"}}},
		{"name 200 bytes", func(p *switchyard.Provider) { p.Name = strings.Repeat("n", 200) }, nil},
		{"name too long", func(p *switchyard.Provider) { p.Name = strings.Repeat("n", 201) }, []problem{{"name", "too_long"}}},
		{"name leading whitespace", func(p *switchyard.Provider) { p.Name = " OpenAI" }, []problem{{"name", "whitespace"}}},
		{"name trailing newline", func(p *switchyard.Provider) { p.Name = "OpenAI\n" }, []problem{{"name", "whitespace"}}},
		{"name control character", func(p *switchyard.Provider) { p.Name = "Open\x00AI" }, []problem{{"name", "control_character"}}},
		{"name DEL", func(p *switchyard.Provider) { p.Name = "Open\x7fAI" }, []problem{{"name", "control_character"}}},
		{"name inner tab", func(p *switchyard.Provider) { p.Name = "Open\tAI" }, []problem{{"name", "control_character"}}},
		{"name unicode", func(p *switchyard.Provider) { p.Name = "Über KI – prod" }, nil},

		// slug
		{"slug required", func(p *switchyard.Provider) { p.Slug = "" }, []problem{{"slug", "invalid_slug"}}},
		{"slug single character", func(p *switchyard.Provider) { p.Slug = "a" }, nil},
		{"slug 64 characters", func(p *switchyard.Provider) { p.Slug = strings.Repeat("a", 64) }, nil},
		{"slug 65 characters", func(p *switchyard.Provider) { p.Slug = strings.Repeat("a", 65) }, []problem{{"slug", "invalid_slug"}}},
		{"slug upper case", func(p *switchyard.Provider) { p.Slug = "OpenAI" }, []problem{{"slug", "invalid_slug"}}},
		{"slug leading hyphen", func(p *switchyard.Provider) { p.Slug = "-openai" }, []problem{{"slug", "invalid_slug"}}},
		{"slug trailing hyphen", func(p *switchyard.Provider) { p.Slug = "openai-" }, []problem{{"slug", "invalid_slug"}}},
		{"slug underscore", func(p *switchyard.Provider) { p.Slug = "openai_prod" }, []problem{{"slug", "invalid_slug"}}},
		{"slug slash", func(p *switchyard.Provider) { p.Slug = "openai/prod" }, []problem{{"slug", "invalid_slug"}}},

		// protocol
		{"protocol required", func(p *switchyard.Provider) { p.Protocol = "" }, []problem{{"protocol", "invalid_enum"}}},
		{"protocol unknown", func(p *switchyard.Provider) { p.Protocol = "grpc" }, []problem{{"protocol", "invalid_enum"}}},
		{"protocol case matters", func(p *switchyard.Provider) { p.Protocol = "OpenAI" }, []problem{{"protocol", "invalid_enum"}}},

		// base URL
		{"base url required", func(p *switchyard.Provider) { p.BaseURL = "" }, []problem{{"base_url", "invalid_url"}}},
		{"base url http", func(p *switchyard.Provider) { p.BaseURL = "http://10.0.0.5:11434" }, nil},
		{"base url ftp", func(p *switchyard.Provider) { p.BaseURL = "ftp://api.openai.com/v1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url without scheme", func(p *switchyard.Provider) { p.BaseURL = "api.openai.com/v1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url relative", func(p *switchyard.Provider) { p.BaseURL = "/v1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url without host", func(p *switchyard.Provider) { p.BaseURL = "https:///v1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url port only", func(p *switchyard.Provider) { p.BaseURL = "https://:8080/v1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url userinfo", func(p *switchyard.Provider) { p.BaseURL = "https://admin:hunter2@api.openai.com/v1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url fragment", func(p *switchyard.Provider) { p.BaseURL = "https://api.openai.com/v1#top" }, []problem{{"base_url", "invalid_url"}}},
		{"base url empty fragment", func(p *switchyard.Provider) { p.BaseURL = "https://api.openai.com/v1#" }, []problem{{"base_url", "invalid_url"}}},
		{"base url trailing space", func(p *switchyard.Provider) { p.BaseURL = "https://api.openai.com/v1 " }, []problem{{"base_url", "invalid_url"}}},
		{"base url inner space", func(p *switchyard.Provider) { p.BaseURL = "https://api.openai.com/v 1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url leading space", func(p *switchyard.Provider) { p.BaseURL = " https://api.openai.com/v1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url newline", func(p *switchyard.Provider) { p.BaseURL = "https://api.openai.com/v1\n" }, []problem{{"base_url", "invalid_url"}}},
		{"base url tab", func(p *switchyard.Provider) { p.BaseURL = "https://api.openai.com/\tv1" }, []problem{{"base_url", "invalid_url"}}},
		{"base url query", func(p *switchyard.Provider) {
			p.BaseURL = "https://example.openai.azure.com/openai?api-version=2024-10-21"
		}, nil},

		// params
		{"param name upper case", func(p *switchyard.Provider) { p.Params = map[string]string{"Region": "us"} }, []problem{{"params.Region", "invalid_name"}}},
		{"param name hyphen", func(p *switchyard.Provider) { p.Params = map[string]string{"api-version": "1"} }, []problem{{"params.api-version", "invalid_name"}}},
		{"param name leading digit", func(p *switchyard.Provider) { p.Params = map[string]string{"1region": "us"} }, []problem{{"params.1region", "invalid_name"}}},
		{"param name 64 characters", func(p *switchyard.Provider) { p.Params = map[string]string{"r" + strings.Repeat("x", 63): "us"} }, nil},
		{"param name 65 characters", func(p *switchyard.Provider) { p.Params = map[string]string{"r" + strings.Repeat("x", 64): "us"} },
			[]problem{{"params.r" + strings.Repeat("x", 64), "invalid_name"}}},

		// headers
		{"header name with space", func(p *switchyard.Provider) { p.Headers = secrets("X Team", "a") }, []problem{{"headers.X Team", "invalid_header"}}},
		{"header name with colon", func(p *switchyard.Provider) { p.Headers = secrets("X-Team:", "a") }, []problem{{"headers.X-Team:", "invalid_header"}}},
		{"header name empty", func(p *switchyard.Provider) { p.Headers = secrets("", "a") }, []problem{{"headers.", "invalid_header"}}},
		{"header Host", func(p *switchyard.Provider) { p.Headers = secrets("Host", "evil.example") }, []problem{{"headers.Host", "forbidden_header"}}},
		{"header Authorization belongs to the credential", func(p *switchyard.Provider) { p.Headers = secrets("authorization", "Bearer x") }, []problem{{"headers.authorization", "forbidden_header"}}},
		{"header content-length any case", func(p *switchyard.Provider) { p.Headers = secrets("CONTENT-LENGTH", "1") }, []problem{{"headers.CONTENT-LENGTH", "forbidden_header"}}},
		{"header every forbidden one", func(p *switchyard.Provider) {
			p.Headers = secrets("Transfer-Encoding", "x", "Connection", "x", "Upgrade", "x", "TE", "x", "Trailer", "x",
				"Keep-Alive", "x", "Proxy-Authorization", "x", "Proxy-Connection", "x")
		}, []problem{{"headers.Transfer-Encoding", "forbidden_header"}, {"headers.Connection", "forbidden_header"},
			{"headers.Upgrade", "forbidden_header"}, {"headers.TE", "forbidden_header"}, {"headers.Trailer", "forbidden_header"},
			{"headers.Keep-Alive", "forbidden_header"}, {"headers.Proxy-Authorization", "forbidden_header"}, {"headers.Proxy-Connection", "forbidden_header"}}},

		// settings
		{"settings out of range", func(p *switchyard.Provider) { p.Settings = switchyard.ProviderSettings{TimeoutMS: 50, MaxRetries: 11} },
			[]problem{{"settings.timeout_ms", "out_of_range"}, {"settings.max_retries", "out_of_range"}}},

		// status and system
		{"status empty", func(p *switchyard.Provider) { p.Status = "" }, nil},
		{"status unknown value", func(p *switchyard.Provider) { p.Status = "broken" }, []problem{{"status", "invalid_enum"}}},
		{"system provider needs its type", func(p *switchyard.Provider) { p.System = true }, []problem{{"system_type", "required"}}},
		{"system provider with its type", func(p *switchyard.Provider) { p.System, p.SystemType = true, "openai" }, nil},

		// credentials
		{"no credentials", func(p *switchyard.Provider) { p.Credentials = nil }, nil},
		{"credential name required", func(p *switchyard.Provider) { p.Credentials[0].Name = "" }, []problem{{"credentials[0].name", "required"}}},
		{"credential name control character", func(p *switchyard.Provider) { p.Credentials[0].Name = "a\x1bb" }, []problem{{"credentials[0].name", "control_character"}}},
		{"credential method unknown", func(p *switchyard.Provider) { p.Credentials[0].Method = "password" }, []problem{{"credentials[0].method", "invalid_enum"}}},
		{"credential method empty", func(p *switchyard.Provider) { p.Credentials[0].Method = "" }, []problem{{"credentials[0].method", "invalid_enum"}}},
		{"credential secret with whitespace", func(p *switchyard.Provider) { p.Credentials[0].Secrets = secrets("api_key", "sk-abc\n") },
			[]problem{{"credentials[0].secrets.api_key", "whitespace"}}},
		{"token_url", func(p *switchyard.Provider) {
			p.Credentials[0] = switchyard.Credential{Name: "oauth", Method: switchyard.AuthOAuth2, Secrets: secrets("client_secret", "s"),
				Config: map[string]string{"client_id": "id", "token_url": "ftp://login.example.com/token"}}
		}, []problem{{"credentials[0].config.token_url", "invalid_url"}}},
		{"header config not a header name", func(p *switchyard.Provider) { p.Credentials[0].Config = map[string]string{"header": "x api key"} },
			[]problem{{"credentials[0].config.header", "invalid_header"}}},
		{"weight 0 means default", func(p *switchyard.Provider) { p.Credentials[0].Weight = 0 }, nil},
		{"weight 1000", func(p *switchyard.Provider) { p.Credentials[0].Weight = 1000 }, nil},
		{"weight 1001", func(p *switchyard.Provider) { p.Credentials[0].Weight = 1001 }, []problem{{"credentials[0].weight", "out_of_range"}}},
		{"weight negative", func(p *switchyard.Provider) { p.Credentials[0].Weight = -1 }, []problem{{"credentials[0].weight", "out_of_range"}}},
		{"credential status empty", func(p *switchyard.Provider) { p.Credentials[0].Status = "" }, nil},
		{"credential status failing", func(p *switchyard.Provider) { p.Credentials[0].Status = switchyard.CredentialFailing }, nil},
		{"credential status unknown", func(p *switchyard.Provider) { p.Credentials[0].Status = "paused" }, []problem{{"credentials[0].status", "invalid_enum"}}},
		{"credential models", func(p *switchyard.Provider) {
			p.Credentials[0].Models = []string{"gpt-4o", "", "gpt 4o", strings.Repeat("m", 257), "accounts/fireworks/models/x"}
		}, []problem{{"credentials[0].models[1]", "invalid_model"}, {"credentials[0].models[2]", "invalid_model"}, {"credentials[0].models[3]", "invalid_model"}}},
		{"duplicate credential names", func(p *switchyard.Provider) {
			second := p.Credentials[0]
			second.Secrets = secrets("api_key", "sk-other")
			p.Credentials = append(p.Credentials, second)
		}, []problem{{"credentials[1].name", "duplicate"}}},
		{"two unnamed credentials are not duplicates", func(p *switchyard.Provider) {
			p.Credentials = append(p.Credentials, p.Credentials[0])
			p.Credentials[0].Name, p.Credentials[1].Name = "", ""
		}, []problem{{"credentials[0].name", "required"}, {"credentials[1].name", "required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProvider()
			tt.mutate(p)
			wantProblems(t, p.Validate(), tt.want...)
		})
	}
}

func TestProviderValidateReportsEveryProblemAtOnce(t *testing.T) {
	p := &switchyard.Provider{
		Name:     "",
		Slug:     "Bad Slug",
		Protocol: "soap",
		BaseURL:  "https://api.example.com/v1#x",
		Params:   map[string]string{"Bad": "x"},
		Headers:  secrets("Host", "h"),
		Settings: switchyard.ProviderSettings{RateLimitRPM: -1},
		Status:   "sleepy",
		Enabled:  true,
		Credentials: []switchyard.Credential{
			{Name: "a", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", "k")},
			{Name: "a", Method: switchyard.AuthAWSSigV4, Secrets: secrets("access_key_id", "AKIA", "password", "p"),
				Config: map[string]string{"region": ""}, Weight: 5000},
		},
	}
	err := p.Validate()
	wantProblems(t, err,
		problem{"name", "required"},
		problem{"slug", "invalid_slug"},
		problem{"protocol", "invalid_enum"},
		problem{"base_url", "invalid_url"},
		problem{"params.Bad", "invalid_name"},
		problem{"headers.Host", "forbidden_header"},
		problem{"settings.rate_limit_rpm", "out_of_range"},
		problem{"status", "invalid_enum"},
		problem{"credentials[1].secrets.secret_access_key", "required"},
		problem{"credentials[1].secrets.password", "unknown_field"},
		problem{"credentials[1].config.region", "required"},
		problem{"credentials[1].weight", "out_of_range"},
		problem{"credentials[1].name", "duplicate"},
	)
	if msg := switchyard.ErrorMessage(err); !strings.Contains(msg, "13 problem(s)") {
		t.Errorf("message = %q, want the number of problems", msg)
	}
	if msg := fieldMessage(t, err, "credentials[1].name"); !strings.Contains(msg, "credentials[0]") {
		t.Errorf("duplicate message %q does not name the other credential", msg)
	}
}

func TestProviderBaseURLMessageDoesNotEchoUserinfo(t *testing.T) {
	for _, raw := range []string{
		"https://admin:hunter2@api.openai.com/v1",
		"https://hunter2@api.openai.com/v1",
		"https://admin:hunter2@/v1",
		"ftp://admin:hunter2@api.openai.com/v1",
		"https://admin:hunter2@api.openai.com/v1#frag",
	} {
		t.Run(raw, func(t *testing.T) {
			p := validProvider()
			p.BaseURL = raw
			err := p.Validate()
			wantProblems(t, err, problem{"base_url", "invalid_url"})
			wantNotInError(t, err, "hunter2")
		})
	}
	t.Run("userinfo is named as the problem", func(t *testing.T) {
		p := validProvider()
		p.BaseURL = "https://admin:hunter2@api.openai.com/v1"
		if msg := fieldMessage(t, p.Validate(), "base_url"); !strings.Contains(msg, "user name or password") {
			t.Errorf("message = %q, want it to say credentials do not belong in the URL", msg)
		}
	})
	t.Run("token_url", func(t *testing.T) {
		p := validProvider()
		p.Credentials[0] = switchyard.Credential{Name: "oauth", Method: switchyard.AuthOAuth2, Secrets: secrets("client_secret", "s"),
			Config: map[string]string{"client_id": "id", "token_url": "https://app:hunter2@login.example.com/token"}}
		err := p.Validate()
		wantProblems(t, err, problem{"credentials[0].config.token_url", "invalid_url"})
		wantNotInError(t, err, "hunter2")
	})
}

func TestValidateBaseURLMessages(t *testing.T) {
	tests := []struct{ raw, wantIn string }{
		{"", "is required"},
		{"ws://api.example.com", "https://"},
		{"https:///v1", "no host"},
		{"https://u:p@api.example.com", "user name or password"},
		{"https://api.example.com/#x", "#fragment"},
		{"https://api.example.com/a b", "whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			err := switchyard.ValidateBaseURL(tt.raw)
			if switchyard.ErrorCode(err) != switchyard.EINVALID {
				t.Fatalf("ValidateBaseURL(%q) = %v, want an invalid error", tt.raw, err)
			}
			if msg := switchyard.ErrorMessage(err); !strings.Contains(msg, tt.wantIn) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.wantIn)
			}
		})
	}
}

// sampleConfig gives a config field a value that is valid for it.
func sampleConfig(field string) string {
	switch field {
	case "token_url":
		return "https://login.example.com/oauth2/token"
	case "header":
		return "x-api-key"
	}
	return "value-of-" + field
}

// fullCredential fills every required secret and config field of method.
func fullCredential(method switchyard.AuthMethod) switchyard.Credential {
	spec := switchyard.AuthMethods[method]
	c := switchyard.Credential{Name: "c", Method: method, Secrets: map[string]switchyard.Secret{}, Config: map[string]string{}}
	for _, k := range spec.RequiredSecrets {
		c.Secrets[k] = switchyard.NewSecret("secret-for-" + k)
	}
	for _, k := range spec.RequiredConfig {
		c.Config[k] = sampleConfig(k)
	}
	return c
}

func TestCredentialRulesPerAuthMethod(t *testing.T) {
	if len(switchyard.AuthMethods) == 0 {
		t.Fatal("AuthMethods is empty")
	}
	for method, spec := range switchyard.AuthMethods {
		t.Run(string(method), func(t *testing.T) {
			if spec.Method != method {
				t.Fatalf("AuthMethods[%q].Method = %q", method, spec.Method)
			}
			validate := func(c switchyard.Credential, enabled bool) error {
				t.Helper()
				p := validProvider()
				p.Enabled = enabled
				p.Credentials = []switchyard.Credential{c}
				return p.Validate()
			}
			t.Run("required fields only", func(t *testing.T) {
				wantProblems(t, validate(fullCredential(method), true))
				c := fullCredential(method)
				wantProblems(t, c.Validate())
			})
			t.Run("every optional field", func(t *testing.T) {
				c := fullCredential(method)
				for _, k := range spec.OptionalSecrets {
					c.Secrets[k] = switchyard.NewSecret("optional-" + k)
				}
				for _, k := range spec.OptionalConfig {
					c.Config[k] = sampleConfig(k)
				}
				wantProblems(t, validate(c, true))
			})
			for _, k := range spec.RequiredSecrets {
				t.Run("missing secret "+k, func(t *testing.T) {
					c := fullCredential(method)
					delete(c.Secrets, k)
					err := validate(c, true)
					wantProblems(t, err, problem{"credentials[0].secrets." + k, "required"})
					if msg := fieldMessage(t, err, "credentials[0].secrets."+k); !strings.Contains(msg, string(method)) || !strings.Contains(msg, k) {
						t.Errorf("message %q does not name the method and the secret", msg)
					}
				})
				t.Run("empty secret "+k, func(t *testing.T) {
					c := fullCredential(method)
					c.Secrets[k] = switchyard.NewSecret("")
					wantProblems(t, validate(c, true), problem{"credentials[0].secrets." + k, "required"})
				})
			}
			for _, k := range spec.RequiredConfig {
				t.Run("missing config "+k, func(t *testing.T) {
					c := fullCredential(method)
					delete(c.Config, k)
					wantProblems(t, validate(c, true), problem{"credentials[0].config." + k, "required"})
				})
				t.Run("blank config "+k, func(t *testing.T) {
					c := fullCredential(method)
					c.Config[k] = "  "
					want := []problem{{"credentials[0].config." + k, "required"}}
					if k == "token_url" {
						want = append(want, problem{"credentials[0].config.token_url", "invalid_url"})
					}
					wantProblems(t, validate(c, true), want...)
				})
			}
			t.Run("unknown fields are named", func(t *testing.T) {
				c := fullCredential(method)
				c.Secrets["password"] = switchyard.NewSecret("p")
				c.Config["endpoint"] = "e"
				err := validate(c, true)
				wantProblems(t, err,
					problem{"credentials[0].secrets.password", "unknown_field"},
					problem{"credentials[0].config.endpoint", "unknown_field"})
				if msg := fieldMessage(t, err, "credentials[0].secrets.password"); !strings.Contains(msg, `"password"`) {
					t.Errorf("message %q does not name the unknown secret", msg)
				}
				for _, k := range append(slices.Clone(spec.RequiredSecrets), spec.OptionalSecrets...) {
					if msg := fieldMessage(t, err, "credentials[0].secrets.password"); !strings.Contains(msg, k) {
						t.Errorf("message %q does not list the accepted secret %q", msg, k)
					}
				}
				for _, k := range append(slices.Clone(spec.RequiredConfig), spec.OptionalConfig...) {
					if msg := fieldMessage(t, err, "credentials[0].config.endpoint"); !strings.Contains(msg, k) {
						t.Errorf("message %q does not list the accepted setting %q", msg, k)
					}
				}
			})
			t.Run("disabled provider may wait for its secrets", func(t *testing.T) {
				c := fullCredential(method)
				c.Secrets = nil
				wantProblems(t, validate(c, false))
			})
			if len(spec.RequiredSecrets) == 0 {
				return
			}
			t.Run("enabled provider needs its secrets", func(t *testing.T) {
				c := fullCredential(method)
				c.Secrets = nil
				var want []problem
				for _, k := range spec.RequiredSecrets {
					want = append(want, problem{"credentials[0].secrets." + k, "required"})
				}
				wantProblems(t, validate(c, true), want...)
			})
			t.Run("a standalone credential needs its secrets", func(t *testing.T) {
				c := fullCredential(method)
				c.Secrets = nil
				if err := c.Validate(); err == nil {
					t.Fatal("Credential.Validate accepted a credential without secrets")
				}
			})
			t.Run("disabled provider still needs its config", func(t *testing.T) {
				if len(spec.RequiredConfig) == 0 {
					t.Skip("no required config")
				}
				c := fullCredential(method)
				c.Secrets = nil
				c.Config = nil
				var want []problem
				for _, k := range spec.RequiredConfig {
					want = append(want, problem{"credentials[0].config." + k, "required"})
				}
				wantProblems(t, validate(c, false), want...)
			})
		})
	}
}

func TestCredentialAllOrNoneSecrets(t *testing.T) {
	aws := func(kv ...string) switchyard.Credential {
		return switchyard.Credential{Name: "aws", Method: switchyard.AuthAWSSigV4, Secrets: secrets(kv...),
			Config: map[string]string{"region": "us-east-1"}}
	}
	tests := []struct {
		name    string
		enabled bool
		cred    switchyard.Credential
		want    []problem
	}{
		{"disabled, no secrets", false, aws(), nil},
		{"disabled, empty secret values count as none", false, aws("access_key_id", ""), nil},
		{"disabled, all secrets", false, aws("access_key_id", "AKIA", "secret_access_key", "s"), nil},
		{"disabled, one of two required", false, aws("access_key_id", "AKIA"),
			[]problem{{"credentials[0].secrets.secret_access_key", "required"}}},
		{"disabled, only the optional one", false, aws("session_token", "t"),
			[]problem{{"credentials[0].secrets.access_key_id", "required"}, {"credentials[0].secrets.secret_access_key", "required"}}},
		{"disabled, only an unknown one", false, aws("password", "p"),
			[]problem{{"credentials[0].secrets.password", "unknown_field"},
				{"credentials[0].secrets.access_key_id", "required"}, {"credentials[0].secrets.secret_access_key", "required"}}},
		{"enabled, no secrets", true, aws(),
			[]problem{{"credentials[0].secrets.access_key_id", "required"}, {"credentials[0].secrets.secret_access_key", "required"}}},
		{"enabled, one of two required", true, aws("secret_access_key", "s"),
			[]problem{{"credentials[0].secrets.access_key_id", "required"}}},
		{"enabled, all secrets", true, aws("access_key_id", "AKIA", "secret_access_key", "s", "session_token", "t"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProvider()
			p.Enabled = tt.enabled
			p.Credentials = []switchyard.Credential{tt.cred}
			wantProblems(t, p.Validate(), tt.want...)
		})
	}
	t.Run("a sealed stored secret counts as set", func(t *testing.T) {
		p := validProvider()
		p.Credentials = []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.SealedSecret("sk-…abcd", nil)}}}
		wantProblems(t, p.Validate())
	})
	t.Run("each credential is judged on its own", func(t *testing.T) {
		p := validProvider()
		p.Enabled = false
		p.Credentials = []switchyard.Credential{aws("access_key_id", "AKIA", "secret_access_key", "s"), aws()}
		p.Credentials[1].Name = "waiting"
		wantProblems(t, p.Validate())
	})
}

func TestCredentialSecretsNotEchoed(t *testing.T) {
	const value = " sk-live-do-not-print-0123456789 "
	p := validProvider()
	p.Credentials[0].Secrets = secrets("api_key", value, "api_secret", value)
	err := p.Validate()
	wantProblems(t, err, problem{"credentials[0].secrets.api_key", "whitespace"},
		problem{"credentials[0].secrets.api_secret", "unknown_field"}, problem{"credentials[0].secrets.api_secret", "whitespace"})
	wantNotInError(t, err, "do-not-print")
}

func TestProviderSettingsValidate(t *testing.T) {
	tests := []struct {
		name string
		s    switchyard.ProviderSettings
		want []problem
	}{
		{"zero values mean defaults", switchyard.ProviderSettings{}, nil},
		{"lower bounds", switchyard.ProviderSettings{TimeoutMS: 100, MaxRetries: 0, HealthCheckIntervalS: 10, RateLimitRPM: 0}, nil},
		{"upper bounds", switchyard.ProviderSettings{TimeoutMS: 3600000, MaxRetries: 10, HealthCheckIntervalS: 86400, RateLimitRPM: 1 << 30}, nil},
		{"timeout too short", switchyard.ProviderSettings{TimeoutMS: 99}, []problem{{"timeout_ms", "out_of_range"}}},
		{"timeout too long", switchyard.ProviderSettings{TimeoutMS: 3600001}, []problem{{"timeout_ms", "out_of_range"}}},
		{"timeout negative", switchyard.ProviderSettings{TimeoutMS: -1}, []problem{{"timeout_ms", "out_of_range"}}},
		{"retries negative", switchyard.ProviderSettings{MaxRetries: -1}, []problem{{"max_retries", "out_of_range"}}},
		{"retries too many", switchyard.ProviderSettings{MaxRetries: 11}, []problem{{"max_retries", "out_of_range"}}},
		{"interval too short", switchyard.ProviderSettings{HealthCheckIntervalS: 9}, []problem{{"health_check_interval_s", "out_of_range"}}},
		{"interval too long", switchyard.ProviderSettings{HealthCheckIntervalS: 86401}, []problem{{"health_check_interval_s", "out_of_range"}}},
		{"interval negative", switchyard.ProviderSettings{HealthCheckIntervalS: -5}, []problem{{"health_check_interval_s", "out_of_range"}}},
		{"status thresholds out of range", switchyard.ProviderSettings{HealthFailuresToDown: 101, HealthSuccessesToRecover: -1, HealthWindowS: 10,
			HealthMinRequests: -2, HealthDegradedErrorRate: 101, HealthDownErrorRate: -3, HealthDegradedLatencyMS: -1},
			[]problem{{"health_failures_to_down", "out_of_range"}, {"health_successes_to_recover", "out_of_range"}, {"health_window_s", "out_of_range"},
				{"health_min_requests", "out_of_range"}, {"health_degraded_error_rate", "out_of_range"}, {"health_down_error_rate", "out_of_range"},
				{"health_degraded_latency_ms", "out_of_range"}}},
		{"down rate below degraded rate", switchyard.ProviderSettings{HealthDegradedErrorRate: 50, HealthDownErrorRate: 40},
			[]problem{{"health_down_error_rate", "below_degraded"}}},
		{"rate limit negative", switchyard.ProviderSettings{RateLimitRPM: -1}, []problem{{"rate_limit_rpm", "out_of_range"}}},
		{"health check disabled", switchyard.ProviderSettings{HealthCheckDisabled: true}, nil},
		{"all at once", switchyard.ProviderSettings{TimeoutMS: 1, MaxRetries: 99, HealthCheckIntervalS: 1, RateLimitRPM: -1},
			[]problem{{"timeout_ms", "out_of_range"}, {"max_retries", "out_of_range"}, {"health_check_interval_s", "out_of_range"}, {"rate_limit_rpm", "out_of_range"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblems(t, tt.s.Validate(), tt.want...)
		})
	}
}

func TestProviderSettingsWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   switchyard.ProviderSettings
		want switchyard.ProviderSettings
	}{
		{"zero gets defaults", switchyard.ProviderSettings{},
			switchyard.ProviderSettings{TimeoutMS: switchyard.DefaultTimeoutMS, HealthCheckIntervalS: switchyard.DefaultHealthCheckIntervalS}},
		{"set values are kept", switchyard.ProviderSettings{TimeoutMS: 5000, MaxRetries: 4, HealthCheckIntervalS: 30, HealthCheckDisabled: true, RateLimitRPM: 60},
			switchyard.ProviderSettings{TimeoutMS: 5000, MaxRetries: 4, HealthCheckIntervalS: 30, HealthCheckDisabled: true, RateLimitRPM: 60}},
		{"zero retries and no rate limit stay zero", switchyard.ProviderSettings{TimeoutMS: 5000},
			switchyard.ProviderSettings{TimeoutMS: 5000, HealthCheckIntervalS: switchyard.DefaultHealthCheckIntervalS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			got := tt.in.WithDefaults()
			want := tt.want
			want.HealthFailuresToDown, want.HealthSuccessesToRecover = switchyard.DefaultHealthFailuresToDown, switchyard.DefaultHealthSuccessesToRecover
			want.HealthWindowS, want.HealthMinRequests = switchyard.DefaultHealthWindowS, switchyard.DefaultHealthMinRequests
			want.HealthDegradedErrorRate, want.HealthDownErrorRate = switchyard.DefaultHealthDegradedErrorRate, switchyard.DefaultHealthDownErrorRate
			if got != want {
				t.Errorf("WithDefaults() = %+v, want %+v", got, want)
			}
			if in != tt.in {
				t.Errorf("WithDefaults changed its receiver to %+v", tt.in)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestProviderEffectiveStatus(t *testing.T) {
	tests := []struct {
		enabled bool
		status  switchyard.ProviderStatus
		want    switchyard.ProviderStatus
	}{
		{false, switchyard.StatusHealthy, switchyard.StatusDisabled},
		{false, "", switchyard.StatusDisabled},
		{false, switchyard.StatusDown, switchyard.StatusDisabled},
		{true, "", switchyard.StatusUnknown},
		{true, switchyard.StatusDisabled, switchyard.StatusUnknown},
		{true, switchyard.StatusUnknown, switchyard.StatusUnknown},
		{true, switchyard.StatusHealthy, switchyard.StatusHealthy},
		{true, switchyard.StatusDegraded, switchyard.StatusDegraded},
		{true, switchyard.StatusDown, switchyard.StatusDown},
	}
	for _, tt := range tests {
		name := "disabled"
		if tt.enabled {
			name = "enabled"
		}
		t.Run(name+"/"+string(tt.status), func(t *testing.T) {
			p := &switchyard.Provider{Enabled: tt.enabled, Status: tt.status}
			if got := p.EffectiveStatus(); got != tt.want {
				t.Errorf("EffectiveStatus() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidSlug(t *testing.T) {
	for s, want := range map[string]bool{
		"openai": true, "a": true, "0": true, "openai-prod-2": true, "a-b": true,
		"": false, "-": false, "a-": false, "-a": false, "A": false, "a_b": false, "a.b": false, "a b": false, "ü": false,
	} {
		if got := switchyard.ValidSlug(s); got != want {
			t.Errorf("ValidSlug(%q) = %v, want %v", s, got, want)
		}
	}
}
