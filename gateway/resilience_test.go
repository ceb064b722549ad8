package gateway_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider/fake"
)

func userMsg(s string) []openai.ChatCompletionMessageParamUnion {
	return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(s)}
}

func apiError(t *testing.T, err error) *openai.Error {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an API error", err)
	}
	return e
}

func TestFallbackToTheNextProvider(t *testing.T) {
	r := newRig(t)
	first := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	second := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	r.addProvider(providerSpec{slug: "first", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(first) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	r.addProvider(providerSpec{slug: "second", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(second) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{Models: []string{"gpt-4o-mini"}}))

	for _, f := range []fake.Fault{fake.Status(500), fake.Status(503), fake.Status(401)} {
		t.Run(f.String(), func(t *testing.T) {
			first.SetFault(f)
			defer first.ClearFaults()
			res, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
			if err != nil || res.Choices[0].Message.Content != "You said: hi" {
				t.Fatalf("with %s on the first provider: %v", f, err)
			}
			if u := r.lastUsage(); u.Attempts != 2 || u.Status != "ok" {
				t.Fatalf("usage = %+v, want 2 attempts", u)
			}
		})
	}
	// A client error is not retried elsewhere.
	first.SetFault(fake.Status(400))
	before := second.RequestCount()
	_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	if e := apiError(t, err); e.StatusCode != 400 || second.RequestCount() != before {
		t.Fatalf("a 400 was retried or mapped wrongly: status %d", e.StatusCode)
	}
	// Both down: the upstream status reaches the client.
	first.SetFault(fake.Status(503))
	second.SetFault(fake.Status(503))
	_, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	if e := apiError(t, err); e.StatusCode != 503 {
		t.Fatalf("both down: status %d", e.StatusCode)
	}
	first.ClearFaults()
	second.ClearFaults()
	// A rate-limited key is skipped for its Retry-After: the next request
	// goes straight to the second provider.
	first.SetFault(fake.RateLimit(90 * time.Second))
	if _, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")}); err != nil {
		t.Fatal(err)
	}
	if u := r.lastUsage(); u.Attempts != 2 {
		t.Fatalf("after a 429: %+v", u)
	}
	first.ClearFaults()
	seen := first.RequestCount()
	if _, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")}); err != nil {
		t.Fatal(err)
	}
	if u := r.lastUsage(); u.Attempts != 1 || first.RequestCount() != seen {
		t.Fatalf("a key cooling down after a 429 was tried: %+v", u)
	}
}

func TestBreakerOpensAfterRepeatedFailures(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p := r.addProvider(providerSpec{slug: "flaky", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID}))
	up.SetFault(fake.Status(500))
	for range 5 {
		_, _ = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	}
	seen := up.RequestCount()
	_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	if e := apiError(t, err); e.StatusCode != http.StatusBadGateway && e.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("with the breaker open: status %d", e.StatusCode)
	}
	if up.RequestCount() != seen {
		t.Fatal("the open breaker let a request through to the failing provider")
	}
}

func TestStreamCutMidwayEndsWithAnError(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p := r.addProvider(providerSpec{slug: "cut", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	other := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	r.addProvider(providerSpec{slug: "standby", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(other) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID}))
	up.SetFault(fake.Cut(3))
	stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: userMsg("a long enough answer to be cut in the middle of it")})
	n := 0
	for stream.Next() {
		n++
	}
	if stream.Err() == nil || n == 0 {
		t.Fatalf("a cut stream ended cleanly after %d chunks", n)
	}
	if u := r.lastUsage(); u.Status != "error" || u.ErrorClass == "" || !u.Stream {
		t.Fatalf("usage of a cut stream = %+v", u)
	}
	if other.RequestCount() != 0 {
		t.Fatal("a stream was retried after its first chunk had gone out")
	}
}

