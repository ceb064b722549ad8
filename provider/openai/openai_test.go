package openai

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
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func ptr[T any](v T) *T { return &v }

// goldenRequests is the table of internal requests whose encoding is kept
// in testdata.
func goldenRequests() map[string]*provider.ChatRequest {
	weather := provider.Tool{Name: "get_weather", Description: "Weather of a city",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}
	return map[string]*provider.ChatRequest{
		"text": {Model: "gpt-4o-mini", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Hello there")}},
		"system": {Model: "gpt-4o-mini", User: "user-42", Messages: []provider.Message{
			provider.TextMessage(provider.RoleSystem, "You are terse."),
			provider.TextMessage(provider.RoleUser, "Hi")}},
		"tools_multi_turn": {Model: "gpt-4o-mini", Tools: []provider.Tool{weather}, ToolChoice: "auto", Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Weather in Paris?"),
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
			{Role: provider.RoleTool, ToolCallID: "call_1", Content: []provider.Part{{Type: provider.PartText, Text: `{"temp":21}`}}},
			provider.TextMessage(provider.RoleAssistant, "It is 21 degrees."),
			provider.TextMessage(provider.RoleUser, "And in Rome?")}},
		"tool_choice_named": {Model: "gpt-4o-mini", Tools: []provider.Tool{weather}, ToolChoice: "get_weather",
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Rome")}},
		"image": {Model: "gpt-4o", Messages: []provider.Message{{Role: provider.RoleUser, Content: []provider.Part{
			{Type: provider.PartText, Text: "What is this?"},
			{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: []byte("\x89PNG\r\n"), Detail: "low"}},
			{Type: provider.PartImage, Image: &provider.Image{URL: "https://example.com/cat.jpg"}}}}}},
		"json_schema": {Model: "gpt-4o-mini", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "A city")},
			ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Name: "city", Strict: true,
				Schema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"],"additionalProperties":false}`)}},
		"json_object": {Model: "gpt-4o-mini", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "JSON please")},
			ResponseFormat: &provider.ResponseFormat{Type: "json_object"}},
		"sampling": {Model: "gpt-4o-mini", Temperature: ptr(0.2), TopP: ptr(0.9), MaxTokens: 256, Stop: []string{"END", "\n\n"},
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Count")}},
	}
}

// normalise re-encodes JSON with sorted keys and indentation.
func normalise(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	got = normalise(t, got)
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
		t.Errorf("%s differs from the golden file:\n got %s\nwant %s", name, got, want)
	}
}

func TestEncodeChatGolden(t *testing.T) {
	for name, req := range goldenRequests() {
		t.Run(name, func(t *testing.T) {
			body, err := EncodeChat(req, EncodeOptions{MaxTokensField: MaxCompletionTokens})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, body)
		})
	}
	t.Run("compatible_stream", func(t *testing.T) {
		body, err := EncodeChat(goldenRequests()["sampling"], EncodeOptions{MaxTokensField: MaxTokens, Stream: true, StreamUsage: true})
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "compatible_stream", body)
	})
}

func TestEncodeChatRefuses(t *testing.T) {
	for name, req := range map[string]*provider.ChatRequest{
		"image in system":    {Messages: []provider.Message{{Role: provider.RoleSystem, Content: []provider.Part{{Type: provider.PartImage, Image: &provider.Image{URL: "x"}}}}}},
		"image without data": {Messages: []provider.Message{{Role: provider.RoleUser, Content: []provider.Part{{Type: provider.PartImage, Image: &provider.Image{}}}}}},
		"unknown role":       {Messages: []provider.Message{provider.TextMessage("robot", "x")}},
		"unknown format":     {Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "x")}, ResponseFormat: &provider.ResponseFormat{Type: "yaml"}},
	} {
		if _, err := EncodeChat(req, EncodeOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

const testKey = "sk-test-0123456789"

type env struct {
	fake    *fake.OpenAI
	srv     *httptest.Server
	adapter provider.Adapter
	prov    *switchyard.Provider
}

func newEnv(t *testing.T, protocol switchyard.Protocol, key string, headers map[string]string) *env {
	t.Helper()
	f := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{testKey}, Options: fake.Options{StallLimit: 5 * time.Second}})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	p := &switchyard.Provider{Protocol: protocol, BaseURL: srv.URL + "/v1", Headers: map[string]switchyard.Secret{}}
	for k, v := range headers {
		p.Headers[k] = switchyard.NewSecret(v)
	}
	cred := switchyard.Credential{Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(key)}}
	a, err := New(provider.Config{Provider: p, Credential: cred, HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: f, srv: srv, adapter: a, prov: p}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func chatReq(text string) *provider.ChatRequest {
	return &provider.ChatRequest{Model: "gpt-4o-mini", Messages: []provider.Message{provider.TextMessage(provider.RoleUser, text)}}
}

func toolReq() *provider.ChatRequest {
	r := chatReq("use get_weather for Paris")
	r.Tools = []provider.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}
	return r
}

