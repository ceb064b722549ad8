package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
)

const testKey = "sk-ant-test-key"

// config is the configuration of an adapter for an upstream at base.
func config(base string, hc provider.Doer, headers map[string]string) provider.Config {
	h := map[string]switchyard.Secret{}
	for k, v := range headers {
		h[k] = switchyard.NewSecret(v)
	}
	return provider.Config{
		Provider: &switchyard.Provider{Slug: "anthropic", Protocol: switchyard.ProtocolAnthropic, BaseURL: base, Headers: h},
		Credential: switchyard.Credential{Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(testKey)}},
		HTTP: hc,
	}
}

// newFake starts an Anthropic fake that accepts testKey, and an adapter
// for it.
func newFake(t *testing.T, headers map[string]string) (*fake.Anthropic, provider.Adapter) {
	t.Helper()
	f := fake.NewAnthropic(fake.AnthropicConfig{APIKeys: []string{testKey}, Options: fake.Options{StallLimit: 5 * time.Second}})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	a, err := New(config(srv.URL, srv.Client(), headers))
	if err != nil {
		t.Fatal(err)
	}
	return f, a
}

// newServer starts h and an adapter for it.
func newServer(t *testing.T, h http.HandlerFunc) provider.Adapter {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a, err := New(config(srv.URL, srv.Client(), nil))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const model = "claude-haiku-4-5-20251001"

func userRequest(text string) *provider.ChatRequest {
	return &provider.ChatRequest{Model: model, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, text)}}
}

