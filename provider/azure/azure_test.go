package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testKey = "azure-key-0123456789"

func ptr[T any](v T) *T { return &v }

func goldenRequests() map[string]*provider.ChatRequest {
	weather := provider.Tool{Name: "get_weather", Description: "Weather of a city",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}
	return map[string]*provider.ChatRequest{
		"text": {Model: "chat", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Hello there")}},
		"system": {Model: "chat", Messages: []provider.Message{
			provider.TextMessage(provider.RoleSystem, "You are terse."), provider.TextMessage(provider.RoleUser, "Hi")}},
		"tools_multi_turn": {Model: "chat", Tools: []provider.Tool{weather}, ToolChoice: "required", Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Weather in Paris?"),
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
			{Role: provider.RoleTool, ToolCallID: "call_1", Content: []provider.Part{{Type: provider.PartText, Text: `{"temp":21}`}}},
			provider.TextMessage(provider.RoleUser, "Thanks")}},
		"image": {Model: "chat", Messages: []provider.Message{{Role: provider.RoleUser, Content: []provider.Part{
			{Type: provider.PartText, Text: "What is this?"},
			{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff}}}}}}},
		"json_schema": {Model: "chat", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "A city")},
			ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{"type":"object"}`)}},
		"sampling": {Model: "chat", Temperature: ptr(0.0), MaxTokens: 64, Stop: []string{"END"},
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Count")}},
	}
}

func normalise(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return append(out, '\n')
}

type env struct {
	fake    *fake.Azure
	adapter provider.Adapter
}

func newEnv(t *testing.T, params map[string]string, headers map[string]string) *env {
	t.Helper()
	f := fake.NewAzure(fake.AzureConfig{APIKeys: []string{testKey}, APIVersions: []string{DefaultAPIVersion, "2025-04-01-preview"},
		Deployments: map[string]string{"chat": "gpt-4o-mini", "embed": "text-embedding-3-small"}, Options: fake.Options{StallLimit: 5 * time.Second}})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	p := &switchyard.Provider{Protocol: switchyard.ProtocolAzureOpenAI, BaseURL: srv.URL, Params: params, Headers: map[string]switchyard.Secret{}}
	for k, v := range headers {
		p.Headers[k] = switchyard.NewSecret(v)
	}
	cred := switchyard.Credential{Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(testKey)}}
	a, err := New(provider.Config{Provider: p, Credential: cred, HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: f, adapter: a}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRequestGolden checks the body that reaches the upstream, through the
// fake's recorder.
func TestRequestGolden(t *testing.T) {
	e := newEnv(t, nil, nil)
	for name, req := range goldenRequests() {
		t.Run(name, func(t *testing.T) {
			if _, err := e.adapter.Chat(ctxT(t), req); err != nil {
				t.Fatal(err)
			}
			rec, _ := e.fake.LastRequest()
			if rec.Path != "/openai/deployments/chat/chat/completions" || rec.Query.Get("api-version") != DefaultAPIVersion {
				t.Errorf("sent to %s?%s", rec.Path, rec.Query.Encode())
			}
			got := normalise(t, rec.Body)
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("body differs from the golden file:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestRoundTrips(t *testing.T) {
	e := newEnv(t, map[string]string{"api_version": "2025-04-01-preview"}, nil)
	ctx := ctxT(t)
	res, err := e.adapter.Chat(ctx, &provider.ChatRequest{Model: "chat", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Hello Azure")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Text() != "You said: Hello Azure" || res.Model != "gpt-4o-mini" || res.Usage.InputTokens == 0 {
		t.Errorf("answer %+v", res)
	}
	rec, _ := e.fake.LastRequest()
	if rec.Query.Get("api-version") != "2025-04-01-preview" || bytes.Contains(rec.Body, []byte(`"model"`)) {
		t.Errorf("request %s %v", rec.Body, rec.Query)
	}

	s, err := e.adapter.ChatStream(ctx, &provider.ChatRequest{Model: "chat", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "call get_weather")},
		Tools: []provider.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	var args, name string
	var last *provider.ChatChunk
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range c.ToolCalls {
			name += d.Name
			args += d.Arguments
		}
		last = c
	}
	if name != "get_weather" || args != `{"city":"fake"}` || last.FinishReason != provider.FinishToolCalls || last.Usage == nil {
		t.Errorf("stream: %q %q %+v", name, args, last)
	}

	emb, err := e.adapter.Embed(ctx, &provider.EmbedRequest{Model: "embed", Input: []string{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Vectors) != 3 || len(emb.Vectors[0]) != 16 {
		t.Errorf("embeddings %+v", emb)
	}
	models, err := e.adapter.ListModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
		if m.Embeddings != (m.ID == "text-embedding-3-small") {
			t.Errorf("model %+v", m)
		}
	}
	if !slices.Equal(ids, []string{"gpt-4o-mini", "text-embedding-3-small"}) {
		t.Errorf("models %v", ids)
	}
	if err := e.adapter.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.fake.LastRequest(); rec.Path != "/openai/models" {
		t.Errorf("ping sent to %s", rec.Path)
	}
}

func TestOldVersionListsDeployments(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = io.WriteString(w, `{"data":[{"scale_settings":{"scale_type":"standard"},"model":"gpt-35-turbo","owner":"organization-owner",
			"id":"my-chat","status":"succeeded","created_at":1677640000,"updated_at":1677640000,"object":"deployment"}],"object":"list"}`)
	}))
	defer srv.Close()
	a, err := New(provider.Config{Provider: &switchyard.Provider{BaseURL: srv.URL, Params: map[string]string{"api_version": "2023-03-15-preview"}},
		Credential: switchyard.Credential{Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("k")}},
		HTTP:       &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	models, err := a.ListModels(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.URL.Path != "/openai/deployments" || got.URL.Query().Get("api-version") != "2023-03-15-preview" || got.Header.Get("api-key") != "k" {
		t.Errorf("request %s %v", got.URL, got.Header)
	}
	if len(models) != 1 || models[0].ID != "my-chat" || models[0].DisplayName != "my-chat (gpt-35-turbo)" || models[0].Created.IsZero() {
		t.Errorf("models %+v", models)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, nil, nil)
	chat := func(ctx context.Context, model string) error {
		_, err := e.adapter.Chat(ctx, &provider.ChatRequest{Model: model, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "hi")}})
		return err
	}
	stream := func(ctx context.Context) error {
		s, err := e.adapter.ChatStream(ctx, &provider.ChatRequest{Model: "chat", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "hi there you")}})
		if err != nil {
			return err
		}
		defer s.Close()
		for {
			if _, err := s.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	}
	for _, c := range []struct {
		name   string
		fault  fake.Fault
		call   func(context.Context) error
		code   string
		status int
		retry  time.Duration
	}{
		{"401", fake.Status(401), func(ctx context.Context) error { return chat(ctx, "chat") }, provider.CodeAuth, 401, 0},
		{"unknown deployment", fake.Fault{}, func(ctx context.Context) error { return chat(ctx, "nope") }, provider.CodeNotFound, 404, 0},
		{"429", fake.RateLimit(2 * time.Second), func(ctx context.Context) error { return chat(ctx, "chat") }, provider.CodeRateLimited, 429, 2 * time.Second},
		{"500", fake.Status(500), func(ctx context.Context) error { return chat(ctx, "chat") }, provider.CodeUpstream, 500, 0},
		{"503", fake.Status(503), stream, provider.CodeUnavailable, 503, 0},
		{"malformed", fake.Malformed(), func(ctx context.Context) error { return chat(ctx, "chat") }, provider.CodeBadResponse, 0, 0},
		{"malformed models", fake.Malformed(), e.adapter.Ping, provider.CodeBadResponse, 0, 0},
		{"stream cut", fake.Cut(2), stream, provider.CodeNetwork, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.fake.QueueFault(c.fault)
			defer e.fake.ClearFaults()
			err := c.call(ctxT(t))
			pe, ok := provider.AsError(err)
			if !ok || pe.Code != c.code || pe.Status != c.status || pe.RetryAfter != c.retry {
				t.Errorf("error %#v, want %s %d %v", err, c.code, c.status, c.retry)
			}
		})
	}
	t.Run("stall", func(t *testing.T) {
		e.fake.QueueFault(fake.Stall(1))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if pe, ok := provider.AsError(stream(ctx)); !ok || pe.Code != provider.CodeTimeout {
			t.Errorf("error %v", pe)
		}
	})
}

func TestOnlyConfiguredHeaders(t *testing.T) {
	e := newEnv(t, nil, map[string]string{"X-Ms-Client-Request-Id": "abc"})
	ctx := ctxT(t)
	if _, err := e.adapter.Chat(ctx, &provider.ChatRequest{Model: "chat", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "hi")}}); err != nil {
		t.Fatal(err)
	}
	if err := e.adapter.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	transport := []string{"Accept-Encoding", "Content-Length", "User-Agent"}
	for _, r := range e.fake.Requests() {
		want := map[string]string{"Api-Key": testKey, "X-Ms-Client-Request-Id": "abc"}
		if r.Method == http.MethodPost {
			want["Content-Type"] = "application/json"
		}
		for k, vs := range r.Header {
			if slices.Contains(transport, k) {
				continue
			}
			if w, ok := want[k]; !ok || len(vs) != 1 || vs[0] != w {
				t.Errorf("%s %s: header %s: %q", r.Method, r.Path, k, vs)
			}
			delete(want, k)
		}
		if len(want) > 0 {
			t.Errorf("%s %s: missing %v", r.Method, r.Path, want)
		}
		if len(r.Query) != 1 || r.Query.Get("api-version") != DefaultAPIVersion {
			t.Errorf("query %v", r.Query)
		}
	}
}

func TestWrongKey(t *testing.T) {
	f := fake.NewAzure(fake.AzureConfig{APIKeys: []string{testKey}})
	srv := httptest.NewServer(f)
	defer srv.Close()
	a, err := New(provider.Config{Provider: &switchyard.Provider{BaseURL: srv.URL},
		Credential: switchyard.Credential{Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("wrong")}},
		HTTP:       &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Ping(ctxT(t))
	if pe, ok := provider.AsError(err); !ok || pe.Code != provider.CodeAuth || pe.Status != 401 || pe.Type != "401" || pe.Message == "" {
		t.Fatalf("error %#v", err)
	}
}
