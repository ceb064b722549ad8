package gateway_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/health"
	"github.com/switchyard/switchyard/provider/fake"
)

// stubHealth is a status board that records what the gateway tells it.
type stubHealth struct {
	mu       sync.Mutex
	status   map[string]switchyard.ProviderStatus
	observed []outcome
}

type outcome struct {
	provider string
	failed   bool
	latency  time.Duration
}

func (h *stubHealth) Observe(id string, failed bool, latency time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.observed = append(h.observed, outcome{id, failed, latency})
}

func (h *stubHealth) Status(id string) switchyard.ProviderStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status[id]
}

func (h *stubHealth) set(id string, s switchyard.ProviderStatus) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status[id] = s
}

func (h *stubHealth) outcomes() []outcome {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]outcome(nil), h.observed...)
}

func TestDownProviderIsTriedLast(t *testing.T) {
	h := &stubHealth{status: map[string]switchyard.ProviderStatus{}}
	r := newRigWith(t, func(c *gateway.Config) { c.Health = h })
	first := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	second := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p1 := r.addProvider(providerSpec{slug: "first", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(first) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	p2 := r.addProvider(providerSpec{slug: "second", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(second) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{Models: []string{"gpt-4o-mini"}}))
	ask := func() error {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
		return err
	}

	if err := ask(); err != nil || first.RequestCount() != 1 || second.RequestCount() != 0 {
		t.Fatalf("healthy: first %d, second %d requests (%v)", first.RequestCount(), second.RequestCount(), err)
	}
	h.set(p1.ID, switchyard.StatusDown)
	if err := ask(); err != nil || first.RequestCount() != 1 || second.RequestCount() != 1 {
		t.Fatalf("first down: first %d, second %d requests (%v)", first.RequestCount(), second.RequestCount(), err)
	}
	// Down is tried last, not never: with the other failing it still serves.
	second.SetFault(fake.Status(503))
	if err := ask(); err != nil || first.RequestCount() != 2 {
		t.Fatalf("second failing: first %d requests (%v)", first.RequestCount(), err)
	}
	if u := r.lastUsage(); u.Attempts < 2 || u.ProviderID != p1.ID {
		t.Fatalf("usage %+v", u)
	}

	// Every try reached the status machine, failures marked.
	var failedSecond, okFirst int
	for _, o := range h.outcomes() {
		switch {
		case o.provider == p2.ID && o.failed:
			failedSecond++
		case o.provider == p1.ID && !o.failed:
			okFirst++
		}
		if o.latency <= 0 {
			t.Fatalf("outcome without latency: %+v", o)
		}
	}
	if failedSecond < 1 || okFirst != 2 {
		t.Fatalf("outcomes %+v", h.outcomes())
	}
	// A client's bad request is no failure of the provider.
	second.ClearFaults()
	h.set(p1.ID, switchyard.StatusHealthy)
	first.SetFault(fake.Status(400))
	_ = ask()
	if o := h.outcomes(); o[len(o)-1].failed {
		t.Fatalf("a 400 counted as a provider failure: %+v", o[len(o)-1])
	}
}

func TestRecoveryResetsTheBreaker(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	p := r.addProvider(providerSpec{slug: "flaky", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}})
	c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID}))
	up.SetFault(fake.Status(500))
	for range 5 {
		_, _ = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
	}
	up.ClearFaults()
	if _, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")}); err == nil {
		t.Fatal("the breaker did not open")
	}
	// The monitor sees the provider recover: traffic returns at once.
	r.g.HealthChanged(p.ID, switchyard.StatusDown, switchyard.StatusHealthy)
	if _, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")}); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestGatewayOutcomesMoveTheStatus: with the real status machine, a
// provider whose calls start failing goes degraded, then down, from the
// gateway's outcomes alone.
func TestGatewayOutcomesMoveTheStatus(t *testing.T) {
	m := health.NewMachine(nil)
	r := newRigWith(t, func(c *gateway.Config) { c.Health = m })
	bad := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	settings := switchyard.ProviderSettings{HealthMinRequests: 4, HealthDegradedErrorRate: 20, HealthDownErrorRate: 50}
	p := r.addProvider(providerSpec{slug: "bad", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(bad) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{model("gpt-4o-mini")}, settings: settings})
	providers := make([]*switchyard.Provider, 0, 1)
	for _, rp := range r.reg.Current().Providers {
		providers = append(providers, rp.Provider)
	}
	m.Sync(providers)
	c := r.client(r.connect(switchyard.Connection{Models: []string{"bad/gpt-4o-mini"}}))
	ask := func(model string) {
		_, _ = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model, Messages: userMsg("hi")})
	}
	for range 4 {
		ask("bad/gpt-4o-mini")
	}
	m.Evaluate()
	if got := m.Status(p.ID); got != switchyard.StatusHealthy {
		t.Fatalf("after 4 good calls: %q", got)
	}
	bad.SetFault(fake.Status(http.StatusInternalServerError))
	ask("bad/gpt-4o-mini") // 3 tries, all failed: 3 of 7
	m.Evaluate()
	if got := m.Status(p.ID); got != switchyard.StatusDegraded {
		t.Fatalf("after 3 failures in 7: %q", got)
	}
	// The breaker opens after 5 failures in a row; the calls it refuses
	// never reach the provider and are not counted: 5 of 9.
	for range 3 {
		ask("bad/gpt-4o-mini")
	}
	m.Evaluate()
	if got := m.Status(p.ID); got != switchyard.StatusDown {
		t.Fatalf("after 5 failures in 9: %q", got)
	}
}