func weatherRequest(prompt string) *provider.ChatRequest {
	r := userRequest(prompt)
	r.Tools = []provider.Tool{{Name: "get_weather", Description: "Weather of a city", Parameters: weatherSchema}}
	return r
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// collected is a whole stream.
type collected struct {
	id, model string
	text      string
	calls     []provider.ToolCall
	finish    provider.FinishReason
	usage     *provider.Usage
	chunks    int
}

func collect(t *testing.T, s provider.ChatStream) (collected, error) {
	t.Helper()
	defer s.Close()
	var c collected
	for {
		ch, err := s.Recv()
		if err == io.EOF {
			if _, err := s.Recv(); err != io.EOF {
				t.Errorf("Recv after io.EOF = %v, want io.EOF again", err)
			}
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.chunks++
		if c.chunks == 1 {
			c.id, c.model = ch.ID, ch.Model
		}
		c.text += ch.Text
		for _, d := range ch.ToolCalls {
			for len(c.calls) <= d.Index {
				c.calls = append(c.calls, provider.ToolCall{})
			}
			tc := &c.calls[d.Index]
			if d.ID != "" {
				tc.ID = d.ID
			}
			if d.Name != "" {
				tc.Name = d.Name
			}
			tc.Arguments += d.Arguments
		}
		if ch.FinishReason != "" {
			c.finish = ch.FinishReason
		}
		if ch.Usage != nil {
			c.usage = ch.Usage
		}
	}
}

func TestChat(t *testing.T) {
	f, a := newFake(t, nil)
	res, err := a.Chat(t.Context(), userRequest("Hello there, Claude"))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Message.Text(); got != "You said: Hello there, Claude" {
		t.Errorf("text = %q", got)
	}
	if res.Message.Role != provider.RoleAssistant || res.FinishReason != provider.FinishStop {
		t.Errorf("role %q, finish %q", res.Message.Role, res.FinishReason)
	}
	if !strings.HasPrefix(res.ID, "msg_") || res.Model != model {
		t.Errorf("id %q, model %q", res.ID, res.Model)
	}
	if res.Usage.InputTokens == 0 || res.Usage.OutputTokens == 0 {
		t.Errorf("usage = %+v", res.Usage)
	}
	req, _ := f.LastRequest()
	if req.Method != http.MethodPost || req.Path != "/v1/messages" {
		t.Errorf("sent %s %s", req.Method, req.Path)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["max_tokens"] != float64(provider.DefaultMaxTokens) || body["stream"] != nil {
		t.Errorf("max_tokens %v, stream %v", body["max_tokens"], body["stream"])
	}
}

func TestChatToolCall(t *testing.T) {
	_, a := newFake(t, nil)
	res, err := a.Chat(t.Context(), weatherRequest("Use get_weather for Paris"))
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != provider.FinishToolCalls || len(res.Message.ToolCalls) != 1 {
		t.Fatalf("finish %q, calls %+v", res.FinishReason, res.Message.ToolCalls)
	}
	c := res.Message.ToolCalls[0]
	if !strings.HasPrefix(c.ID, "toolu_") || c.Name != "get_weather" {
		t.Errorf("call = %+v", c)
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(c.Arguments), &args); err != nil || args["city"] == nil {
		t.Errorf("arguments %q: %v", c.Arguments, err)
	}

	// The tool result goes back as a tool_result block, and the answer reads it.
	follow := weatherRequest("Use get_weather for Paris")
	follow.Messages = append(follow.Messages, res.Message,
		provider.Message{Role: provider.RoleTool, ToolCallID: c.ID, Content: []provider.Part{{Type: provider.PartText, Text: "sunny and warm"}}})
	res, err = a.Chat(t.Context(), follow)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Message.Text(); !strings.Contains(got, "sunny and warm") || res.FinishReason != provider.FinishStop {
		t.Errorf("after the tool result: %q, %q", got, res.FinishReason)
	}
}

func TestChatJSONSchema(t *testing.T) {
	f, a := newFake(t, nil)
	req := userRequest("Weather in Paris")
	req.ResponseFormat = &provider.ResponseFormat{Type: "json_schema", Name: "weather", Schema: weatherSchema}
	res, err := a.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(res.Message.Text()), &out); err != nil || out["city"] == nil {
		t.Errorf("text %q is not the schema's JSON: %v", res.Message.Text(), err)
	}
	if res.FinishReason != provider.FinishStop || len(res.Message.ToolCalls) != 0 {
		t.Errorf("finish %q, calls %+v", res.FinishReason, res.Message.ToolCalls)
	}
	sent, _ := f.LastRequest()
	if !strings.Contains(string(sent.Body), `"tool_choice":{"type":"tool","name":"weather"}`) {
		t.Errorf("the answer tool is not forced: %s", sent.Body)
	}
}

func TestChatMaxTokens(t *testing.T) {
	_, a := newFake(t, nil)
	req := userRequest("one two three four five six seven eight nine ten eleven twelve")
	req.MaxTokens = 3
	res, err := a.Chat(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != provider.FinishLength {
		t.Errorf("finish = %q, want length", res.FinishReason)
	}
}

func TestStream(t *testing.T) {
	_, a := newFake(t, nil)
	prompt := "Tell me something about streaming events"
	whole, err := a.Chat(t.Context(), userRequest(prompt))
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.ChatStream(t.Context(), userRequest(prompt))
	if err != nil {
		t.Fatal(err)
	}
	c, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.text != whole.Message.Text() {
		t.Errorf("streamed %q, whole %q", c.text, whole.Message.Text())
	}
	if !strings.HasPrefix(c.id, "msg_") || c.model != model {
		t.Errorf("first chunk: id %q, model %q", c.id, c.model)
	}
	if c.finish != provider.FinishStop || c.usage == nil || *c.usage != whole.Usage {
		t.Errorf("finish %q, usage %+v, want %+v", c.finish, c.usage, whole.Usage)
	}
	if c.chunks < 3 {
		t.Errorf("only %d chunks", c.chunks)
	}
}

func TestStreamToolCall(t *testing.T) {
	_, a := newFake(t, nil)
	s, err := a.ChatStream(t.Context(), weatherRequest("Use get_weather for Rome"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.finish != provider.FinishToolCalls || len(c.calls) != 1 {
		t.Fatalf("finish %q, calls %+v", c.finish, c.calls)
	}
	tc := c.calls[0]
	if !strings.HasPrefix(tc.ID, "toolu_") || tc.Name != "get_weather" || !json.Valid([]byte(tc.Arguments)) {
		t.Errorf("call = %+v", tc)
	}
	if c.text != "I'll use the get_weather tool." {
		t.Errorf("text = %q", c.text)
	}
}

func TestStreamJSONSchema(t *testing.T) {
	_, a := newFake(t, nil)
	req := userRequest("Weather in Paris")
	req.ResponseFormat = &provider.ResponseFormat{Type: "json_schema", Name: "weather", Schema: weatherSchema}
	s, err := a.ChatStream(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	c, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(c.text), &out); err != nil || out["city"] == nil {
		t.Errorf("text %q is not the schema's JSON: %v", c.text, err)
	}
	if c.finish != provider.FinishStop || len(c.calls) != 0 {
		t.Errorf("finish %q, calls %+v", c.finish, c.calls)
	}
}

func TestListModelsAndPing(t *testing.T) {
	f, a := newFake(t, nil)
	models, err := a.ListModels(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
		if m.DisplayName == "" || m.Created.IsZero() {
			t.Errorf("model %+v lacks a name or date", m)
		}
	}
	if !slices.Equal(ids, fake.DefaultAnthropicModels) {
		t.Errorf("models = %v", ids)
	}
	if err := a.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	req, _ := f.LastRequest()
	if req.Method != http.MethodGet || req.Path != "/v1/models" || req.Query.Get("limit") != "1" {
		t.Errorf("ping sent %s %s?%s", req.Method, req.Path, req.Query.Encode())
	}
}

func TestEmbedUnsupported(t *testing.T) {
	_, a := newFake(t, nil)
	if _, err := a.Embed(t.Context(), &provider.EmbedRequest{Model: model, Input: []string{"x"}}); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("Embed = %v, want ErrUnsupported", err)
	}
}

// TestHeaders checks that only the expected headers reach the upstream:
// the key in x-api-key, anthropic-version, content-type, the provider's
// extra headers, and what net/http itself adds.
func TestHeaders(t *testing.T) {
	f, a := newFake(t, map[string]string{"anthropic-beta": "prompt-caching-2024-07-31"})
	if _, err := a.Chat(t.Context(), userRequest("hi")); err != nil {
		t.Fatal(err)
	}
	req, _ := f.LastRequest()
	var names []string
	for k := range req.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	want := []string{"Accept-Encoding", "Anthropic-Beta", "Anthropic-Version", "Content-Length", "Content-Type", "User-Agent", "X-Api-Key"}
	if !slices.Equal(names, want) {
		t.Errorf("headers = %v, want %v", names, want)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("an Authorization header was sent")
	}
	for k, v := range map[string]string{"X-Api-Key": testKey, "Anthropic-Version": DefaultVersion,
		"Content-Type": "application/json", "Anthropic-Beta": "prompt-caching-2024-07-31"} {
		if got := req.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	// The provider's own anthropic-version wins, on every call.
	f, a = newFake(t, map[string]string{"anthropic-version": "2023-01-01"})
	if err := a.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	req, _ = f.LastRequest()
	if got := req.Header.Values("Anthropic-Version"); !slices.Equal(got, []string{"2023-01-01"}) {
		t.Errorf("anthropic-version = %v, want the provider's", got)
	}
}

func TestBaseURL(t *testing.T) {
	for base, want := range map[string]string{
		"":                              DefaultBaseURL,
		"https://api.anthropic.com/":    DefaultBaseURL,
		"https://api.anthropic.com/v1":  DefaultBaseURL,
		"https://proxy.example/claude/": "https://proxy.example/claude",
	} {
		a, err := New(config(base, http.DefaultClient, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.(*Adapter).c.BaseURL; got != want {
			t.Errorf("base %q → %q, want %q", base, got, want)
		}
	}
	if _, err := New(provider.Config{HTTP: http.DefaultClient}); err == nil {
		t.Error("New without a provider succeeded")
	}
}

func wantCode(t *testing.T, err error, code string) *provider.Error {
	t.Helper()
	e, ok := provider.AsError(err)
	if !ok {
		t.Fatalf("err = %v (%T), want a *provider.Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%v), want %s", e.Code, e, code)
	}
	return e
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  fake.Fault
		stream bool
		code   string
		check  func(*testing.T, *provider.Error)
	}{
		{name: "403", fault: fake.Status(403), code: provider.CodeForbidden},
		{name: "404", fault: fake.Status(404), code: provider.CodeNotFound},
		{name: "429 with Retry-After", fault: fake.RateLimit(3 * time.Second), code: provider.CodeRateLimited,
			check: func(t *testing.T, e *provider.Error) {
				if e.RetryAfter != 3*time.Second || e.Type != "rate_limit_error" || e.Status != 429 {
					t.Errorf("error = %+v", e)
				}
			}},
		{name: "500", fault: fake.Status(500), code: provider.CodeUpstream,
			check: func(t *testing.T, e *provider.Error) {
				if e.Type != "api_error" || !strings.Contains(e.Message, "injected") {
					t.Errorf("error = %+v", e)
				}
			}},
		{name: "529 overloaded", fault: fake.Status(529), code: provider.CodeUnavailable,
			check: func(t *testing.T, e *provider.Error) {
				if e.Type != "overloaded_error" || e.Status != 529 || !e.Retryable() {
					t.Errorf("error = %+v", e)
				}
			}},
		{name: "529 on a stream", fault: fake.Status(529), stream: true, code: provider.CodeUnavailable},
		{name: "malformed JSON", fault: fake.Malformed(), code: provider.CodeBadResponse},
		{name: "malformed event", fault: fake.Fault{Kind: fake.FaultMalformed, After: 2}, stream: true, code: provider.CodeBadResponse},
		{name: "body cut", fault: fake.Cut(0), code: provider.CodeNetwork},
		{name: "stream cut", fault: fake.Cut(4), stream: true, code: provider.CodeNetwork,
			check: func(t *testing.T, e *provider.Error) {
				if !strings.Contains(e.Message, "stream ended early") {
					t.Errorf("message = %q", e.Message)
				}
			}},
		{name: "stream cut before message_stop", fault: fake.Cut(9), stream: true, code: provider.CodeNetwork},
		{name: "no answer in time", fault: fake.Slow(3 * time.Second), code: provider.CodeTimeout},
		{name: "no stream in time", fault: fake.Slow(3 * time.Second), stream: true, code: provider.CodeTimeout},
		{name: "body stalled", fault: fake.Stall(0), code: provider.CodeTimeout},
		{name: "stream stalled", fault: fake.Stall(3), stream: true, code: provider.CodeTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, a := newFake(t, nil)
			f.QueueFault(tc.fault)
			ctx := ctxTimeout(t, 500*time.Millisecond)
			var err error
			if tc.stream {
				var s provider.ChatStream
				if s, err = a.ChatStream(ctx, userRequest("one two three four five six")); err == nil {
					_, err = collect(t, s)
				}
			} else {
				_, err = a.Chat(ctx, userRequest("one two three four five six"))
			}
			e := wantCode(t, err, tc.code)
			if tc.check != nil {
				tc.check(t, e)
			}
			if tc.code == provider.CodeTimeout && ctx.Err() == nil {
				t.Error("timed out before the context's deadline")
			}
		})
	}
}

func TestAuthFailed(t *testing.T) {
	f := fake.NewAnthropic(fake.AnthropicConfig{APIKeys: []string{"sk-ant-other"}})
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	a, err := New(config(srv.URL, srv.Client(), nil))
	if err != nil {
		t.Fatal(err)
	}
	e := wantCode(t, a.Ping(t.Context()), provider.CodeAuth)
	if e.Status != 401 || e.Type != "authentication_error" || strings.Contains(e.Error(), testKey) {
		t.Errorf("error = %+v", e)
	}
	_, err = a.Chat(t.Context(), userRequest("hi"))
	wantCode(t, err, provider.CodeAuth)
}

func TestUnknownModel(t *testing.T) {
	_, a := newFake(t, nil)
	req := userRequest("hi")
	req.Model = "claude-nonexistent"
	_, err := a.Chat(t.Context(), req)
	e := wantCode(t, err, provider.CodeNotFound)
	if e.Type != "not_found_error" {
		t.Errorf("type = %q", e.Type)
	}
}

func TestCancelled(t *testing.T) {
	_, a := newFake(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := a.Chat(ctx, userRequest("hi"))
	e := wantCode(t, err, provider.CodeNetwork)
	if !strings.Contains(e.Message, "cancelled") {
		t.Errorf("message = %q", e.Message)
	}

	// Cancelled while the stream stalls.
	f, a := newFake(t, nil)
	f.QueueFault(fake.Stall(2))
	ctx, cancel = context.WithCancel(t.Context())
	s, err := a.ChatStream(ctx, userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = collect(t, s)
	e = wantCode(t, err, provider.CodeNetwork)
	if !strings.Contains(e.Message, "cancelled") {
		t.Errorf("message = %q", e.Message)
	}
}

func TestCloseEarly(t *testing.T) {
	_, a := newFake(t, nil)
	s, err := a.ChatStream(t.Context(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := s.Recv(); err == nil || err == io.EOF {
		t.Errorf("Recv after Close = %v, want an error", err)
	}
}
