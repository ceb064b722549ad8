package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

type usageReportDoc struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Resolution string    `json:"resolution"`
	GroupBy    string    `json:"group_by"`
	Series     []struct {
		Key    string `json:"key"`
		Name   string `json:"name"`
		Total  usageStatsDoc
		Points []struct {
			At time.Time `json:"at"`
			usageStatsDoc
		} `json:"points"`
	} `json:"series"`
}

type usageStatsDoc struct {
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	ErrorRate    float64          `json:"error_rate"`
	ErrorClasses map[string]int64 `json:"error_classes"`
	InputTokens  int64            `json:"input_tokens"`
	CostUSD      float64          `json:"cost_usd"`
	LatencyP50   float64          `json:"latency_p50_ms"`
}

// newAnalyticsEnv is an API with analytics, and two connections with
// usage rolled up: the user's (30 requests, 3 failed) and the admin's (20).
func newAnalyticsEnv(t *testing.T, b storetest.Backend) (e *env, mine, theirs connectionDoc) {
	t.Helper()
	var reader *analytics.Reader
	e = newEnvWith(t, b, func(c *control.Config) {
		reader = analytics.NewReader(analytics.ReaderConfig{Store: c.Store.(switchyard.RollupStore), Inventory: c.Store})
		c.Analytics = reader
	})
	p := e.newProvider("metered", true)
	want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "user-app", "provider_id": p.ID}), http.StatusCreated).json(t, &mine)
	want(t, e.admin("POST", "/api/v1/connections", map[string]any{"name": "admin-app", "provider_id": p.ID}), http.StatusCreated).json(t, &theirs)
	now := time.Now().UTC()
	var events []switchyard.UsageEvent
	for i := range 50 {
		c, owner := mine, e.userID
		if i >= 30 {
			c, owner = theirs, e.adminID
		}
		ev := switchyard.UsageEvent{At: now.Add(-2*time.Hour + time.Duration(i)*time.Minute), ConnectionID: c.ID, UserID: owner,
			ProviderID: p.ID, ModelID: "m1", Status: switchyard.UsageOK, InputTokens: 100, LatencyMS: 200, CostUSD: 0.01}
		if i%10 == 0 && i < 30 {
			ev.Status, ev.ErrorClass = switchyard.UsageError, "rate_limited"
		}
		events = append(events, ev)
	}
	if err := e.db.AppendUsage(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	roller, err := analytics.NewRoller(analytics.RollerConfig{Store: e.db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roller.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, mine, theirs
}

func TestUsageReportScopedByRole(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			e, mine, theirs := newAnalyticsEnv(t, b)
			var rep usageReportDoc
			from := url.QueryEscape(time.Now().Add(-3 * time.Hour).Format(time.RFC3339))
			want(t, e.admin("GET", "/api/v1/analytics/usage?group_by=connection&resolution=minute&from="+from, nil), http.StatusOK).json(t, &rep)
			if rep.Resolution != "minute" || rep.GroupBy != "connection" || len(rep.Series) != 2 || !rep.To.After(rep.From) {
				t.Fatalf("admin report = %+v", rep)
			}
			s := rep.Series[0] // most requests first
			if s.Key != mine.ID || s.Name != "user-app" || s.Total.Requests != 30 || s.Total.Errors != 3 || s.Total.ErrorRate != 0.1 ||
				s.Total.ErrorClasses["rate_limited"] != 3 || s.Total.InputTokens != 3000 || len(s.Points) != 30 {
				t.Fatalf("the user's series = %+v", s)
			}
			if rep.Series[1].Key != theirs.ID || rep.Series[1].Total.Requests != 20 {
				t.Fatalf("the admin's series = %+v", rep.Series[1])
			}

			// The last day without grouping: hours, one series with everything.
			want(t, e.admin("GET", "/api/v1/analytics/usage", nil), http.StatusOK).json(t, &rep)
			if len(rep.Series) != 1 || rep.Series[0].Key != "" || rep.Series[0].Total.Requests != 50 || rep.Resolution != "hour" ||
				rep.From.Minute() != 0 || rep.Series[0].Total.LatencyP50 < 190 || rep.Series[0].Total.LatencyP50 > 210 {
				t.Fatalf("hourly report = %+v", rep)
			}

			// A user sees only their own connections, whatever they ask.
			want(t, e.user("GET", "/api/v1/analytics/usage?group_by=user", nil), http.StatusOK).json(t, &rep)
			if len(rep.Series) != 1 || rep.Series[0].Key != e.userID || rep.Series[0].Name != "uma" || rep.Series[0].Total.Requests != 30 {
				t.Fatalf("user report = %+v", rep)
			}
			want(t, e.user("GET", "/api/v1/analytics/usage?connection_id="+theirs.ID, nil), http.StatusOK).json(t, &rep)
			if len(rep.Series) != 0 {
				t.Fatalf("a user reads another's connection: %+v", rep)
			}
			want(t, e.admin("GET", "/api/v1/analytics/usage?connection_id="+theirs.ID, nil), http.StatusOK).json(t, &rep)
			if len(rep.Series) != 1 || rep.Series[0].Total.Requests != 20 {
				t.Fatalf("filtered report = %+v", rep)
			}

			want(t, e.anon("GET", "/api/v1/analytics/usage", nil), http.StatusUnauthorized)
		})
	}
}

