package gemini

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
)

// key is a canary: it may appear in no recorded URL and no error text.
const key = "AIzaCanaryKey-0123456789-never-shown"

const flash = "gemini-2.5-flash"

func newFake(t *testing.T, cfg fake.GeminiConfig) (*fake.Gemini, *httptest.Server) {
	t.Helper()
	f := fake.NewGemini(cfg)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func newAdapter(t *testing.T, srv *httptest.Server, apiKey string) provider.Adapter {
	t.Helper()
	a, err := New(provider.Config{
		Provider:   &switchyard.Provider{Protocol: switchyard.ProtocolGemini, BaseURL: srv.URL + "/v1beta"},
		Credential: switchyard.Credential{Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(apiKey)}},
		HTTP:       srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newVertex(t *testing.T, srv *httptest.Server, token string) provider.Adapter {
	t.Helper()
	a, err := New(provider.Config{
		Provider: &switchyard.Provider{Protocol: switchyard.ProtocolVertex, BaseURL: srv.URL + "/v1/projects/{project}/locations/{location}",
			Params: map[string]string{"project": "proj-1", "location": "europe-west4"}},
		Credential: switchyard.Credential{Method: switchyard.AuthBearer, Secrets: map[string]switchyard.Secret{"token": switchyard.NewSecret(token)}},
		HTTP:       srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ask(model, text string) *provider.ChatRequest {
	return &provider.ChatRequest{Model: model, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, text)}}
}

func assertError(t *testing.T, err error, code string, status int, typ string) *provider.Error {
	t.Helper()
	e, ok := provider.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	if e.Code != code || e.Status != status || e.Type != typ {
		t.Errorf("got %s %d %q (%s); want %s %d %q", e.Code, e.Status, e.Type, e.Message, code, status, typ)
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("the key appears in the error %q", err)
	}
	return e
}

// assertNoKeyInURLs checks that no request the fake recorded carried the
// key in its URL.
func assertNoKeyInURLs(t *testing.T, f *fake.Gemini) {
	t.Helper()
	for _, r := range f.Requests() {
		if strings.Contains(r.Path, key) || strings.Contains(r.Query.Encode(), key) || r.Query.Has("key") {
			t.Errorf("the key is in the URL %s?%s", r.Path, r.Query.Encode())
		}
	}
}

func drain(s provider.ChatStream) (chunks []*provider.ChatChunk, err error) {
	defer s.Close()
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return chunks, nil
		}
		if err != nil {
			return chunks, err
		}
		chunks = append(chunks, c)
	}
}

func TestChat(t *testing.T) {
	f, srv := newFake(t, fake.GeminiConfig{APIKeys: []string{key}})
	a := newAdapter(t, srv, key)
	ctx := context.Background()

	req := ask(flash, "What is the capital of France?")
	req.Messages = append([]provider.Message{provider.TextMessage(provider.RoleSystem, "Be brief.")}, req.Messages...)
	res, err := a.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := "You said: What is the capital of France?"
	if res.Message.Text() != want || res.FinishReason != provider.FinishStop || res.Model != flash || res.ID == "" ||
		res.Usage.OutputTokens != fake.Tokens(want) || res.Usage.InputTokens == 0 || res.Created.IsZero() {
		t.Errorf("%+v", res)
	}
	last, _ := f.LastRequest()
	if last.Header.Get("x-goog-api-key") != key || last.Path != "/v1beta/models/"+flash+":generateContent" {
		t.Errorf("request %s %v", last.Path, last.Header)
	}

	// Stop sequence, max tokens, temperature.
	req = ask(flash, "one two three four five")
	req.Stop, req.Temperature = []string{"four"}, ptr(0.2)
	if res, err := a.Chat(ctx, req); err != nil || res.FinishReason != provider.FinishStop || strings.Contains(res.Message.Text(), "four") {
		t.Errorf("stop: %v %+v", err, res)
	}
	req = ask(flash, "one two three four five")
	req.MaxTokens = 2
	if res, err := a.Chat(ctx, req); err != nil || res.FinishReason != provider.FinishLength {
		t.Errorf("max tokens: %v %+v", err, res)
	}

	// A tool call, then its result, on a Gemini 3 model (which checks the
	// replayed call's signature).
	for _, model := range []string{flash, "gemini-3-flash-preview"} {
		req = ask(model, "Use get_weather for Paris")
		req.Tools = []provider.Tool{weather}
		res, err = a.Chat(ctx, req)
		if err != nil || res.FinishReason != provider.FinishToolCalls || len(res.Message.ToolCalls) != 1 ||
			res.Message.ToolCalls[0] != (provider.ToolCall{ID: "call_0", Name: "get_weather", Arguments: `{"city":"fake"}`}) {
			t.Fatalf("%s tool call: %v %+v", model, err, res)
		}
		req.Messages = append(req.Messages, res.Message, provider.Message{Role: provider.RoleTool, ToolCallID: "call_0",
			Content: []provider.Part{{Type: provider.PartText, Text: "sunny, 21 C"}}})
		if res, err = a.Chat(ctx, req); err != nil || res.Message.Text() != "The tool returned: sunny, 21 C" || res.FinishReason != provider.FinishStop {
			t.Errorf("%s tool result: %v %+v", model, err, res)
		}
	}

	// An image; JSON output with a schema the fake checks as Gemini does.
	req = ask(flash, "What is this?")
	req.Messages[0].Content = append(req.Messages[0].Content, provider.Part{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: pngBytes}})
	if _, err := a.Chat(ctx, req); err != nil {
		t.Errorf("image: %v", err)
	}
	req = ask(flash, "Describe Ada")
	req.ResponseFormat = &provider.ResponseFormat{Type: "json_schema", Schema: weather.Parameters}
	if res, err := a.Chat(ctx, req); err != nil || res.Message.Text() != `{"city":"fake"}` {
		t.Errorf("json: %v %+v", err, res)
	}

	_, err = a.Chat(ctx, ask("gemini-0", "hi"))
	assertError(t, err, provider.CodeNotFound, 404, "NOT_FOUND")
	assertNoKeyInURLs(t, f)
}

func TestChatStream(t *testing.T) {
	f, srv := newFake(t, fake.GeminiConfig{APIKeys: []string{key}})
	a := newAdapter(t, srv, key)
	ctx := context.Background()

	s, err := a.ChatStream(ctx, ask(flash, "Tell me about streams"))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(s)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for _, c := range chunks {
		text += c.Text
	}
	first, last := chunks[0], chunks[len(chunks)-1]
	if text != "You said: Tell me about streams" || first.ID == "" || first.Model != flash ||
		last.FinishReason != provider.FinishStop || last.Usage == nil || last.Usage.OutputTokens != fake.Tokens(text) || last.Usage.InputTokens == 0 {
		t.Errorf("text %q, first %+v, last %+v", text, first, last)
	}
	if r, _ := f.LastRequest(); r.Path != "/v1beta/models/"+flash+":streamGenerateContent" || r.Query.Get("alt") != "sse" {
		t.Errorf("request %s %v", r.Path, r.Query)
	}

	req := ask(flash, "Paris?")
	req.Tools, req.ToolChoice = []provider.Tool{weather}, "get_weather"
	s, err = a.ChatStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err = drain(s)
	if err != nil {
		t.Fatal(err)
	}
	var calls []provider.ToolCallDelta
	for _, c := range chunks {
		calls = append(calls, c.ToolCalls...)
	}
	last = chunks[len(chunks)-1]
	if len(calls) != 1 || calls[0] != (provider.ToolCallDelta{Index: 0, ID: "call_0", Name: "get_weather", Arguments: `{"city":"fake"}`}) ||
		last.FinishReason != provider.FinishToolCalls || last.Usage == nil {
		t.Errorf("tool stream: %+v %+v", calls, last)
	}
	assertNoKeyInURLs(t, f)
}

func TestEmbedListModelsPing(t *testing.T) {
	models := []string{flash, "gemini-embedding-001"}
	for i := range 5 {
		models = append(models, "gemini-extra-"+string(rune('a'+i)))
	}
	f, srv := newFake(t, fake.GeminiConfig{APIKeys: []string{key}, Models: models})
	a := newAdapter(t, srv, key)
	ctx := context.Background()

	res, err := a.Embed(ctx, &provider.EmbedRequest{Model: "gemini-embedding-001", Input: []string{"a", "b", "c"}, Dimensions: 8})
	if err != nil || len(res.Vectors) != 3 || len(res.Vectors[2]) != 8 {
		t.Fatalf("%v %+v", err, res)
	}
	list, err := a.ListModels(ctx)
	if err != nil || len(list) != len(models) {
		t.Fatalf("%v %+v", err, list)
	}
	if m := list[0]; m.ID != flash || m.DisplayName != "Gemini 2.5 Flash" || m.ContextWindow != 1048576 || m.MaxOutputTokens != 65536 || m.Embeddings {
		t.Errorf("%+v", m)
	}
	if m := list[1]; !m.Embeddings || m.ContextWindow != 2048 {
		t.Errorf("%+v", m)
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.LastRequest(); r.Path != "/v1beta/models" || r.Query.Get("pageSize") != "1" {
		t.Errorf("ping %s %v", r.Path, r.Query)
	}
	assertNoKeyInURLs(t, f)
}

func TestModelListPages(t *testing.T) {
	var models []string
	for i := range 1500 {
		models = append(models, "m-"+string(rune('a'+i%26))+"-"+strings.Repeat("x", i/26))
	}
	_, srv := newFake(t, fake.GeminiConfig{APIKeys: []string{key}, Models: models})
	list, err := newAdapter(t, srv, key).ListModels(context.Background())
	if err != nil || len(list) != 1500 || list[1499].ID != models[1499] {
		t.Fatalf("%v %d", err, len(list))
	}
}

func TestVertex(t *testing.T) {
	f, srv := newFake(t, fake.GeminiConfig{Vertex: true, Tokens: []string{"ya29.vertex"}, Project: "proj-1", Location: "europe-west4"})
	a := newVertex(t, srv, "ya29.vertex")
	ctx := context.Background()
	res, err := a.Chat(ctx, ask(flash, "hello vertex"))
	if err != nil || res.Message.Text() != "You said: hello vertex" {
		t.Fatalf("%v %+v", err, res)
	}
	last, _ := f.LastRequest()
	if last.Path != "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/"+flash+":generateContent" ||
		last.Header.Get("Authorization") != "Bearer ya29.vertex" || last.Header.Get("x-goog-api-key") != "" {
		t.Errorf("request %s %v", last.Path, last.Header)
	}
	s, err := a.ChatStream(ctx, ask(flash, "hello vertex"))
	if err != nil {
		t.Fatal(err)
	}
	if chunks, err := drain(s); err != nil || chunks[len(chunks)-1].FinishReason != provider.FinishStop {
		t.Errorf("stream: %v", err)
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.LastRequest(); !strings.HasSuffix(r.Path, "/models/"+DefaultVertexPingModel+":countTokens") {
		t.Errorf("ping %s", r.Path)
	}
	emb, err := a.Embed(ctx, &provider.EmbedRequest{Model: "gemini-embedding-001", Input: []string{"a", "b"}, Dimensions: 4})
	if err != nil || len(emb.Vectors) != 2 || len(emb.Vectors[1]) != 4 || emb.Usage.InputTokens == 0 {
		t.Errorf("embed: %v %+v", err, emb)
	}
	if _, err := a.ListModels(ctx); !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("list: %v", err)
	}
	err = newVertex(t, srv, "ya29.wrong").Ping(ctx)
	assertError(t, err, provider.CodeAuth, 401, "UNAUTHENTICATED")

	// The base URL needs its project.
	_, err = New(provider.Config{Provider: &switchyard.Provider{Protocol: switchyard.ProtocolVertex}, HTTP: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "project") {
		t.Errorf("no project: %v", err)
	}
}

func TestKeyNeverInQuery(t *testing.T) {
	_, err := New(provider.Config{Provider: &switchyard.Provider{Protocol: switchyard.ProtocolGemini},
		Credential: switchyard.Credential{Method: switchyard.AuthAPIKey, Config: map[string]string{"query_param": "key"},
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(key)}}, HTTP: &http.Client{}})
	if err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("query_param: %v", err)
	}
}

func TestFaults(t *testing.T) {
	f, srv := newFake(t, fake.GeminiConfig{APIKeys: []string{key}})
	a := newAdapter(t, srv, key)
	ctx := context.Background()

	// A bad key is a 400 INVALID_ARGUMENT, yet an auth failure.
	_, err := newAdapter(t, srv, "AIzaWrongKey").Chat(ctx, ask(flash, "hi"))
	assertError(t, err, provider.CodeAuth, 400, "INVALID_ARGUMENT")
	err = newAdapter(t, srv, "AIzaWrongKey").Ping(ctx)
	assertError(t, err, provider.CodeAuth, 400, "INVALID_ARGUMENT")

	cases := []struct {
		name   string
		fault  fake.Fault
		code   string
		status int
		typ    string
	}{
		{"403", fake.Status(403), provider.CodeForbidden, 403, "PERMISSION_DENIED"},
		{"404", fake.Status(404), provider.CodeNotFound, 404, "NOT_FOUND"},
		{"500", fake.Status(500), provider.CodeUpstream, 500, "INTERNAL"},
		{"503", fake.Status(503), provider.CodeUnavailable, 503, "UNAVAILABLE"},
		{"malformed", fake.Malformed(), provider.CodeBadResponse, 0, ""},
		{"cut", fake.Cut(0), provider.CodeNetwork, 0, ""},
	}
	for _, tc := range cases {
		f.QueueFault(tc.fault)
		_, err := a.Chat(ctx, ask(flash, "hi"))
		assertError(t, err, tc.code, tc.status, tc.typ)
	}

	f.QueueFault(fake.RateLimit(2 * time.Second))
	_, err = a.ChatStream(ctx, ask(flash, "hi"))
	if e := assertError(t, err, provider.CodeRateLimited, 429, "RESOURCE_EXHAUSTED"); e.RetryAfter != 2*time.Second || !e.Retryable() {
		t.Errorf("%+v", e)
	}

	// A stream cut before its finish reason ended early.
	f.QueueFault(fake.Cut(3))
	s, err := a.ChatStream(ctx, ask(flash, "one two three four five six"))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(s)
	if e := assertError(t, err, provider.CodeNetwork, 0, ""); !strings.Contains(e.Message, "stream ended early") || len(chunks) != 3 {
		t.Errorf("%d chunks, %q", len(chunks), e.Message)
	}
	f.QueueFault(fake.Fault{Kind: fake.FaultMalformed, After: 1})
	s, _ = a.ChatStream(ctx, ask(flash, "one two three four"))
	_, err = drain(s)
	assertError(t, err, provider.CodeBadResponse, 0, "")

	// Stalled, in a stream and in a whole answer: a timeout.
	f.QueueFault(fake.Stall(1))
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	s, err = a.ChatStream(tctx, ask(flash, "one two three"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = drain(s)
	assertError(t, err, provider.CodeTimeout, 0, "")
	f.QueueFault(fake.Stall(0))
	tctx2, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	_, err = a.Chat(tctx2, ask(flash, "hi"))
	assertError(t, err, provider.CodeTimeout, 0, "")

	assertNoKeyInURLs(t, f)
}

type stubDoer struct{ res *http.Response }

func (s stubDoer) Do(*http.Request) (*http.Response, error) { return s.res, nil }

// A 429 without Retry-After takes its delay from the RetryInfo detail.
func TestRetryInfo(t *testing.T) {
	body := `{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[
		{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2.5s"}]}}`
	res := &http.Response{StatusCode: 429, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	a, err := New(provider.Config{Provider: &switchyard.Provider{Protocol: switchyard.ProtocolGemini, BaseURL: "https://x"},
		Credential: switchyard.Credential{Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(key)}},
		HTTP:       stubDoer{res}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Chat(context.Background(), ask(flash, "hi"))
	if e := assertError(t, err, provider.CodeRateLimited, 429, "RESOURCE_EXHAUSTED"); e.RetryAfter != 2500*time.Millisecond || e.Message != "Quota exceeded" {
		t.Errorf("%+v", e)
	}
}
