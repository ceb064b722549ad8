package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/health"
	"github.com/switchyard/switchyard/httpapi"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

type healthCheckDoc struct {
	ID        string  `json:"id"`
	OK        bool    `json:"ok"`
	LatencyMS int64   `json:"latency_ms"`
	Code      *string `json:"code"`
}

// healthEnv is an API whose control plane has a health monitor (scheduled
// checks off: the tests ask for checks) over a registry that may reach the
// fakes on loopback.
func healthEnv(t *testing.T, server func(*httpapi.Config)) (*env, *fake.OpenAI, string) {
	up := fake.NewOpenAI(fake.OpenAIConfig{})
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	e := newEnvServer(t, storetest.SQLite(), func(c *control.Config) {
		pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
		if err != nil {
			t.Fatal(err)
		}
		f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
		reg := registry.New(registry.Config{Source: c.Store.(registry.Source), NewAdapter: f.New})
		if err := reg.Reload(t.Context(), "start"); err != nil {
			t.Fatal(err)
		}
		mon := health.New(health.Config{Store: c.Store.(health.Store), Registry: reg, DisableChecks: true})
		c.Store, c.Registry, c.Health = reg.Track(c.Store), reg, mon
	}, server)
	return e, up, srv.URL + "/v1"
}

func TestHealthAPI(t *testing.T) {
	e, up, base := healthEnv(t, nil)
	body := newProviderBody("watched")
	body["base_url"] = base
	var p providerDoc
	want(t, e.admin("POST", "/api/v1/providers", body), http.StatusCreated).json(t, &p)
	off := e.newProvider("switched-off", false)

	// Only admins run checks; users are told so for a provider they can
	// see, and get 404 for one they cannot.
	var hc healthCheckDoc
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/health/check", nil), http.StatusOK).json(t, &hc)
	if !hc.OK || hc.Code != nil || hc.ID == "" {
		t.Fatalf("check = %+v", hc)
	}
	want(t, e.user("POST", "/api/v1/providers/"+p.ID+"/health/check", nil), http.StatusForbidden)
	want(t, e.user("POST", "/api/v1/providers/"+off.ID+"/health/check", nil), http.StatusNotFound)
	want(t, e.anon("POST", "/api/v1/providers/"+p.ID+"/health/check", nil), http.StatusUnauthorized)
	if pr := want(t, e.admin("POST", "/api/v1/providers/"+off.ID+"/health/check", nil), http.StatusConflict).problem(t); !strings.Contains(pr.Detail, "disabled") {
		t.Fatalf("checking a disabled provider: %+v", pr)
	}
	want(t, e.admin("POST", "/api/v1/providers/00000000-0000-0000-0000-000000000000/health/check", nil), http.StatusNotFound)

	up.SetFault(fake.Status(http.StatusUnauthorized))
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/health/check", nil), http.StatusOK).json(t, &hc)
	if hc.OK || hc.Code == nil || *hc.Code != "auth_failed" {
		t.Fatalf("failing check = %+v", hc)
	}
	if err := e.db.ChangeProviderStatus(t.Context(), &switchyard.StatusChange{ProviderID: p.ID, To: switchyard.StatusDown,
		Reason: "3 health checks in a row failed (last: auth_failed)"}); err != nil {
		t.Fatal(err)
	}

	type overview struct {
		ChecksEnabled bool `json:"checks_enabled"`
		Providers     []struct {
			ProviderID string          `json:"provider_id"`
			Status     string          `json:"status"`
			Reason     *string         `json:"reason"`
			LastCheck  *healthCheckDoc `json:"last_check"`
		} `json:"providers"`
	}
	var ov overview
	want(t, e.admin("GET", "/api/v1/health", nil), http.StatusOK).json(t, &ov)
	statuses := map[string]string{}
	for _, x := range ov.Providers {
		statuses[x.ProviderID] = x.Status
		if x.ProviderID == p.ID && (x.Reason == nil || *x.Reason != "3 health checks in a row failed (last: auth_failed)" ||
			x.LastCheck == nil || x.LastCheck.OK) {
			t.Fatalf("overview of the watched provider: %+v", x)
		}
	}
	if statuses[p.ID] != "down" || statuses[off.ID] != "disabled" || ov.ChecksEnabled {
		t.Fatalf("overview = %+v", ov)
	}
	// Users see the enabled providers only.
	want(t, e.user("GET", "/api/v1/health", nil), http.StatusOK).json(t, &ov)
	for _, x := range ov.Providers {
		if x.ProviderID == off.ID {
			t.Fatal("a user sees a disabled provider's health")
		}
	}
	want(t, e.anon("GET", "/api/v1/health", nil), http.StatusUnauthorized)

	// The history, each list paginated on its own.
	type detail struct {
		Status  string `json:"status"`
		Changes struct {
			Items []struct {
				From, To, Reason string
			} `json:"items"`
		} `json:"changes"`
		Checks struct {
			Items      []healthCheckDoc `json:"items"`
			NextCursor *string          `json:"next_cursor"`
		} `json:"checks"`
	}
	var d detail
	want(t, e.admin("GET", "/api/v1/providers/"+p.ID+"/health?limit=1", nil), http.StatusOK).json(t, &d)
	if d.Status != "down" || len(d.Changes.Items) != 1 || d.Changes.Items[0].To != "down" || len(d.Checks.Items) != 1 ||
		d.Checks.Items[0].OK || d.Checks.NextCursor == nil {
		t.Fatalf("detail = %+v", d)
	}
	want(t, e.admin("GET", "/api/v1/providers/"+p.ID+"/health?limit=1&checks_cursor="+*d.Checks.NextCursor, nil), http.StatusOK).json(t, &d)
	if len(d.Checks.Items) != 1 || !d.Checks.Items[0].OK || d.Checks.NextCursor != nil {
		t.Fatalf("second page = %+v", d.Checks)
	}
	if pr := want(t, e.admin("GET", "/api/v1/providers/"+p.ID+"/health?changes_cursor=bogus", nil), http.StatusBadRequest).problem(t); !pr.hasField("changes_cursor") {
		t.Fatalf("bad cursor problem = %+v", pr)
	}
	want(t, e.user("GET", "/api/v1/providers/"+p.ID+"/health", nil), http.StatusOK)
	want(t, e.user("GET", "/api/v1/providers/"+off.ID+"/health", nil), http.StatusNotFound)
	want(t, e.admin("GET", "/api/v1/providers/"+off.ID+"/health", nil), http.StatusOK)
	want(t, e.anon("GET", "/api/v1/providers/"+p.ID+"/health", nil), http.StatusUnauthorized)
}

