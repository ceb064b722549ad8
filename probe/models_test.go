package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/probe"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
)

const fakeKey = "sk-probe-models-key-0123456789"

// fakeAdapter serves upstream with httptest and returns the adapter the
// factory builds for it.
func fakeAdapter(t *testing.T, upstream http.Handler, protocol switchyard.Protocol, path string) provider.Adapter {
	t.Helper()
	srv := httptest.NewServer(upstream)
	t.Cleanup(srv.Close)
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
	p := &switchyard.Provider{Name: "p", Slug: "p", Protocol: protocol, BaseURL: srv.URL + path, Enabled: true}
	a, err := f.New(p, switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey,
		Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(fakeKey)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func chatModel(upstream string) *switchyard.Model {
	return &switchyard.Model{ID: "m1", UpstreamID: upstream, Capabilities: switchyard.Capabilities{
		InputModalities: []string{"text", "image"}, OutputModalities: []string{"text"}, Tools: true, JSONMode: true,
		Streaming: true, Vision: true}}
}

func check(t *testing.T, res *switchyard.TestResult, name string) switchyard.CapabilityCheck {
	t.Helper()
	for _, c := range res.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, res.Checks)
	return switchyard.CapabilityCheck{}
}

func TestModelTestAgainstTheFakes(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		upstream http.Handler
		protocol switchyard.Protocol
		path     string
		model    string
	}{
		{"openai", fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{fakeKey}}), switchyard.ProtocolOpenAI, "/v1", "gpt-4o-mini"},
		{"anthropic", fake.NewAnthropic(fake.AnthropicConfig{APIKeys: []string{fakeKey}}), switchyard.ProtocolAnthropic, "", fake.DefaultAnthropicModels[0]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := fakeAdapter(t, tt.upstream, tt.protocol, tt.path)
			res := probe.TestModel(ctx, a, chatModel(tt.model), probe.ModelTestOptions{CallTimeout: 5 * time.Second})
			if !res.OK || res.Code != "" || res.TTFTMS <= 0 || res.LatencyMS < res.TTFTMS || res.InputTokens == 0 || res.OutputTokens == 0 {
				t.Fatalf("result %+v", res)
			}
			if len(res.Checks) != len(switchyard.CapabilityChecks) {
				t.Fatalf("checks %+v", res.Checks)
			}
			for name, want := range map[string]string{"streaming": switchyard.CheckVerified, "tools": switchyard.CheckVerified,
				// The OpenAI fake ignores the response format and echoes the
				// prompt: accepted, but not JSON, so inconclusive. The
				// Anthropic adapter asks for JSON its own way.
				"json_mode": switchyard.CheckUnknown, "vision": switchyard.CheckVerified, "embeddings": switchyard.CheckUnknown} {
				if c := check(t, res, name); c.Result != want && (name != "json_mode" || c.Result != switchyard.CheckVerified) {
					t.Errorf("%s = %+v, want %s", name, c, want)
				}
			}
		})
	}
}

func TestModelTestEmbeddingsAndFailures(t *testing.T) {
	ctx := context.Background()
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{fakeKey}})
	a := fakeAdapter(t, up, switchyard.ProtocolOpenAI, "/v1")

	emb := &switchyard.Model{UpstreamID: "text-embedding-3-small", Capabilities: switchyard.Capabilities{Embeddings: true,
		InputModalities: []string{"text"}}}
	before := up.RequestCount()
	res := probe.TestModel(ctx, a, emb, probe.ModelTestOptions{})
	if !res.OK || check(t, res, "embeddings").Result != switchyard.CheckVerified || up.RequestCount()-before != 1 {
		t.Fatalf("embeddings: %+v after %d calls", res, up.RequestCount()-before)
	}

	up.SetFault(fake.Status(401))
	res = probe.TestModel(ctx, a, chatModel("gpt-4o-mini"), probe.ModelTestOptions{})
	if res.OK || res.Code != "auth_rejected" || check(t, res, "tools").Result != switchyard.CheckUnknown {
		t.Fatalf("401: %+v", res)
	}
	// A refused feature is unsupported; the model still answers.
	up.SetFault(fake.Fault{Kind: fake.FaultStatus, Status: 400, Path: "/embeddings"})
	m := chatModel("gpt-4o-mini")
	m.Capabilities.Embeddings = true
	res = probe.TestModel(ctx, a, m, probe.ModelTestOptions{})
	if !res.OK || check(t, res, "embeddings").Result != switchyard.CheckUnsupported {
		t.Fatalf("refused embeddings: %+v", res)
	}
	up.ClearFaults()
}

func TestBenchmarkAgainstTheFake(t *testing.T) {
	ctx := context.Background()
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{fakeKey}})
	a := fakeAdapter(t, up, switchyard.ProtocolOpenAI, "/v1")
	var calls atomic.Int32
	res := probe.Benchmark(ctx, a, chatModel("gpt-4o-mini"), probe.BenchmarkOptions{Requests: 10, Concurrency: 3,
		Progress: func(done, errors int) { calls.Add(1) }})
	if res.Status != switchyard.BenchmarkCompleted || res.Requests != 10 || res.Errors != 0 || res.Concurrency != 3 ||
		res.P50MS <= 0 || res.P50MS > res.P95MS || res.P95MS > res.P99MS || res.TTFTMS <= 0 || res.TTFTMS > res.P99MS ||
		res.TokensPerSec <= 0 || calls.Load() != 10 || up.RequestCount() != 10 {
		t.Fatalf("result %+v, %d progress calls, %d requests", res, calls.Load(), up.RequestCount())
	}

	// Injected 500s are counted as errors.
	up.QueueFault(fake.Status(500), fake.Status(500))
	res = probe.Benchmark(ctx, a, chatModel("gpt-4o-mini"), probe.BenchmarkOptions{Requests: 6, Concurrency: 1})
	if res.Requests != 6 || res.Errors != 2 || res.ErrorRate != 0.33 {
		t.Fatalf("with 500s: %+v", res)
	}

	// Cancelling stops the run early; cut-off requests are not errors.
	up.SetFault(fake.Slow(100 * time.Millisecond))
	cctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
	defer cancel()
	res = probe.Benchmark(cctx, a, chatModel("gpt-4o-mini"), probe.BenchmarkOptions{Requests: 100, Concurrency: 2})
	if res.Status != switchyard.BenchmarkCancelled || res.Requests >= 100 || res.Errors != 0 {
		t.Fatalf("cancelled: %+v", res)
	}
	up.ClearFaults()
}
