package gateway_test

import (
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider/fake"
)

// A connection's monthly budget counts what it spent this month, in the
// store (other replicas, earlier runs) and through this gateway, and
// refuses further requests once spent, as OpenAI answers an exhausted
// quota, without calling the upstream.
func TestConnectionBudget(t *testing.T) {
	r := newRig(t)
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}})
	dear := model("gpt-4o-mini")
	dear.Pricing = switchyard.Pricing{InputPerMTok: 100_000, OutputPerMTok: 100_000} // $0.10 a token
	p := r.addProvider(providerSpec{slug: "p", protocol: switchyard.ProtocolOpenAICompatible, baseURL: r.upstream(up) + "/v1",
		cred: apiKey(upstreamKey), models: []*switchyard.Model{dear}})
	ask := func(c openai.Client) error {
		_, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
		return err
	}
	conns := func() []*switchyard.Connection {
		page, err := r.db.ListConnections(ctx, switchyard.ConnectionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
	spentElsewhere := func(connID string, at time.Time, usd float64) {
		t.Helper()
		if err := r.db.AppendUsage(ctx, []switchyard.UsageEvent{{At: at, ConnectionID: connID, Status: switchyard.UsageOK, CostUSD: usd}}); err != nil {
			t.Fatal(err)
		}
	}

	// Measure what one request costs, on a connection without a budget.
	free := r.client(r.connect(switchyard.Connection{ProviderID: p.ID}))
	if err := ask(free); err != nil {
		t.Fatal(err)
	}
	cost := r.lastUsage().CostUSD
	if cost <= 0.1 {
		t.Fatalf("a request costs $%v; the test needs a dearer one", cost)
	}

	// Spent elsewhere this month: all but half a request; last month's
	// spending does not count.
	c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID, BudgetUSD: 10}))
	budgeted := conns()[1]
	now := time.Now().UTC()
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	spentElsewhere(budgeted.ID, monthStart.Add(-time.Second), 1000)
	spentElsewhere(budgeted.ID, monthStart, 10-cost/2)
	if err := ask(c); err != nil {
		t.Fatalf("under budget: %v", err)
	}
	seen := up.RequestCount()
	err := ask(c)
	e := apiError(t, err)
	if e.StatusCode != 429 || e.Type != "insufficient_quota" || e.Code != "budget_exceeded" || up.RequestCount() != seen {
		t.Fatalf("over budget: status %d, type %q, code %q; upstream called: %v", e.StatusCode, e.Type, e.Code, up.RequestCount() != seen)
	}
	if u := r.lastUsage(); u.Status != switchyard.UsageError || u.ErrorClass != "budget_exceeded" || u.HTTPStatus != 429 {
		t.Fatalf("usage of a refused request = %+v", u)
	}
	if err := ask(free); err != nil {
		t.Fatalf("another connection's budget stopped this one: %v", err)
	}

	// Spending on another replica is seen within the refresh interval.
	other := r.client(r.connect(switchyard.Connection{ProviderID: p.ID, BudgetUSD: 10}))
	if err := ask(other); err != nil {
		t.Fatal(err)
	}
	otherID := conns()[2].ID
	spentElsewhere(otherID, time.Now(), 10)
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := ask(other)
		if err != nil {
			if e := apiError(t, err); e.StatusCode != 429 || e.Code != "budget_exceeded" {
				t.Fatalf("status %d, code %q", e.StatusCode, e.Code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("spending recorded by another replica was never seen")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