func TestStatusThresholdsAreValidated(t *testing.T) {
	e := newEnv(t, storetest.SQLite())
	p := e.newProvider("thresholds", true)
	pr := want(t, e.admin("PATCH", "/api/v1/providers/"+p.ID, map[string]any{"settings": map[string]any{
		"health_degraded_error_rate": 50, "health_down_error_rate": 40}}), http.StatusBadRequest).problem(t)
	if !pr.hasField("settings.health_down_error_rate") {
		t.Fatalf("problem = %+v", pr)
	}
	var got providerDoc
	want(t, e.admin("PATCH", "/api/v1/providers/"+p.ID, map[string]any{"settings": map[string]any{
		"health_failures_to_down": 5, "health_window_s": 120, "health_degraded_latency_ms": 8000}}), http.StatusOK).json(t, &got)
	if got.Settings["health_failures_to_down"] != 5 || got.Settings["health_degraded_latency_ms"] != 8000 {
		t.Fatalf("settings = %v", got.Settings)
	}
}

// sseEvent is one event as read off the wire.
type sseEvent struct {
	id, event, data string
	comment         bool
}

// readEvents reads the stream's events (and comments) into a channel.
func readEvents(t *testing.T, res *http.Response) <-chan sseEvent {
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{comment: true, data: line}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out
}

