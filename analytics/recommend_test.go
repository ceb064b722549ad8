package analytics_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/sqlstore"
)

// fleet is a seeded configuration: two providers serve gpt-4o, one of
// them also a cheap model and an unused big one, and a third provider
// serves nothing.
type fleet struct {
	alpha, beta, gamma         *switchyard.Provider
	alphaGPT, betaGPT, mini    *switchyard.Model
	big                        *switchyard.Model
	billing, support, internal *switchyard.Connection
}

func seedFleet(t *testing.T, db *sqlstore.DB) *fleet {
	t.Helper()
	f := &fleet{}
	provider := func(slug, name string) *switchyard.Provider {
		p := &switchyard.Provider{Name: name, Slug: slug, Protocol: switchyard.ProtocolOpenAI, BaseURL: "https://" + slug + ".example.com/v1",
			Enabled: true, Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthNone, Weight: 1}}}
		if err := db.CreateProvider(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caps := switchyard.Capabilities{ContextWindow: 128000, InputModalities: []string{"text"}, OutputModalities: []string{"text"},
		Tools: true, JSONMode: true, Streaming: true}
	model := func(p *switchyard.Provider, upstream string, c switchyard.Capabilities, in, out float64) *switchyard.Model {
		m := &switchyard.Model{ProviderID: p.ID, UpstreamID: upstream, Enabled: true, Capabilities: c,
			Pricing: switchyard.Pricing{InputPerMTok: in, OutputPerMTok: out}}
		if err := db.CreateModel(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	f.alpha, f.beta, f.gamma = provider("alpha", "Alpha"), provider("beta", "Beta"), provider("gamma", "Gamma")
	f.alphaGPT = model(f.alpha, "gpt-4o", caps, 2.5, 10)
	f.betaGPT = model(f.beta, "gpt-4o", caps, 2.5, 10)
	f.mini = model(f.alpha, "gpt-4o-mini", caps, 0.15, 0.6)
	vision := caps
	vision.Vision = true
	f.big = model(f.alpha, "big-vision", vision, 0.1, 0.1) // the cheapest, and it has every capability gpt-4o has
	model(f.gamma, "idle-model", caps, 1, 1)
	u := &switchyard.User{Username: "owner", Role: switchyard.RoleUser}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	conn := func(name string, p *switchyard.Provider, budget float64) *switchyard.Connection {
		c := &switchyard.Connection{Name: name, OwnerID: u.ID, ProviderID: p.ID, KeyHash: "hash-" + name, KeyPrefix: "sy-" + name[:2],
			Enabled: true, BudgetUSD: budget}
		if err := db.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.billing, f.support, f.internal = conn("billing", f.alpha, 0.5), conn("support", f.beta, 100), conn("internal", f.alpha, 0)
	return f
}

func TestRecommendationsFromMeasuredUsage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		f := seedFleet(t, db)
		// The clock is 50-odd days after the fleet was created, so that
		// nothing counts as new.
		n := time.Now().UTC()
		now := time.Date(n.Year(), n.Month()+2, 15, 12, 0, 0, 0, time.UTC)
		event := func(at time.Time, c *switchyard.Connection, m *switchyard.Model, latency int64, status, class string) switchyard.UsageEvent {
			in, out := 1000, 200
			return switchyard.UsageEvent{At: at, ConnectionID: c.ID, UserID: c.OwnerID, ProviderID: m.ProviderID, ModelID: m.ID,
				Status: status, ErrorClass: class, InputTokens: in, OutputTokens: out, LatencyMS: latency,
				CostUSD: switchyard.Cost(m.Pricing, switchyard.Tokens{Input: in, Output: out})}
		}
		var events []switchyard.UsageEvent
		// billing: 100 requests to Alpha's gpt-4o over two days, ~900 ms.
		for i := range 100 {
			events = append(events, event(now.Add(-48*time.Hour+time.Duration(i)*20*time.Minute), f.billing, f.alphaGPT, 850+int64(i%10)*10, switchyard.UsageOK, ""))
		}
		// support: Beta's gpt-4o, ~300 ms; fine for five days, then a
		// third of the last day's requests fail.
		for i := range 50 {
			events = append(events, event(now.Add(-6*24*time.Hour+time.Duration(i)*2*time.Hour), f.support, f.betaGPT, 300, switchyard.UsageOK, ""))
		}
		for i := range 30 {
			status, class := switchyard.UsageOK, ""
			if i%3 == 0 {
				status, class = switchyard.UsageError, "upstream_error"
			}
			events = append(events, event(now.Add(-20*time.Hour+time.Duration(i)*30*time.Minute), f.support, f.betaGPT, 310, status, class))
		}
		if err := db.AppendUsage(ctx, events); err != nil {
			t.Fatal(err)
		}
		if _, err := newRoller(t, db, now, analytics.Retention{}).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		rd := analytics.NewReader(analytics.ReaderConfig{Store: db, Inventory: db, Now: func() time.Time { return now }})
		recs, err := rd.Recommendations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		find := func(kind, subject string) *switchyard.Recommendation {
			for i := range recs {
				if recs[i].Kind == kind && recs[i].Subject.ID == subject {
					return &recs[i]
				}
			}
			return nil
		}
		near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

		// The cheapest model with every capability billing's model has:
		// big-vision (it has vision too), at $0.10 in and out per million.
		r := find(switchyard.RecommendCheaperModel, f.billing.ID)
		if r == nil || r.Alternative == nil || r.Alternative.ID != f.big.ID {
			t.Fatalf("cheaper model for billing = %+v\nall: %+v", r, recs)
		}
		if e := r.Evidence; e["requests"] != 100 || !near(e["cost_usd"], 100*0.0045) || !near(e["alternative_cost_usd"], 100*1200*0.1/1e6) ||
			!near(e["saving_usd"], e["cost_usd"]-e["alternative_cost_usd"]) || e["input_tokens"] != 100000 {
			t.Fatalf("evidence = %v", e)
		}

		// Beta answers gpt-4o three times as fast as Alpha.
		r = find(switchyard.RecommendFasterProvider, f.alpha.ID)
		if r == nil || r.Alternative.ID != f.beta.ID {
			t.Fatalf("faster provider = %+v\nall: %+v", r, recs)
		}
		if e := r.Evidence; math.Abs(e["latency_p50_ms"]-900) > 900*analytics.HistogramError || math.Abs(e["alternative_latency_p50_ms"]-300) > 300*analytics.HistogramError ||
			e["requests"] != 100 || e["alternative_requests"] != 80 {
			t.Fatalf("evidence = %v", e)
		}
		if find(switchyard.RecommendFasterProvider, f.beta.ID) != nil {
			t.Fatal("the faster provider is told to find a faster one")
		}

		// Beta's errors rose from none to a third.
		r = find(switchyard.RecommendRisingErrors, f.beta.ID)
		if r == nil || !strings.Contains(r.Message, "upstream_error") {
			t.Fatalf("rising errors = %+v\nall: %+v", r, recs)
		}
		if e := r.Evidence; e["requests"] != 30 || e["errors"] != 10 || !near(e["error_rate"], 1.0/3) || e["earlier_error_rate"] != 0 || e["earlier_requests"] != 50 {
			t.Fatalf("evidence = %v", e)
		}
		if find(switchyard.RecommendRisingErrors, f.alpha.ID) != nil {
			t.Fatal("Alpha, with no errors, is said to have rising errors")
		}

		// Gamma served nothing (its model is not listed on its own); on
		// Alpha, mini and big-vision served nothing.
		if find(switchyard.RecommendUnusedProvider, f.gamma.ID) == nil || find(switchyard.RecommendUnusedModel, f.mini.ID) == nil ||
			find(switchyard.RecommendUnusedModel, f.big.ID) == nil {
			t.Fatalf("unused: %+v", recs)
		}
		for _, rec := range recs {
			if rec.Kind == switchyard.RecommendUnusedModel && rec.Subject.ID != f.mini.ID && rec.Subject.ID != f.big.ID {
				t.Errorf("also unused: %+v", rec)
			}
			if rec.Kind == switchyard.RecommendUnusedProvider && rec.Subject.ID != f.gamma.ID {
				t.Errorf("also unused: %+v", rec)
			}
		}

		// billing spent $0.45 of its $0.50 this month; support $0.36 of $100.
		r = find(switchyard.RecommendNearBudget, f.billing.ID)
		if r == nil || !near(r.Evidence["spent_usd"], 0.45) || !near(r.Evidence["spent_share"], 0.9) || r.Evidence["budget_usd"] != 0.5 {
			t.Fatalf("near budget = %+v", r)
		}
		if find(switchyard.RecommendNearBudget, f.support.ID) != nil || find(switchyard.RecommendNearBudget, f.internal.ID) != nil {
			t.Fatalf("near budget: %+v", recs)
		}
	})
}
