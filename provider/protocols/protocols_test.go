package protocols_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
)

func secrets(kv ...string) map[string]switchyard.Secret {
	m := map[string]switchyard.Secret{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = switchyard.NewSecret(kv[i+1])
	}
	return m
}

// TestEveryProtocolThroughTheFactory builds each protocol's adapter the way
// serve does (guarded client, real auth methods) against its fake, and
// checks a good credential works end to end, streaming included, and a bad
// one is refused as an auth failure.
func TestEveryProtocolThroughTheFactory(t *testing.T) {
	const key = "sk-factory-test-key-0123456789"
	tests := []struct {
		name     string
		upstream http.Handler
		protocol switchyard.Protocol
		path     string
		model    string
		params   map[string]string
		good     switchyard.Credential
		bad      *switchyard.Credential
		badCode  string
	}{
		{"openai", fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{key}}), switchyard.ProtocolOpenAI, "/v1", fake.DefaultOpenAIModels[0], nil,
			switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", key)},
			&switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", "sk-wrong-0000000000000000")}, provider.CodeAuth},
		{"openai compatible with a bearer token", fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{key}}), switchyard.ProtocolOpenAICompatible, "/v1", fake.DefaultOpenAIModels[0], nil,
			switchyard.Credential{Name: "k", Method: switchyard.AuthBearer, Secrets: secrets("token", key)},
			&switchyard.Credential{Name: "k", Method: switchyard.AuthBearer, Secrets: secrets("token", "wrong")}, provider.CodeAuth},
		{"azure", fake.NewAzure(fake.AzureConfig{APIKeys: []string{key}}), switchyard.ProtocolAzureOpenAI, "", "gpt-4o-mini", map[string]string{"api_version": "2024-10-21"},
			switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", key)},
			&switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", "wrong")}, provider.CodeAuth},
		{"anthropic", fake.NewAnthropic(fake.AnthropicConfig{APIKeys: []string{key}}), switchyard.ProtocolAnthropic, "", fake.DefaultAnthropicModels[0], nil,
			switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", key)},
			&switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", "wrong")}, provider.CodeAuth},
		{"ollama without auth", fake.NewOllama(fake.OllamaConfig{}), switchyard.ProtocolOllama, "", "llama3.2", nil,
			switchyard.Credential{Name: "k", Method: switchyard.AuthNone}, nil, ""},
		{"bedrock with SigV4", fake.NewBedrock(fake.BedrockConfig{AccessKeys: map[string]string{"AKIAFACTORYTEST": key}, Region: "eu-west-1"}),
			switchyard.ProtocolBedrock, "", fake.DefaultBedrockModels[0], map[string]string{"region": "eu-west-1"},
			switchyard.Credential{Name: "k", Method: switchyard.AuthAWSSigV4, Config: map[string]string{"region": "eu-west-1"},
				Secrets: secrets("access_key_id", "AKIAFACTORYTEST", "secret_access_key", key)},
			&switchyard.Credential{Name: "k", Method: switchyard.AuthAWSSigV4, Config: map[string]string{"region": "eu-west-1"},
				Secrets: secrets("access_key_id", "AKIAFACTORYTEST", "secret_access_key", "wrong-secret")}, provider.CodeForbidden},
	}
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.upstream)
			defer srv.Close()
			p := &switchyard.Provider{Name: tt.name, Slug: "p", Protocol: tt.protocol, BaseURL: srv.URL + tt.path, Params: tt.params, Enabled: true}
			a, err := f.New(p, tt.good, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Ping(ctx); err != nil {
				t.Fatalf("ping: %v", err)
			}
			req := &provider.ChatRequest{Model: tt.model, MaxTokens: 64, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "hello there")}}
			res, err := a.Chat(ctx, req)
			if err != nil || res.Message.Text() == "" || res.Usage.OutputTokens == 0 {
				t.Fatalf("chat: %+v, %v", res, err)
			}
			st, err := a.ChatStream(ctx, req)
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			var text string
			var finish provider.FinishReason
			for {
				c, err := st.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("stream: %v", err)
				}
				text += c.Text
				if c.FinishReason != "" {
					finish = c.FinishReason
				}
			}
			st.Close()
			if text != res.Message.Text() || finish != provider.FinishStop {
				t.Fatalf("stream gave %q (%s), chat gave %q", text, finish, res.Message.Text())
			}
			if tt.bad == nil {
				return
			}
			bad, err := f.New(p, *tt.bad, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = bad.Ping(ctx)
			if e, ok := provider.AsError(err); !ok || e.Code != tt.badCode {
				t.Fatalf("bad credential: %v, want code %s", err, tt.badCode)
			}
		})
	}
	if _, err := f.New(&switchyard.Provider{Protocol: switchyard.ProtocolGemini, BaseURL: "https://x"}, switchyard.Credential{}, nil); err == nil {
		t.Fatal("a protocol without an adapter was built")
	}
}