// collect reads a stream to its end.
func collect(s provider.ChatStream) (text string, calls map[int]*provider.ToolCall, last *provider.ChatChunk, n int, err error) {
	defer s.Close()
	calls = map[int]*provider.ToolCall{}
	for {
		c, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return text, calls, last, n, err
		}
		n++
		text += c.Text
		for _, d := range c.ToolCalls {
			tc := calls[d.Index]
			if tc == nil {
				tc = &provider.ToolCall{}
				calls[d.Index] = tc
			}
			if d.ID != "" {
				tc.ID = d.ID
			}
			if d.Name != "" {
				tc.Name = d.Name
			}
			tc.Arguments += d.Arguments
		}
		last = c
	}
}

func TestChat(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAI, testKey, nil)
	req := chatReq("Hello fake world")
	req.MaxTokens = 100
	res, err := e.adapter.Chat(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Text() != "You said: Hello fake world" || res.FinishReason != provider.FinishStop || res.Model != "gpt-4o-mini" || res.ID == "" {
		t.Errorf("answer %+v", res)
	}
	if res.Usage.InputTokens == 0 || res.Usage.OutputTokens == 0 || res.Created.IsZero() {
		t.Errorf("usage %+v created %v", res.Usage, res.Created)
	}
	last, _ := e.fake.LastRequest()
	var body map[string]any
	_ = json.Unmarshal(last.Body, &body)
	if body["max_completion_tokens"] != float64(100) || body["max_tokens"] != nil {
		t.Errorf("openai protocol sent %s", last.Body)
	}

	res, err = e.adapter.Chat(ctxT(t), toolReq())
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != provider.FinishToolCalls || len(res.Message.ToolCalls) != 1 ||
		res.Message.ToolCalls[0].Name != "get_weather" || res.Message.ToolCalls[0].Arguments != `{"city":"fake"}` || res.Message.ToolCalls[0].ID == "" {
		t.Errorf("tool answer %+v", res)
	}
}

func TestCompatibleSendsMaxTokens(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAICompatible, testKey, nil)
	req := chatReq("one two three four five six seven eight nine ten")
	req.MaxTokens = 3
	res, err := e.adapter.Chat(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != provider.FinishLength {
		t.Errorf("finish %q", res.FinishReason)
	}
	last, _ := e.fake.LastRequest()
	if !bytes.Contains(last.Body, []byte(`"max_tokens":3`)) || bytes.Contains(last.Body, []byte("max_completion_tokens")) {
		t.Errorf("compatible protocol sent %s", last.Body)
	}
}