func TestConnectionRateLimit(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p := r.addProvider(providerSpec{slug: "p", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	key := r.connect(switchyard.Connection{ProviderID: p.ID, RateLimitRPM: 2})
	var last *http.Response
	for i := range 3 {
		req, _ := http.NewRequest("POST", r.gw.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		last = res
		if i < 2 && res.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, res.StatusCode)
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" ||
		last.Header.Get("X-Ratelimit-Limit-Requests") != "2" || last.Header.Get("X-Ratelimit-Remaining-Requests") != "0" {
		t.Fatalf("third request: %d, headers %v", last.StatusCode, last.Header)
	}
	if up.RequestCount() != 2 {
		t.Fatalf("the upstream saw %d requests, want 2", up.RequestCount())
	}
}

func TestRequestsCannotRedirectTheUpstream(t *testing.T) {
	r := newRig(t)
	rec := &fake.Recorder{}
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}, Options: fake.Options{Recorder: rec}})
	p := r.addProvider(providerSpec{slug: "p", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	key := r.connect(switchyard.Connection{ProviderID: p.ID})
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"api_base":"http://169.254.169.254",
		"base_url":"http://attacker.example","litellm_embedding_config":{"api_base":"http://x"},"extra_headers":{"X-Evil":"1"}}`
	req, _ := http.NewRequest("POST", r.gw.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Forwarded-Host", "attacker.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	got, ok := rec.LastRequest()
	if !ok {
		t.Fatal("the upstream saw nothing")
	}
	for _, bad := range []string{"api_base", "base_url", "169.254", "attacker", "litellm", "X-Evil"} {
		if strings.Contains(string(got.Body), bad) || strings.Contains(strings.ToLower(headerDump(got.Header)), strings.ToLower(bad)) {
			t.Fatalf("%q reached the upstream: %s", bad, got.Body)
		}
	}
	if got.Header.Get("Authorization") != "Bearer "+upstreamKey {
		t.Fatal("the upstream did not get the provider's own credential")
	}
	if strings.Contains(headerDump(got.Header), key) {
		t.Fatal("the client's gateway key reached the upstream")
	}
}

func headerDump(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		b.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	return b.String()
}

func TestAuthenticationAndModelErrors(t *testing.T) {
	r := newRig(t)
	a := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	b := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}, Models: []string{"other-model"}})
	pa := r.addProvider(providerSpec{slug: "pa", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(a) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini", "fast")}})
	r.addProvider(providerSpec{slug: "pb", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(b) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("other-model", "fast")}})
	all := r.client(r.connect(switchyard.Connection{Models: []string{"gpt-4o-mini", "other-model", "fast"}}))
	onlyA := r.client(r.connect(switchyard.Connection{ProviderID: pa.ID}))

	bad := r.client("sk-sy-not-a-key")
	_, err := bad.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	if e := apiError(t, err); e.StatusCode != 401 || e.Code != "invalid_api_key" {
		t.Fatalf("bad key: %d %s", e.StatusCode, e.Code)
	}
	_, err = all.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "fast", Messages: userMsg("hi")})
	if e := apiError(t, err); e.StatusCode != 400 || e.Code != "model_ambiguous" || !strings.Contains(e.Message, "pa/gpt-4o-mini") ||
		!strings.Contains(e.Message, "pb/other-model") {
		t.Fatalf("ambiguous alias: %d %s %s", e.StatusCode, e.Code, e.Message)
	}
	if res, err := all.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "pb/fast", Messages: userMsg("hi")}); err != nil ||
		res.Choices[0].Message.Content == "" {
		t.Fatalf("qualified alias: %v", err)
	}
	// A connection limited to a provider cannot reach another's models,
	// and cannot tell them from models that do not exist.
	_, err = onlyA.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "other-model", Messages: userMsg("hi")})
	if e := apiError(t, err); e.StatusCode != 404 || e.Code != "model_not_found" {
		t.Fatalf("other provider's model: %d %s", e.StatusCode, e.Code)
	}
	page, err := onlyA.Models.List(ctx)
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != "gpt-4o-mini" {
		t.Fatalf("models of a provider-bound connection: %+v, %v", page, err)
	}
	var raw struct {
		Data []struct {
			ContextLength int `json:"context_length"`
			Pricing       struct {
				Prompt string `json:"prompt"`
			} `json:"pricing"`
			SupportedParameters []string `json:"supported_parameters"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(page.RawJSON()), &raw); err != nil || raw.Data[0].ContextLength != 128000 ||
		raw.Data[0].Pricing.Prompt != "1e-06" || len(raw.Data[0].SupportedParameters) == 0 {
		t.Fatalf("model entry = %s (%v)", page.RawJSON(), err)
	}
}

