package alert_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/alert"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// fakeUsage answers usage reports with fixed totals per group and keeps
// the queries.
type fakeUsage struct {
	mu      sync.Mutex
	totals  map[string]switchyard.UsageStats
	queries []switchyard.UsageQuery
}

func (f *fakeUsage) set(key string, s switchyard.UsageStats) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.totals[key] = s
}

func (f *fakeUsage) Usage(_ context.Context, q switchyard.UsageQuery) (*switchyard.UsageReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	rep := &switchyard.UsageReport{From: q.From, To: q.To, Resolution: q.Resolution, GroupBy: q.GroupBy}
	for k, s := range f.totals {
		rep.Series = append(rep.Series, switchyard.UsageSeries{Key: k, Total: s})
	}
	return rep, nil
}

func usageEnv(t *testing.T, rules ...*switchyard.AlertRule) (*env, *fakeUsage, *receiver) {
	t.Helper()
	u := &fakeUsage{totals: map[string]switchyard.UsageStats{}}
	e := newEnv(t, storetest.SQLite().Open(t), func(c *alert.Config) { c.Usage = u })
	rcv := newReceiver(t, "")
	e.webhook(t, rcv, "")
	for _, r := range rules {
		r.Enabled = true
		if err := e.db.CreateAlertRule(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	return e, u, rcv
}

func TestErrorRateRule(t *testing.T) {
	e, u, rcv := usageEnv(t, &switchyard.AlertRule{Name: "errors", Kind: switchyard.RuleErrorRate, Threshold: 0.2, WindowMinutes: 10})
	p := e.provider(t, "erring")
	// Too few requests to count, then a rate under the threshold.
	u.set(p.ID, switchyard.UsageStats{Requests: 5, Errors: 5, ErrorRate: 1})
	e.evaluate(t)
	u.set(p.ID, switchyard.UsageStats{Requests: 100, Errors: 10, ErrorRate: 0.1})
	e.evaluate(t)
	if got := rcv.got(); len(got) != 0 {
		t.Fatalf("announced %+v", got)
	}
	u.set(p.ID, switchyard.UsageStats{Requests: 100, Errors: 30, ErrorRate: 0.3})
	e.evaluate(t)
	e.evaluate(t)
	got := rcv.got()
	if events(got) != "firing" || !strings.Contains(got[0].Summary, "30.0% of 100 requests failed in the last 10 minutes") {
		t.Fatalf("messages %+v", got)
	}
	u.mu.Lock()
	q := u.queries[0]
	u.mu.Unlock()
	if q.GroupBy != switchyard.GroupByProvider || q.Resolution != switchyard.ResolutionMinute || q.To.Sub(q.From) != 10*time.Minute {
		t.Fatalf("query %+v", q)
	}
	u.set(p.ID, switchyard.UsageStats{Requests: 100, Errors: 1, ErrorRate: 0.01})
	e.evaluate(t)
	if got := events(rcv.got()); got != "firing,resolved" {
		t.Fatalf("after recovery: %s", got)
	}
}

func TestLatencyRule(t *testing.T) {
	e, u, rcv := usageEnv(t, &switchyard.AlertRule{Name: "slow", Kind: switchyard.RuleLatencyP95, Threshold: 3000})
	p := e.provider(t, "slow")
	u.set(p.ID, switchyard.UsageStats{Requests: 50, LatencyP95: 2900})
	e.evaluate(t)
	u.set(p.ID, switchyard.UsageStats{Requests: 50, LatencyP95: 4200})
	e.evaluate(t)
	if got := rcv.got(); events(got) != "firing" || !strings.Contains(got[0].Summary, "p95 latency 4200 ms over the last 15 minutes") {
		t.Fatalf("messages %+v", got)
	}
}

func TestSpendRules(t *testing.T) {
	e, u, rcv := usageEnv(t,
		&switchyard.AlertRule{Name: "budget 80%", Kind: switchyard.RuleConnectionBudget, Threshold: 0.8},
		&switchyard.AlertRule{Name: "month over $50", Kind: switchyard.RuleMonthlySpend, Threshold: 50})
	p := e.provider(t, "paid")
	owner := &switchyard.User{Username: "owner", Role: switchyard.RoleUser}
	if err := e.db.CreateUser(t.Context(), owner); err != nil {
		t.Fatal(err)
	}
	conn := &switchyard.Connection{Name: "billing", OwnerID: owner.ID, ProviderID: p.ID, KeyHash: "h1", KeyPrefix: "sk-sy-1", BudgetUSD: 40, Enabled: true}
	free := &switchyard.Connection{Name: "free", OwnerID: owner.ID, ProviderID: p.ID, KeyHash: "h2", KeyPrefix: "sk-sy-2", Enabled: true}
	for _, c := range []*switchyard.Connection{conn, free} {
		if err := e.db.CreateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	u.set(conn.ID, switchyard.UsageStats{CostUSD: 30})
	u.set(free.ID, switchyard.UsageStats{CostUSD: 15})
	e.evaluate(t)
	if got := rcv.got(); len(got) != 0 {
		t.Fatalf("announced %+v", got)
	}
	u.set(conn.ID, switchyard.UsageStats{CostUSD: 36})
	e.evaluate(t)
	got := rcv.got()
	if events(got) != "firing,firing" {
		t.Fatalf("messages %+v", got)
	}
	var budget, month bool
	for _, m := range got {
		budget = budget || m.Subject == conn.ID && strings.Contains(m.Summary, "has spent $36.00 of its $40.00 monthly budget (90%)")
		month = month || m.Subject == switchyard.MonthlySubject && strings.Contains(m.Summary, "$51.00, at or over the $50.00 threshold")
	}
	if !budget || !month {
		t.Fatalf("messages %+v", got)
	}
	// A new month starts from nothing: both resolve.
	u.set(conn.ID, switchyard.UsageStats{})
	u.set(free.ID, switchyard.UsageStats{})
	e.clk.Add(40 * 24 * time.Hour)
	e.evaluate(t)
	if got := events(rcv.got()); got != "firing,firing,resolved,resolved" {
		t.Fatalf("next month: %s", got)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, q := range u.queries {
		if q.From.Day() != 1 || q.From.Hour() != 0 {
			t.Fatalf("a spend query does not start at the month: %+v", q)
		}
	}
}
