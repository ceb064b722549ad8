package protocols_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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
	gcpKey, otherKey := rsaKey(t), rsaKey(t)
	tokens := newGCPTokenServer(t, &gcpKey.PublicKey, "ya29.factory-token")
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
		{"gemini", fake.NewGemini(fake.GeminiConfig{APIKeys: []string{key}}), switchyard.ProtocolGemini, "/v1beta", fake.DefaultGeminiModels[0], nil,
			switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", key)},
			&switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: secrets("api_key", "AIza-wrong")}, provider.CodeAuth},
		{"vertex with a service account", fake.NewGemini(fake.GeminiConfig{Vertex: true, Tokens: []string{"ya29.factory-token"}, Project: "proj-1", Location: "us-central1"}),
			switchyard.ProtocolVertex, "/v1/projects/{project}/locations/{location}", fake.DefaultGeminiModels[0], map[string]string{"project": "proj-1"},
			switchyard.Credential{Name: "k", Method: switchyard.AuthGCPServiceAccount, Secrets: secrets("service_account_json", serviceAccount(t, gcpKey, tokens.URL+"/token"))},
			&switchyard.Credential{Name: "k", Method: switchyard.AuthGCPServiceAccount, Secrets: secrets("service_account_json", serviceAccount(t, otherKey, tokens.URL+"/token"))},
			provider.CodeAuth},
	}
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(tokens.Certificate())
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{RootCAs: roots})}
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
	if _, err := f.New(&switchyard.Provider{Protocol: "no_such_protocol", BaseURL: "https://x"}, switchyard.Credential{}, nil); err == nil {
		t.Fatal("a protocol without an adapter was built")
	}
	if tokens.exchanged.Load() == 0 {
		t.Fatal("no service account token was exchanged")
	}
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// serviceAccount is a service account key file whose token_uri is tokenURI.
func serviceAccount(t *testing.T, k *rsa.PrivateKey, tokenURI string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "proj-1", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "gateway@proj-1.iam.gserviceaccount.com", "token_uri": tokenURI})
	return string(b)
}

type gcpTokenServer struct {
	*httptest.Server
	exchanged atomic.Int32
}

// newGCPTokenServer is an OAuth2 token endpoint (HTTPS, as tokenauth
// requires) that exchanges a JWT bearer assertion signed by pub for token,
// and refuses any other as Google does (400 invalid_grant).
func newGCPTokenServer(t *testing.T, pub *rsa.PublicKey, token string) *gcpTokenServer {
	ts := &gcpTokenServer{}
	ts.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || !verifyJWT(r.PostForm.Get("assertion"), pub) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
		ts.exchanged.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(ts.Close)
	return ts
}

// verifyJWT checks an RS256 assertion's signature.
func verifyJWT(jwt string, pub *rsa.PublicKey) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) == nil
}
