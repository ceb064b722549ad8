package protocols_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
)

// faulty is what every fake offers for injecting faults.
type faulty interface {
	http.Handler
	SetFault(fake.Fault)
	ClearFaults()
}

// newClientCredentialsServer is an HTTPS OAuth2 token endpoint granting
// token for client_credentials with the right client secret.
func newClientCredentialsServer(t *testing.T, secret, token string) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = r.ParseForm()
		_, pass, basic := r.BasicAuth()
		if !basic {
			pass = r.PostForm.Get("client_secret")
		}
		if r.PostForm.Get("grant_type") != "client_credentials" || pass != secret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestProtocolAuthFaultMatrix runs every protocol with each auth method it
// takes against its fake, and injects each fault: the adapter must return
// the stable code the gateway and the connectivity test rely on.
func TestProtocolAuthFaultMatrix(t *testing.T) {
	const key = "sk-matrix-key-0123456789abcdef"
	const clientSecret = "cs-matrix-secret-0123456789"
	oauth := newClientCredentialsServer(t, clientSecret, "tok-oauth-matrix")
	gcpKey := rsaKey(t)
	gcp := newGCPTokenServer(t, &gcpKey.PublicKey, "ya29.matrix-token")
	roots := x509.NewCertPool()
	roots.AddCert(oauth.Certificate())
	roots.AddCert(gcp.Certificate())
	oauthCred := switchyard.Credential{Name: "k", Method: switchyard.AuthOAuth2, Secrets: secrets("client_secret", clientSecret),
		Config: map[string]string{"client_id": "matrix", "token_url": oauth.URL + "/token"}}
	azureAD := switchyard.Credential{Name: "k", Method: switchyard.AuthAzureAD, Secrets: secrets("client_secret", clientSecret),
		Config: map[string]string{"tenant_id": "tenant-1", "client_id": "matrix", "authority_host": strings.TrimPrefix(oauth.URL, "https://")}}
	apiKey := switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", key)}
	bearer := switchyard.Credential{Name: "k", Method: switchyard.AuthBearer, Secrets: secrets("token", key)}

	type combo struct {
		name     string
		upstream func() faulty
		protocol switchyard.Protocol
		path     string
		model    string
		params   map[string]string
		cred     switchyard.Credential
	}
	combos := []combo{
		{"openai/api_key", func() faulty { return fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{key}}) }, switchyard.ProtocolOpenAI, "/v1", "gpt-4o-mini", nil, apiKey},
		{"openai_compatible/bearer", func() faulty { return fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{key}}) }, switchyard.ProtocolOpenAICompatible, "/v1", "gpt-4o-mini", nil, bearer},
		{"openai_compatible/oauth2", func() faulty { return fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{"tok-oauth-matrix"}}) }, switchyard.ProtocolOpenAICompatible, "/v1", "gpt-4o-mini", nil, oauthCred},
		{"azure_openai/api_key", func() faulty { return fake.NewAzure(fake.AzureConfig{APIKeys: []string{key}}) }, switchyard.ProtocolAzureOpenAI, "", "gpt-4o-mini", map[string]string{"api_version": "2024-10-21"}, apiKey},
		{"azure_openai/azure_ad", func() faulty { return fake.NewAzure(fake.AzureConfig{Tokens: []string{"tok-oauth-matrix"}}) }, switchyard.ProtocolAzureOpenAI, "", "gpt-4o-mini", map[string]string{"api_version": "2024-10-21"}, azureAD},
		{"anthropic/api_key", func() faulty { return fake.NewAnthropic(fake.AnthropicConfig{APIKeys: []string{key}}) }, switchyard.ProtocolAnthropic, "", fake.DefaultAnthropicModels[0], nil, apiKey},
		{"ollama/none", func() faulty { return fake.NewOllama(fake.OllamaConfig{}) }, switchyard.ProtocolOllama, "", "llama3.2", nil, switchyard.Credential{Name: "k", Method: switchyard.AuthNone}},
		{"ollama/bearer", func() faulty { return fake.NewOllama(fake.OllamaConfig{APIKeys: []string{key}}) }, switchyard.ProtocolOllama, "", "llama3.2", nil, bearer},
		{"bedrock/aws_sigv4", func() faulty {
			return fake.NewBedrock(fake.BedrockConfig{AccessKeys: map[string]string{"AKIAMATRIX": key}})
		}, switchyard.ProtocolBedrock, "", fake.DefaultBedrockModels[0], map[string]string{"region": "us-east-1"},
			switchyard.Credential{Name: "k", Method: switchyard.AuthAWSSigV4, Config: map[string]string{"region": "us-east-1"},
				Secrets: secrets("access_key_id", "AKIAMATRIX", "secret_access_key", key)}},
		{"gemini/api_key", func() faulty { return fake.NewGemini(fake.GeminiConfig{APIKeys: []string{key}}) }, switchyard.ProtocolGemini, "/v1beta", fake.DefaultGeminiModels[0], nil, apiKey},
		{"vertex/gcp_service_account", func() faulty {
			return fake.NewGemini(fake.GeminiConfig{Vertex: true, Tokens: []string{"ya29.matrix-token"}, Project: "proj-1", Location: "us-central1"})
		}, switchyard.ProtocolVertex, "/v1/projects/{project}/locations/{location}", fake.DefaultGeminiModels[0], map[string]string{"project": "proj-1"},
			switchyard.Credential{Name: "k", Method: switchyard.AuthGCPServiceAccount, Secrets: secrets("service_account_json", serviceAccount(t, gcpKey, gcp.URL+"/token"))}},
	}
	faults := []struct {
		fault  fake.Fault
		stream bool
		code   string
	}{
		{fake.Status(401), false, provider.CodeAuth},
		{fake.Status(403), false, provider.CodeForbidden},
		{fake.RateLimit(7 * time.Second), false, provider.CodeRateLimited},
		{fake.Status(500), false, provider.CodeUpstream},
		{fake.Status(503), false, provider.CodeUnavailable},
		{fake.Malformed(), false, provider.CodeBadResponse},
		{fake.Cut(1), true, provider.CodeNetwork},
		{fake.Stall(1), true, provider.CodeTimeout},
	}
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{RootCAs: roots})}
	for _, c := range combos {
		up := c.upstream()
		srv := httptest.NewServer(up)
		p := &switchyard.Provider{Name: c.name, Slug: "p", Protocol: c.protocol, BaseURL: srv.URL + c.path, Params: c.params, Enabled: true}
		a, err := f.New(p, c.cred, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		req := &provider.ChatRequest{Model: c.model, MaxTokens: 64, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "one two three four five six")}}
		t.Run(c.name+"/no fault", func(t *testing.T) {
			if _, err := a.Chat(context.Background(), req); err != nil {
				t.Fatalf("without a fault: %v", err)
			}
		})
		for _, fl := range faults {
			t.Run(c.name+"/"+fl.fault.String(), func(t *testing.T) {
				up.SetFault(fl.fault)
				defer up.ClearFaults()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				if fl.fault.Kind == fake.FaultStall {
					ctx, cancel = context.WithTimeout(context.Background(), 400*time.Millisecond)
					defer cancel()
				}
				err := run(ctx, a, req, fl.stream)
				e, ok := provider.AsError(err)
				if !ok || e.Code != fl.code {
					t.Fatalf("%s: got %v, want code %s", fl.fault, err, fl.code)
				}
				if fl.code == provider.CodeRateLimited && e.RetryAfter != 7*time.Second {
					t.Fatalf("Retry-After = %v, want 7s", e.RetryAfter)
				}
				if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), clientSecret) {
					t.Fatal("an error contains the credential")
				}
			})
		}
		srv.Close()
	}
}

// run makes one call, streaming or not, reading a stream to its end.
func run(ctx context.Context, a provider.Adapter, req *provider.ChatRequest, stream bool) error {
	if !stream {
		_, err := a.Chat(ctx, req)
		return err
	}
	s, err := a.ChatStream(ctx, req)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		_, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return errors.New("the stream ended cleanly despite the fault")
		}
		if err != nil {
			return err
		}
	}
}