func openStream(t *testing.T, e *env, token, lastID string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	return openStreamAs(t, e, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }, lastID)
}

func openStreamAs(t *testing.T, e *env, authenticate func(*http.Request), lastID string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/events", nil)
	authenticate(req)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream answered %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return res, readEvents(t, res)
}

// next returns the next event that is not a comment.
func next(t *testing.T, c <-chan sseEvent) sseEvent {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case ev, ok := <-c:
			if !ok {
				t.Fatal("the stream ended")
			}
			if !ev.comment {
				return ev
			}
		case <-timeout:
			t.Fatal("no event within 3 s")
		}
	}
}

func TestEventStream(t *testing.T) {
	broker := events.New(events.Config{})
	e, _, _ := healthEnv(t, func(c *httpapi.Config) { c.Events, c.Heartbeat = broker, 50*time.Millisecond })
	_, admin := openStream(t, e, adminToken, "")
	_, user := openStream(t, e, e.userToken, "")
	for broker.Subscribers() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	broker.Publish(events.TypeRegistry, true, map[string]any{"version": 3, "reason": "provider updated"})
	broker.Publish(events.TypeProviderStatus, false, health.StatusEvent{ProviderID: "p1", Slug: "openai-prod",
		From: switchyard.StatusHealthy, To: switchyard.StatusDegraded, Reason: "2 health checks in a row failed (last: timeout)"})

	reg := next(t, admin)
	if reg.event != events.TypeRegistry || reg.id != "1" || !strings.Contains(reg.data, `"reason":"provider updated"`) {
		t.Fatalf("admin's first event = %+v", reg)
	}
	st := next(t, admin)
	var data health.StatusEvent
	if err := json.Unmarshal([]byte(st.data), &data); err != nil || st.event != events.TypeProviderStatus || st.id != "2" ||
		data.To != switchyard.StatusDegraded || data.Slug != "openai-prod" {
		t.Fatalf("admin's second event = %+v (%v)", st, err)
	}
	// Users get status changes, not the registry's.
	if ev := next(t, user); ev.event != events.TypeProviderStatus || ev.id != "2" {
		t.Fatalf("user's first event = %+v", ev)
	}
	// Heartbeats keep an idle stream open.
	deadline := time.After(2 * time.Second)
	for beat := false; !beat; {
		select {
		case ev := <-admin:
			beat = ev.comment && ev.data == ": heartbeat"
		case <-deadline:
			t.Fatal("no heartbeat")
		}
	}
	// A client coming back with Last-Event-ID gets what it missed.
	_, back := openStream(t, e, adminToken, "1")
	if ev := next(t, back); ev.id != "2" {
		t.Fatalf("resumed at %+v, want event 2", ev)
	}

	// The dashboard's session cookie works too (no CSRF token: a GET).
	e.newUser("dash", "user")
	cookie, _ := e.login("dash", canaries[4])
	_, dash := openStreamAs(t, e, func(r *http.Request) { r.AddCookie(cookie) }, "")
	for broker.Subscribers() < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	broker.Publish(events.TypeProviderStatus, false, health.StatusEvent{ProviderID: "p1", To: switchyard.StatusHealthy})
	if ev := next(t, dash); ev.event != events.TypeProviderStatus || ev.id != "3" {
		t.Fatalf("cookie session's first event = %+v", ev)
	}

	want(t, e.anon("GET", "/api/v1/events", nil), http.StatusUnauthorized)
	e.validating = false
	want(t, e.send(request{method: "GET", path: "/api/v1/events", token: adminToken, header: map[string]string{"Last-Event-ID": "x"}}), http.StatusBadRequest)
}

func TestEventStreamEndsAtShutdown(t *testing.T) {
	stop, cancel := context.WithCancel(context.Background())
	e, _, _ := healthEnv(t, func(c *httpapi.Config) { c.Events, c.Streams = events.New(events.Config{}), stop })
	_, evs := openStream(t, e, adminToken, "")
	cancel()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-evs:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream outlived the shutdown")
		}
	}
}