// TestOldStyleConnection proves that a connection naming a built-in type
// keeps working through the registry before and after providers change.
func TestOldStyleConnection(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	sys := r.addProvider(providerSpec{slug: "openai", protocol: switchyard.ProtocolOpenAI, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}, system: "openai"})
	c := r.client(r.connect(switchyard.Connection{ProviderType: "openai"}))
	ask := func() error {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
		return err
	}
	if err := ask(); err != nil {
		t.Fatalf("before changes: %v", err)
	}
	// Dynamic changes: another provider serving the same model, and a
	// change to the system provider's settings.
	other := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	r.addProvider(providerSpec{slug: "dynamic", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(other) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	sys.Name, sys.Settings.TimeoutMS = "OpenAI (renamed)", 20000
	if err := r.store.UpdateProvider(ctx, sys); err != nil {
		t.Fatal(err)
	}
	before := up.RequestCount()
	if err := ask(); err != nil {
		t.Fatalf("after changes: %v", err)
	}
	if up.RequestCount() != before+1 || other.RequestCount() != 0 {
		t.Fatal("the old-style connection was not served by its system provider")
	}
	// Disabling the system provider stops it.
	sys.Enabled = false
	if err := r.store.UpdateProvider(ctx, sys); err != nil {
		t.Fatal(err)
	}
	if e := apiError(t, ask()); e.StatusCode != 404 {
		t.Fatalf("with its system provider disabled: %d", e.StatusCode)
	}
}

// TestRetryAfterWaitsForTheOnlyProvider: with no other key or provider, a
// 429 whose Retry-After fits the retry budget is waited for and retried;
// one that does not fit is answered at once with its Retry-After.
func TestRetryAfterWaitsForTheOnlyProvider(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p := r.addProvider(providerSpec{slug: "only", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID}))
	up.QueueFault(fake.RateLimit(time.Second))
	start := time.Now()
	if _, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")}); err != nil {
		t.Fatalf("after a short Retry-After: %v", err)
	}
	if u := r.lastUsage(); u.Attempts != 2 || time.Since(start) < time.Second {
		t.Fatalf("usage %+v after %v: the Retry-After was not waited", u, time.Since(start))
	}
	up.QueueFault(fake.RateLimit(time.Minute))
	_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	e := apiError(t, err)
	if e.StatusCode != 429 || e.Response.Header.Get("Retry-After") != "60" {
		t.Fatalf("a long Retry-After: %d, Retry-After %q", e.StatusCode, e.Response.Header.Get("Retry-After"))
	}
	if u := r.lastUsage(); u.Attempts != 1 {
		t.Fatalf("a Retry-After beyond the budget was waited for: %+v", u)
	}
}

func TestConnectionTokenLimit(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p := r.addProvider(providerSpec{slug: "p", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	// The first answer uses more than the whole minute's allowance.
	c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID, TokenLimitTPM: 10}))
	long := strings.Repeat("word ", 40)
	if _, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg(long)}); err != nil {
		t.Fatal(err)
	}
	if u := r.lastUsage(); u.InputTokens+u.OutputTokens <= 10 {
		t.Fatalf("the first answer used only %d tokens", u.InputTokens+u.OutputTokens)
	}
	seen := up.RequestCount()
	_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	e := apiError(t, err)
	if e.StatusCode != 429 || e.Response.Header.Get("X-Ratelimit-Limit-Tokens") != "10" || e.Response.Header.Get("Retry-After") == "" ||
		up.RequestCount() != seen {
		t.Fatalf("over the token limit: %d, headers %v", e.StatusCode, e.Response.Header)
	}
}

// TestFallbackForEveryFault: whatever goes wrong with the first provider
// before the first byte of the answer (an error status, a malformed answer,
// a stream cut before its first chunk, silence past the provider's
// timeout), the second provider answers; the client sees nothing of it.
func TestFallbackForEveryFault(t *testing.T) {
	r := newRig(t)
	first := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	second := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	quick := switchyard.ProviderSettings{TimeoutMS: 300}
	r.addProvider(providerSpec{slug: "first", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(first) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}, settings: quick})
	r.addProvider(providerSpec{slug: "second", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(second) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{Models: []string{"gpt-4o-mini"}}))
	tests := []struct {
		fault  fake.Fault
		stream bool
	}{
		{fake.Status(500), false}, {fake.Status(502), true}, {fake.Status(503), false}, {fake.Status(401), false},
		{fake.Status(403), true}, {fake.Malformed(), false}, {fake.Cut(0), true}, {fake.Stall(0), true},
		{fake.Slow(2 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			first.SetFault(tt.fault)
			defer first.ClearFaults()
			if tt.stream {
				stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
				acc := openai.ChatCompletionAccumulator{}
				for stream.Next() {
					acc.AddChunk(stream.Current())
				}
				if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != "You said: hi" {
					t.Fatalf("stream with %s on the first provider: %v", tt.fault, err)
				}
			} else if res, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")}); err != nil ||
				res.Choices[0].Message.Content != "You said: hi" {
				t.Fatalf("with %s on the first provider: %v", tt.fault, err)
			}
			if u := r.lastUsage(); u.Attempts < 2 || u.Status != switchyard.UsageOK {
				t.Fatalf("usage = %+v, want a second attempt that succeeded", u)
			}
		})
	}
}

// TestDisabledOwnerStopsTheirConnections: disabling a user stops their
// gateway keys at once, and enabling them again restores them.
func TestDisabledOwnerStopsTheirConnections(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p := r.addProvider(providerSpec{slug: "p", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID}))
	ask := func() error {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
		return err
	}
	if err := ask(); err != nil {
		t.Fatal(err)
	}
	owner, _ := r.db.GetUser(ctx, r.owner.ID)
	owner.Disabled = true
	if err := r.store.UpdateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	if e := apiError(t, ask()); e.StatusCode != 401 {
		t.Fatalf("a disabled owner's key answered %d", e.StatusCode)
	}
	owner.Disabled = false
	if err := r.store.UpdateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	if err := ask(); err != nil {
		t.Fatalf("after re-enabling the owner: %v", err)
	}
}