func TestUsageReportValidation(t *testing.T) {
	e, _, _ := newAnalyticsEnv(t, storetest.SQLite())
	now := time.Now().UTC()
	q := func(from, to time.Time) string {
		return "from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
	}
	for _, tt := range []struct {
		name, query, field string
	}{
		{"from after to", q(now, now.Add(-time.Hour)), "from"},
		{"minutes over three days", q(now.Add(-72*time.Hour), now) + "&resolution=minute", "resolution"},
		{"hours over a year", q(now.Add(-365*24*time.Hour), now) + "&resolution=hour", "resolution"},
		{"unknown grouping", "group_by=region", "group_by"},
		{"unknown resolution", "resolution=week", "resolution"},
		{"not a time", "from=yesterday", "from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := want(t, e.admin("GET", "/api/v1/analytics/usage?"+tt.query, nil), http.StatusBadRequest)
			if !r.problem(t).hasField(tt.field) {
				t.Fatalf("problem does not name %s: %s", tt.field, r.Body)
			}
		})
	}
	// A month picks days on its own.
	var rep usageReportDoc
	want(t, e.admin("GET", "/api/v1/analytics/usage?"+q(now.Add(-30*24*time.Hour), now), nil), http.StatusOK).json(t, &rep)
	if rep.Resolution != "day" || len(rep.Series) != 1 || rep.Series[0].Total.Requests != 50 {
		t.Fatalf("month report = %+v", rep)
	}
}

func TestRecommendationsRoleMatrix(t *testing.T) {
	e, _, _ := newAnalyticsEnv(t, storetest.SQLite())
	var list struct {
		Items []map[string]any `json:"items"`
	}
	want(t, e.admin("GET", "/api/v1/analytics/recommendations", nil), http.StatusOK).json(t, &list)
	if list.Items == nil {
		t.Fatal("no items array")
	}
	if r := want(t, e.user("GET", "/api/v1/analytics/recommendations", nil), http.StatusForbidden); r.problem(t).Code != "forbidden" {
		t.Fatalf("problem = %s", r.Body)
	}
	want(t, e.anon("GET", "/api/v1/analytics/recommendations", nil), http.StatusUnauthorized)
}

func TestAnalyticsUnavailableWithoutReader(t *testing.T) {
	e := newEnv(t, storetest.SQLite())
	want(t, e.admin("GET", "/api/v1/analytics/usage", nil), http.StatusServiceUnavailable)
	want(t, e.admin("GET", "/api/v1/analytics/recommendations", nil), http.StatusServiceUnavailable)
}

// TestHealthHistory: admins read the health-check rollups per provider;
// users are refused, anonymous callers too.
func TestHealthHistory(t *testing.T) {
	e := newEnvWith(t, storetest.SQLite(), func(c *control.Config) {
		st := c.Store.(interface {
			switchyard.RollupStore
			switchyard.HealthRollupStore
		})
		c.Analytics = analytics.NewReader(analytics.ReaderConfig{Store: st, Inventory: c.Store, Health: st})
	})
	p := e.newProvider("checked", true)
	now := time.Now().UTC()
	for i := range 30 {
		c := &switchyard.HealthCheck{ProviderID: p.ID, At: now.Add(-90*time.Minute + time.Duration(i)*time.Minute), OK: i%3 != 0, LatencyMS: 120}
		if err := e.db.AddHealthCheck(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	roller, err := analytics.NewRoller(analytics.RollerConfig{Store: e.db, Health: e.db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roller.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	q := "/api/v1/analytics/health?resolution=hour&provider_id=" + p.ID + "&from=" + url.QueryEscape(now.Add(-3*time.Hour).Format(time.RFC3339))
	var rep struct {
		Resolution string `json:"resolution"`
		Series     []struct {
			ProviderID string `json:"provider_id"`
			Name       string `json:"name"`
			Total      struct {
				Checks       int64   `json:"checks"`
				Availability float64 `json:"availability"`
				P95          float64 `json:"latency_p95_ms"`
			} `json:"total"`
		} `json:"series"`
	}
	want(t, e.admin("GET", q, nil), http.StatusOK).json(t, &rep)
	if rep.Resolution != "hour" || len(rep.Series) != 1 || rep.Series[0].Name != "Provider checked" || rep.Series[0].Total.Checks != 30 ||
		rep.Series[0].Total.Availability < 0.66 || rep.Series[0].Total.Availability > 0.67 || rep.Series[0].Total.P95 < 115 || rep.Series[0].Total.P95 > 125 {
		t.Fatalf("report %+v", rep)
	}
	if r := want(t, e.user("GET", q, nil), http.StatusForbidden); r.problem(t).Code != "forbidden" {
		t.Fatalf("user: %s", r.Body)
	}
	want(t, e.anon("GET", q, nil), http.StatusUnauthorized)
	want(t, e.admin("GET", "/api/v1/analytics/health?resolution=week", nil), http.StatusBadRequest)
}
