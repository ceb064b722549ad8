package ollama

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

func ptr[T any](v T) *T { return &v }

func goldenRequests() map[string]*provider.ChatRequest {
	weather := provider.Tool{Name: "get_weather", Description: "Weather of a city",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}
	return map[string]*provider.ChatRequest{
		"text": {Model: "llama3.2", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Hello there")}},
		"system": {Model: "llama3.2", User: "ignored", Messages: []provider.Message{
			provider.TextMessage(provider.RoleSystem, "You are terse."), provider.TextMessage(provider.RoleUser, "Hi")}},
		"tools_multi_turn": {Model: "llama3.2", Tools: []provider.Tool{weather}, ToolChoice: "auto", Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Weather in Paris?"),
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_0", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
			{Role: provider.RoleTool, ToolCallID: "call_0", Content: []provider.Part{{Type: provider.PartText, Text: `{"temp":21}`}}},
			provider.TextMessage(provider.RoleUser, "Thanks")}},
		"tool_choice_none": {Model: "llama3.2", Tools: []provider.Tool{weather}, ToolChoice: "none",
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Hi")}},
		"image": {Model: "llava", Messages: []provider.Message{{Role: provider.RoleUser, Content: []provider.Part{
			{Type: provider.PartText, Text: "What is this?"},
			{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: []byte("\x89PNG\r\n")}}}}}},
		"json_schema": {Model: "llama3.2", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "A city")},
			ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Name: "city", Schema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)}},
		"json_object": {Model: "llama3.2", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "JSON")},
			ResponseFormat: &provider.ResponseFormat{Type: "json_object"}},
		"sampling": {Model: "llama3.2", Temperature: ptr(0.2), TopP: ptr(0.9), MaxTokens: 256, Stop: []string{"END"},
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

func TestEncodeChatGolden(t *testing.T) {
	for name, req := range goldenRequests() {
		t.Run(name, func(t *testing.T) {
			body, err := EncodeChat(req, false)
			if err != nil {
				t.Fatal(err)
			}
			got := normalise(t, body)
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
				t.Errorf("differs from the golden file:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestEncodeChatRefuses(t *testing.T) {
	for name, req := range map[string]*provider.ChatRequest{
		"image by URL":  {Messages: []provider.Message{{Role: provider.RoleUser, Content: []provider.Part{{Type: provider.PartImage, Image: &provider.Image{URL: "https://x/y.png"}}}}}},
		"bad arguments": {Messages: []provider.Message{{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{Name: "f", Arguments: "{oops"}}}}},
		"unknown role":  {Messages: []provider.Message{provider.TextMessage("robot", "x")}},
	} {
		if _, err := EncodeChat(req, false); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

const testKey = "proxy-key-0123"

type env struct {
	fake    *fake.Ollama
	adapter provider.Adapter
}

func newEnv(t *testing.T, keys []string, cred switchyard.Credential, headers map[string]string) *env {
	t.Helper()
	f := fake.NewOllama(fake.OllamaConfig{APIKeys: keys, Options: fake.Options{StallLimit: 5 * time.Second}})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	p := &switchyard.Provider{Protocol: switchyard.ProtocolOllama, BaseURL: srv.URL, Headers: map[string]switchyard.Secret{}}
	for k, v := range headers {
		p.Headers[k] = switchyard.NewSecret(v)
	}
	a, err := New(provider.Config{Provider: p, Credential: cred, HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: f, adapter: a}
}

func keyCred(k string) switchyard.Credential {
	return switchyard.Credential{Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(k)}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func chatReq(text string) *provider.ChatRequest {
	return &provider.ChatRequest{Model: "llama3.2", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, text)}}
}

func toolReq() *provider.ChatRequest {
	r := chatReq("use get_weather please")
	r.Tools = []provider.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}
	return r
}

func drain(s provider.ChatStream) (text string, calls []provider.ToolCallDelta, last *provider.ChatChunk, err error) {
	defer s.Close()
	for {
		c, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return text, calls, last, err
		}
		text += c.Text
		calls = append(calls, c.ToolCalls...)
		last = c
	}
}

func TestRoundTrips(t *testing.T) {
	e := newEnv(t, nil, switchyard.Credential{Method: switchyard.AuthNone}, nil)
	ctx := ctxT(t)
	req := chatReq("Hello llama friend")
	req.MaxTokens = 50
	res, err := e.adapter.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Text() != "You said: Hello llama friend" || res.Model != "llama3.2:latest" || res.FinishReason != provider.FinishStop ||
		res.Usage.InputTokens == 0 || res.Usage.OutputTokens == 0 || res.Created.IsZero() {
		t.Errorf("answer %+v", res)
	}
	rec, _ := e.fake.LastRequest()
	if !bytes.Contains(rec.Body, []byte(`"stream":false`)) || !bytes.Contains(rec.Body, []byte(`"num_predict":50`)) {
		t.Errorf("request %s", rec.Body)
	}

	res, err = e.adapter.Chat(ctx, toolReq())
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != provider.FinishToolCalls || len(res.Message.ToolCalls) != 1 ||
		res.Message.ToolCalls[0] != (provider.ToolCall{ID: "call_0", Name: "get_weather", Arguments: `{"city":"fake"}`}) {
		t.Errorf("tool answer %+v", res)
	}

	s, err := e.adapter.ChatStream(ctx, chatReq("stream some words"))
	if err != nil {
		t.Fatal(err)
	}
	text, _, last, err := drain(s)
	if err != nil || text != "You said: stream some words" || last.FinishReason != provider.FinishStop || last.Usage == nil || last.Usage.OutputTokens == 0 {
		t.Errorf("stream %q %+v %v", text, last, err)
	}

	s, err = e.adapter.ChatStream(ctx, toolReq())
	if err != nil {
		t.Fatal(err)
	}
	_, calls, last, err := drain(s)
	if err != nil || len(calls) != 1 || calls[0] != (provider.ToolCallDelta{Index: 0, ID: "call_0", Name: "get_weather", Arguments: `{"city":"fake"}`}) ||
		last.FinishReason != provider.FinishToolCalls {
		t.Errorf("tool stream %+v %+v %v", calls, last, err)
	}

	emb, err := e.adapter.Embed(ctx, &provider.EmbedRequest{Model: "nomic-embed-text", Input: []string{"a", "b"}})
	if err != nil || len(emb.Vectors) != 2 || len(emb.Vectors[1]) != 16 || emb.Model != "nomic-embed-text:latest" {
		t.Fatalf("embeddings %+v %v", emb, err)
	}

	models, err := e.adapter.ListModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, fake.DefaultOllamaModels) || models[0].DisplayName != "llama3.2:latest (llama3.2, 1B, 1.1 GB)" ||
		!models[2].Embeddings || models[0].Embeddings {
		t.Errorf("models %+v", models)
	}
	if err := e.adapter.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.fake.LastRequest(); rec.Path != "/api/tags" {
		t.Errorf("ping sent to %s", rec.Path)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, []string{testKey}, keyCred(testKey), nil)
	chat := func(ctx context.Context) error { _, err := e.adapter.Chat(ctx, chatReq("hi")); return err }
	stream := func(ctx context.Context) error {
		s, err := e.adapter.ChatStream(ctx, chatReq("one two three four"))
		if err != nil {
			return err
		}
		_, _, _, err = drain(s)
		return err
	}
	embed := func(ctx context.Context) error {
		_, err := e.adapter.Embed(ctx, &provider.EmbedRequest{Model: "nomic-embed-text", Input: []string{"x"}})
		return err
	}
	for _, c := range []struct {
		name   string
		fault  fake.Fault
		call   func(context.Context) error
		code   string
		status int
		retry  time.Duration
	}{
		{"401", fake.Status(401), chat, provider.CodeAuth, 401, 0},
		{"404", fake.Status(404), embed, provider.CodeNotFound, 404, 0},
		{"429", fake.RateLimit(4 * time.Second), stream, provider.CodeRateLimited, 429, 4 * time.Second},
		{"500", fake.Status(500), e.adapter.Ping, provider.CodeUpstream, 500, 0},
		{"503", fake.Status(503), chat, provider.CodeUnavailable, 503, 0},
		{"malformed", fake.Malformed(), chat, provider.CodeBadResponse, 0, 0},
		{"malformed stream", fake.Fault{Kind: fake.FaultMalformed, After: 1}, stream, provider.CodeBadResponse, 0, 0},
		{"malformed tags", fake.Malformed(), e.adapter.Ping, provider.CodeBadResponse, 0, 0},
		{"cut", fake.Cut(2), stream, provider.CodeNetwork, 0, 0},
		{"cut body", fake.Cut(0), chat, provider.CodeNetwork, 0, 0},
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
	t.Run("unknown model", func(t *testing.T) {
		_, err := e.adapter.Chat(ctxT(t), &provider.ChatRequest{Model: "nope", Messages: chatReq("x").Messages})
		if pe, ok := provider.AsError(err); !ok || pe.Code != provider.CodeNotFound || pe.Message != `model "nope" not found, try pulling it first` {
			t.Errorf("error %v", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		w := newEnv(t, []string{testKey}, keyCred("wrong"), nil)
		if pe, ok := provider.AsError(w.adapter.Ping(ctxT(t))); !ok || pe.Code != provider.CodeAuth || pe.Status != 401 || pe.Message != "unauthorized" {
			t.Errorf("error %v", pe)
		}
	})
	t.Run("stall", func(t *testing.T) {
		e.fake.QueueFault(fake.Stall(1))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if pe, ok := provider.AsError(stream(ctx)); !ok || pe.Code != provider.CodeTimeout {
			t.Errorf("error %v", pe)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		e.fake.QueueFault(fake.Stall(1))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		if pe, ok := provider.AsError(stream(ctx)); !ok || pe.Code != provider.CodeNetwork {
			t.Errorf("error %v", pe)
		}
	})
}

func TestStreamEndings(t *testing.T) {
	line := `{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}` + "\n"
	for name, c := range map[string]struct {
		body, code string
	}{
		"no done":   {line, provider.CodeNetwork},
		"half line": {line + `{"model":"m"`, provider.CodeNetwork},
		"error":     {line + `{"error":"out of memory"}` + "\n", provider.CodeUpstream},
		"done":      {line + `{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","prompt_eval_count":3,"eval_count":1}` + "\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, c.body) }))
			defer srv.Close()
			a, err := New(provider.Config{Provider: &switchyard.Provider{BaseURL: srv.URL}, HTTP: &http.Client{}})
			if err != nil {
				t.Fatal(err)
			}
			s, err := a.ChatStream(ctxT(t), chatReq("x"))
			if err != nil {
				t.Fatal(err)
			}
			text, _, last, err := drain(s)
			if text != "Hi" {
				t.Errorf("text %q", text)
			}
			if c.code == "" {
				if err != nil || last.FinishReason != provider.FinishLength || *last.Usage != (provider.Usage{InputTokens: 3, OutputTokens: 1}) {
					t.Errorf("last %+v %v", last, err)
				}
				return
			}
			if pe, ok := provider.AsError(err); !ok || pe.Code != c.code || errors.Is(err, io.EOF) {
				t.Errorf("error %v, want %s", err, c.code)
			}
		})
	}
}

func TestOnlyConfiguredHeaders(t *testing.T) {
	e := newEnv(t, []string{testKey}, keyCred(testKey), map[string]string{"X-Proxy": "p"})
	ctx := ctxT(t)
	if _, err := e.adapter.Chat(ctx, chatReq("hi")); err != nil {
		t.Fatal(err)
	}
	if err := e.adapter.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	transport := []string{"Accept-Encoding", "Content-Length", "User-Agent"}
	for _, r := range e.fake.Requests() {
		want := map[string]string{"Authorization": "Bearer " + testKey, "X-Proxy": "p"}
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
		if len(want) > 0 || len(r.Query) > 0 {
			t.Errorf("%s %s: missing %v, query %v", r.Method, r.Path, want, r.Query)
		}
	}
}