func TestStream(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAI, testKey, nil)
	s, err := e.adapter.ChatStream(ctxT(t), chatReq("stream these words please"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Recv()
	if err != nil || first.ID == "" || first.Model != "gpt-4o-mini" {
		t.Fatalf("first chunk %+v, %v", first, err)
	}
	text, _, last, _, err := collect(s)
	if err != nil {
		t.Fatal(err)
	}
	if first.Text+text != "You said: stream these words please" {
		t.Errorf("text %q", first.Text+text)
	}
	if last.FinishReason != provider.FinishStop || last.Usage == nil || last.Usage.InputTokens == 0 || last.Usage.OutputTokens == 0 {
		t.Errorf("last chunk %+v", last)
	}
	rec, _ := e.fake.LastRequest()
	if !bytes.Contains(rec.Body, []byte(`"stream_options":{"include_usage":true}`)) {
		t.Errorf("request %s", rec.Body)
	}

	s, err = e.adapter.ChatStream(ctxT(t), toolReq())
	if err != nil {
		t.Fatal(err)
	}
	text, calls, last, _, err := collect(s)
	if err != nil {
		t.Fatal(err)
	}
	if text != "" || len(calls) != 1 || calls[0].Name != "get_weather" || calls[0].Arguments != `{"city":"fake"}` || calls[0].ID == "" {
		t.Errorf("text %q calls %+v", text, calls[0])
	}
	if last.FinishReason != provider.FinishToolCalls || last.Usage == nil {
		t.Errorf("last chunk %+v", last)
	}
	if _, err := s.Recv(); err == nil {
		t.Error("Recv after the end gave no error")
	}
}

func TestEmbedModelsPing(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAI, testKey, nil)
	res, err := e.adapter.Embed(ctxT(t), &provider.EmbedRequest{Model: "text-embedding-3-small", Input: []string{"a", "b"}, Dimensions: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Vectors) != 2 || len(res.Vectors[0]) != 8 || res.Model != "text-embedding-3-small" || res.Usage.InputTokens == 0 {
		t.Errorf("embeddings %+v", res)
	}
	models, err := e.adapter.ListModels(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
		if m.OwnedBy != "openai" || m.Created.IsZero() || m.Embeddings != strings.Contains(m.ID, "embedding") {
			t.Errorf("model %+v", m)
		}
	}
	if !slices.Equal(ids, fake.DefaultOpenAIModels) {
		t.Errorf("models %v", ids)
	}
	if err := e.adapter.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.fake.LastRequest(); rec.Method != http.MethodGet || rec.Path != "/v1/models" {
		t.Errorf("ping sent %s %s", rec.Method, rec.Path)
	}
}

func TestOpenRouterModels(t *testing.T) {
	models, err := DecodeModels([]byte(`{"data":[{"id":"openai/gpt-4o","name":"OpenAI: GPT-4o","created":1715367049,"context_length":128000,
		"architecture":{"input_modalities":["text","image"],"output_modalities":["text"]},
		"pricing":{"prompt":"0.0000025","completion":"0.00001"},"top_provider":{"context_length":128000,"max_completion_tokens":16384}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := models[0]
	if m.ID != "openai/gpt-4o" || m.DisplayName != "OpenAI: GPT-4o" || m.ContextWindow != 128000 || m.MaxOutputTokens != 16384 ||
		!slices.Equal(m.InputModalities, []string{"text", "image"}) {
		t.Errorf("model %+v", m)
	}
}

func TestFaults(t *testing.T) {
	type op struct {
		name string
		call func(context.Context, provider.Adapter) error
	}
	ops := []op{
		{"chat", func(ctx context.Context, a provider.Adapter) error { _, err := a.Chat(ctx, chatReq("hi")); return err }},
		{"stream", func(ctx context.Context, a provider.Adapter) error {
			s, err := a.ChatStream(ctx, chatReq("hi"))
			if err != nil {
				return err
			}
			_, _, _, _, err = collect(s)
			return err
		}},
		{"embed", func(ctx context.Context, a provider.Adapter) error {
			_, err := a.Embed(ctx, &provider.EmbedRequest{Model: "text-embedding-3-small", Input: []string{"x"}})
			return err
		}},
		{"models", func(ctx context.Context, a provider.Adapter) error { _, err := a.ListModels(ctx); return err }},
		{"ping", func(ctx context.Context, a provider.Adapter) error { return a.Ping(ctx) }},
	}
	cases := []struct {
		name   string
		fault  fake.Fault
		code   string
		status int
		retry  time.Duration
	}{
		{"401", fake.Status(401), provider.CodeAuth, 401, 0},
		{"403", fake.Status(403), provider.CodeForbidden, 403, 0},
		{"404", fake.Status(404), provider.CodeNotFound, 404, 0},
		{"429", fake.RateLimit(3 * time.Second), provider.CodeRateLimited, 429, 3 * time.Second},
		{"500", fake.Status(500), provider.CodeUpstream, 500, 0},
		{"503", fake.Status(503), provider.CodeUnavailable, 503, 0},
		{"malformed", fake.Malformed(), provider.CodeBadResponse, 0, 0},
		{"cut", fake.Cut(2), provider.CodeNetwork, 0, 0},
	}
	e := newEnv(t, switchyard.ProtocolOpenAI, testKey, nil)
	for _, c := range cases {
		for _, o := range ops {
			t.Run(c.name+"/"+o.name, func(t *testing.T) {
				e.fake.QueueFault(c.fault)
				defer e.fake.ClearFaults()
				err := o.call(ctxT(t), e.adapter)
				pe, ok := provider.AsError(err)
				if !ok {
					t.Fatalf("error %v (%T), want *provider.Error", err, err)
				}
				if pe.Code != c.code || pe.Status != c.status || pe.RetryAfter != c.retry {
					t.Errorf("error %+v, want code %s status %d retry %v", pe, c.code, c.status, c.retry)
				}
				if c.status != 0 && pe.Message == "" {
					t.Error("no message")
				}
			})
		}
	}
}

func TestWrongKey(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAI, "sk-wrong-key-0000", nil)
	_, err := e.adapter.Chat(ctxT(t), chatReq("hi"))
	pe, ok := provider.AsError(err)
	if !ok || pe.Code != provider.CodeAuth || pe.Status != 401 || pe.Type != "invalid_api_key" || !strings.Contains(pe.Message, "Incorrect API key") {
		t.Fatalf("error %#v", err)
	}
	if strings.Contains(pe.Error(), "sk-wrong-key-0000") {
		t.Errorf("the key leaks: %v", pe)
	}
}

func TestStreamStallsUntilDeadline(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAI, testKey, nil)
	e.fake.QueueFault(fake.Stall(2))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := e.adapter.ChatStream(ctx, chatReq("hi there"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, n, err := collect(s)
	pe, ok := provider.AsError(err)
	if !ok || pe.Code != provider.CodeTimeout {
		t.Fatalf("after %d chunks: %v, want timeout", n, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestStreamCancel(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAI, testKey, nil)
	e.fake.QueueFault(fake.Stall(1))
	ctx, cancel := context.WithCancel(context.Background())
	s, err := e.adapter.ChatStream(ctx, chatReq("hi there"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = s.Recv()
	if pe, ok := provider.AsError(err); !ok || pe.Code != provider.CodeNetwork || errors.Is(err, io.EOF) {
		t.Fatalf("after cancel: %v", err)
	}
	if _, err := s.Recv(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the error: %v", err)
	}
}

// sse serves a fixed event stream.
func sse(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body)
	}
}

func adapterFor(t *testing.T, h http.Handler) provider.Adapter {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a, err := New(provider.Config{Provider: &switchyard.Provider{Protocol: switchyard.ProtocolOpenAICompatible, BaseURL: srv.URL},
		Credential: switchyard.Credential{Method: switchyard.AuthNone}, HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestStreamEndings(t *testing.T) {
	chunk := `data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}` + "\n\n"
	for name, c := range map[string]struct {
		body string
		code string
	}{
		"no [DONE]":       {chunk, provider.CodeNetwork},
		"half an event":   {chunk + `data: {"id":"c1"`, provider.CodeNetwork},
		"bad json":        {chunk + "data: {oops}\n\n", provider.CodeBadResponse},
		"error in stream": {chunk + `data: {"error":{"message":"overloaded","type":"server_error"}}` + "\n\n", provider.CodeUpstream},
		"done":            {chunk + "data: [DONE]\n\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			a := adapterFor(t, sse(c.body))
			s, err := a.ChatStream(ctxT(t), chatReq("x"))
			if err != nil {
				t.Fatal(err)
			}
			text, _, _, _, err := collect(s)
			if text != "Hi" {
				t.Errorf("text %q", text)
			}
			if c.code == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if pe, ok := provider.AsError(err); !ok || pe.Code != c.code {
				t.Errorf("error %v, want %s", err, c.code)
			} else if c.code == provider.CodeNetwork && pe.Message != "stream ended early" {
				t.Errorf("message %q", pe.Message)
			}
		})
	}
}

func TestStreamUsageInFinishChunk(t *testing.T) {
	// Servers that put usage in the chunk with the finish reason.
	a := adapterFor(t, sse(`data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"A"}}]}`+"\n\n"+
		`data: {"id":"c","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":0}}}`+"\n\n"+
		"data: [DONE]\n\n"))
	s, err := a.ChatStream(ctxT(t), chatReq("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, last, _, err := collect(s)
	if err != nil || last.FinishReason != provider.FinishLength || last.Usage == nil ||
		*last.Usage != (provider.Usage{InputTokens: 5, OutputTokens: 1, CachedInputTokens: 2}) {
		t.Errorf("last %+v usage %+v err %v", last, last.Usage, err)
	}
}

func TestDecodeChatUsageDetails(t *testing.T) {
	res, err := DecodeChat([]byte(`{"id":"x","model":"o3","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"content_filter"}],
		"usage":{"prompt_tokens":100,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":30}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage != (provider.Usage{InputTokens: 100, OutputTokens: 50, CachedInputTokens: 64, ReasoningTokens: 30}) || res.FinishReason != provider.FinishContentFilter {
		t.Errorf("%+v", res)
	}
	if _, err := DecodeChat([]byte(`{"choices":[]}`)); err == nil {
		t.Error("no choices accepted")
	}
}

func TestParseError(t *testing.T) {
	for body, want := range map[string][2]string{
		`{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}`: {"invalid_api_key", "bad key"},
		`{"error":{"message":"slow down","type":"requests","code":null}}`:                         {"requests", "slow down"},
		`{"error":"model not loaded"}`: {"", "model not loaded"},
		`{"object":"error","message":"Unauthorized","type":"invalid_request_error","code":1000}`: {"1000", "Unauthorized"},
		`{"detail":"Not Found"}`: {"", "Not Found"},
		`<html>oops</html>`:      {"", ""},
	} {
		typ, msg := ParseError(400, []byte(body))
		if typ != want[0] || msg != want[1] {
			t.Errorf("%s: %q %q, want %q", body, typ, msg, want)
		}
	}
}

func TestContextLengthIsTooLarge(t *testing.T) {
	a := adapterFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}`)
	}))
	_, err := a.Chat(ctxT(t), chatReq("x"))
	if pe, ok := provider.AsError(err); !ok || pe.Code != provider.CodeTooLarge || pe.Status != 400 {
		t.Fatalf("error %v", err)
	}
}

func TestOnlyConfiguredHeaders(t *testing.T) {
	e := newEnv(t, switchyard.ProtocolOpenAI, testKey, map[string]string{"OpenAI-Organization": "org-1", "X-Team": "blue"})
	ctx := ctxT(t)
	if _, err := e.adapter.Chat(ctx, chatReq("hi")); err != nil {
		t.Fatal(err)
	}
	s, err := e.adapter.ChatStream(ctx, chatReq("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := collect(s); err != nil {
		t.Fatal(err)
	}
	if _, err := e.adapter.Embed(ctx, &provider.EmbedRequest{Model: "text-embedding-3-small", Input: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.adapter.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := e.fake.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests", len(reqs))
	}
	// Added by net/http itself.
	transport := []string{"Accept-Encoding", "Content-Length", "User-Agent"}
	for _, r := range reqs {
		want := map[string]string{"Authorization": "Bearer " + testKey, "Openai-Organization": "org-1", "X-Team": "blue"}
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
		if len(r.Query) > 0 {
			t.Errorf("%s %s: query %v", r.Method, r.Path, r.Query)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	hit := make(chan struct{}, 1)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit <- struct{}{} }))
	defer target.Close()
	a := adapterFor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/v1/models", http.StatusTemporaryRedirect)
	}))
	err := a.Ping(ctxT(t))
	if pe, ok := provider.AsError(err); !ok || pe.Status != http.StatusTemporaryRedirect {
		t.Fatalf("error %v", err)
	}
	select {
	case <-hit:
		t.Error("the redirect was followed")
	default:
	}
}

func TestNewRefusesUnknownField(t *testing.T) {
	_, err := New(provider.Config{Provider: &switchyard.Provider{Protocol: switchyard.ProtocolOpenAI, Params: map[string]string{"max_tokens_field": "tokens"}},
		HTTP: &http.Client{}})
	if err == nil {
		t.Error("accepted")
	}
}
