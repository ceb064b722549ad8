package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/alert"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

const (
	hmacCanary  = "wh-Hq5Zx9Vm2Kr7Pn3Lt8Yc4Bd1Gf6Fs0W"
	slackCanary = "sl-Jt3Wq8Zx5Vk2Mp7Rl4Yc9Bh1Gd6Fs0X"
)

// alertEnv is an API whose control plane has an alert engine with the
// given outbound allowlist.
func alertEnv(t *testing.T, b storetest.Backend, allow ...string) *env {
	t.Helper()
	pol, err := netguard.NewPolicy(allow)
	if err != nil {
		t.Fatal(err)
	}
	return newEnvWith(t, b, func(c *control.Config) {
		c.Alerter = alert.New(alert.Config{Store: c.Store, Policy: pol, Logger: c.Logger, Attempts: 1})
	})
}

func TestAlertsRoleMatrix(t *testing.T) {
	e := alertEnv(t, storetest.SQLite())
	id := "0193a1b2-0000-7000-8000-0000000000c1"
	calls := []struct {
		method, path string
		body         any
		admin        int
	}{
		{"GET", "/api/v1/alerts/channels", nil, 200},
		{"POST", "/api/v1/alerts/channels", map[string]any{"name": "x", "kind": "webhook", "url": "https://hooks.example.com/x"}, 201},
		{"GET", "/api/v1/alerts/channels/" + id, nil, 404},
		{"PATCH", "/api/v1/alerts/channels/" + id, map[string]any{"enabled": false}, 404},
		{"DELETE", "/api/v1/alerts/channels/" + id, nil, 404},
		{"POST", "/api/v1/alerts/channels/" + id + "/test", nil, 404},
		{"GET", "/api/v1/alerts/rules", nil, 200},
		{"POST", "/api/v1/alerts/rules", map[string]any{"name": "r", "kind": "provider_down"}, 201},
		{"GET", "/api/v1/alerts/rules/" + switchyard.BuiltinAlertRuleID, nil, 200},
		{"PATCH", "/api/v1/alerts/rules/" + switchyard.BuiltinAlertRuleID, map[string]any{"cooldown_minutes": 7}, 200},
		{"DELETE", "/api/v1/alerts/rules/" + switchyard.BuiltinAlertRuleID, nil, 409},
		{"GET", "/api/v1/alerts", nil, 200},
		{"GET", "/api/v1/alerts?state=open", nil, 200},
	}
	for _, c := range calls {
		if r := e.anon(c.method, c.path, c.body); r.Status != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s: %d, want 401", c.method, c.path, r.Status)
		}
		r := e.user(c.method, c.path, c.body)
		if r.Status != http.StatusForbidden || r.problem(t).Code != "forbidden" {
			t.Errorf("user %s %s: %d %s, want 403", c.method, c.path, r.Status, r.Body)
		}
		if r := e.admin(c.method, c.path, c.body); r.Status != c.admin {
			t.Errorf("admin %s %s: %d, want %d; %s", c.method, c.path, r.Status, c.admin, r.Body)
		}
	}
}

func TestAlertChannelsAndRules(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			e := alertEnv(t, b, "127.0.0.1/32")
			var mu sync.Mutex
			var got []http.Header
			var bodies [][]byte
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				got, bodies = append(got, r.Header.Clone()), append(bodies, body)
			}))
			defer rcv.Close()

			// A signed webhook: the secret is never shown.
			r := want(t, e.admin("POST", "/api/v1/alerts/channels", map[string]any{"name": "ops", "kind": "webhook",
				"url": rcv.URL + "/hook", "secrets": map[string]any{"hmac_secret": hmacCanary}}), http.StatusCreated)
			var ch struct {
				ID      string `json:"id"`
				Secrets map[string]struct {
					Set  bool   `json:"set"`
					Hint string `json:"hint"`
				} `json:"secrets"`
			}
			r.json(t, &ch)
			if !ch.Secrets["hmac_secret"].Set || r.Header.Get("ETag") != `"1"` {
				t.Fatalf("created %s", r.Body)
			}
			// Test-send: the receiver can verify the signature.
			r = want(t, e.admin("POST", "/api/v1/alerts/channels/"+ch.ID+"/test", nil), http.StatusOK)
			var d struct {
				OK     bool   `json:"ok"`
				Event  string `json:"event"`
				Status int    `json:"status"`
			}
			r.json(t, &d)
			if !d.OK || d.Event != "test" || d.Status != 200 {
				t.Fatalf("test-send %s", r.Body)
			}
			mu.Lock()
			if len(got) != 1 || alert.Verify(hmacCanary, got[0], bodies[0], time.Now(), time.Minute) != nil {
				t.Fatalf("the receiver got %d requests, signature check: %v", len(got), alert.Verify(hmacCanary, got[0], bodies[0], time.Now(), time.Minute))
			}
			mu.Unlock()

			// A Slack channel: its URL is a secret.
			r = want(t, e.admin("POST", "/api/v1/alerts/channels", map[string]any{"name": "slack", "kind": "slack",
				"secrets": map[string]any{"url": rcv.URL + "/services/" + slackCanary}}), http.StatusCreated)
			if strings.Contains(string(r.Body), "/services/") {
				t.Fatalf("the Slack URL shows: %s", r.Body)
			}
			r = want(t, e.admin("POST", "/api/v1/alerts/channels", map[string]any{"name": "bad", "kind": "slack",
				"url": "https://hooks.slack.com/services/x"}), http.StatusBadRequest)
			if p := r.problem(t); !p.hasField("url") || !p.hasField("secrets.url") {
				t.Fatalf("problem %s", r.Body)
			}

			// PATCH: an absent secret is kept, null clears it.
			want(t, e.send(request{method: "PATCH", path: "/api/v1/alerts/channels/" + ch.ID, token: adminToken,
				header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"name": "ops2"}}), http.StatusOK)
			want(t, e.send(request{method: "PATCH", path: "/api/v1/alerts/channels/" + ch.ID, token: adminToken,
				header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"name": "lost"}}), http.StatusPreconditionFailed)
			stored, err := e.db.GetAlertChannel(t.Context(), ch.ID)
			if err != nil || stored.Name != "ops2" || stored.Secrets["hmac_secret"].Reveal() != hmacCanary {
				t.Fatalf("stored %+v, %v", stored, err)
			}
			r = want(t, e.admin("PATCH", "/api/v1/alerts/channels/"+ch.ID, map[string]any{"secrets": map[string]any{"hmac_secret": nil}}), http.StatusOK)
			if strings.Contains(string(r.Body), "hmac_secret") {
				t.Fatalf("the cleared secret shows: %s", r.Body)
			}

			// Rules: the built-in one is there and cannot go; references are checked.
			r = want(t, e.admin("GET", "/api/v1/alerts/rules", nil), http.StatusOK)
			var rules struct {
				Items []struct {
					ID      string `json:"id"`
					Builtin bool   `json:"builtin"`
				} `json:"items"`
			}
			r.json(t, &rules)
			if len(rules.Items) != 1 || !rules.Items[0].Builtin {
				t.Fatalf("rules %s", r.Body)
			}
			r = want(t, e.admin("DELETE", "/api/v1/alerts/rules/"+switchyard.BuiltinAlertRuleID, nil), http.StatusConflict)
			r = want(t, e.admin("POST", "/api/v1/alerts/rules", map[string]any{"name": "slow", "kind": "provider_degraded",
				"for_minutes": 10, "channel_ids": []string{"nope"}}), http.StatusBadRequest)
			if !r.problem(t).hasField("channel_ids[0]") {
				t.Fatalf("problem %s", r.Body)
			}
			r = want(t, e.admin("POST", "/api/v1/alerts/rules", map[string]any{"name": "slow", "kind": "provider_degraded",
				"for_minutes": 10, "channel_ids": []string{ch.ID}}), http.StatusCreated)
			var rule struct {
				ID string `json:"id"`
			}
			r.json(t, &rule)
			want(t, e.admin("DELETE", "/api/v1/alerts/rules/"+rule.ID, nil), http.StatusNoContent)

			// Alerts, with their deliveries, filtered by state.
			p := storetestProvider(t, e)
			if err := e.db.OpenAlert(t.Context(), &switchyard.Alert{RuleID: switchyard.BuiltinAlertRuleID, Subject: p, Summary: "down"}); err != nil {
				t.Fatal(err)
			}
			r = want(t, e.admin("GET", "/api/v1/alerts?state=open", nil), http.StatusOK)
			var alerts struct {
				Items []json.RawMessage `json:"items"`
			}
			r.json(t, &alerts)
			if len(alerts.Items) != 1 {
				t.Fatalf("alerts %s", r.Body)
			}
			r = want(t, e.admin("GET", "/api/v1/alerts?state=resolved", nil), http.StatusOK)
			r.json(t, &alerts)
			if len(alerts.Items) != 0 {
				t.Fatalf("resolved alerts %s", r.Body)
			}
			want(t, e.admin("GET", "/api/v1/alerts?state=closed", nil), http.StatusBadRequest)

			// A rule scoped to one provider: an unknown one is refused naming
			// provider_id; an empty provider_id unscopes it, null is refused,
			// and a PATCH without it keeps the scope (the dashboard relies on all three).
			r = want(t, e.admin("POST", "/api/v1/alerts/rules", map[string]any{"name": "scoped", "kind": "error_rate", "threshold": 0.2,
				"provider_id": "no-such-provider"}), http.StatusBadRequest)
			if !r.problem(t).hasField("provider_id") {
				t.Fatalf("problem %s", r.Body)
			}
			r = want(t, e.admin("POST", "/api/v1/alerts/rules", map[string]any{"name": "scoped", "kind": "error_rate", "threshold": 0.2,
				"provider_id": p}), http.StatusCreated)
			var scoped struct {
				ID         string  `json:"id"`
				ProviderID *string `json:"provider_id"`
			}
			r.json(t, &scoped)
			if scoped.ProviderID == nil || *scoped.ProviderID != p {
				t.Fatalf("created %s", r.Body)
			}
			r = want(t, e.admin("PATCH", "/api/v1/alerts/rules/"+scoped.ID, map[string]any{"cooldown_minutes": 3}), http.StatusOK)
			if r.json(t, &scoped); scoped.ProviderID == nil || *scoped.ProviderID != p {
				t.Fatalf("a PATCH without provider_id changed it: %s", r.Body)
			}
			r = want(t, e.admin("PATCH", "/api/v1/alerts/rules/"+scoped.ID, map[string]any{"provider_id": nil}), http.StatusBadRequest)
			if !r.problem(t).hasField("provider_id") {
				t.Fatalf("problem %s", r.Body)
			}
			r = want(t, e.admin("PATCH", "/api/v1/alerts/rules/"+scoped.ID, map[string]any{"provider_id": ""}), http.StatusOK)
			scoped.ProviderID = nil
			if r.json(t, &scoped); scoped.ProviderID != nil {
				t.Fatalf("still scoped: %s", r.Body)
			}
			if stored, err := e.db.GetAlertRule(t.Context(), scoped.ID); err != nil || stored.ProviderID != "" {
				t.Fatalf("stored %+v, %v", stored, err)
			}

			// A rule whose provider is deleted afterwards can still be
			// switched off and edited; pointing it at another unknown
			// provider is still refused.
			gone := &switchyard.Provider{Name: "Gone", Slug: "gone-alerts", Protocol: switchyard.ProtocolOpenAI, BaseURL: "https://api.example.com/v1", Enabled: true}
			if err := e.db.CreateProvider(t.Context(), gone); err != nil {
				t.Fatal(err)
			}
			r = want(t, e.admin("PATCH", "/api/v1/alerts/rules/"+scoped.ID, map[string]any{"provider_id": gone.ID}), http.StatusOK)
			if err := e.db.DeleteProvider(t.Context(), gone.ID, gone.Version); err != nil {
				t.Fatal(err)
			}
			r = want(t, e.admin("PATCH", "/api/v1/alerts/rules/"+scoped.ID, map[string]any{"enabled": false, "name": "scoped, provider gone"}), http.StatusOK)
			if stored, err := e.db.GetAlertRule(t.Context(), scoped.ID); err != nil || stored.Enabled || stored.ProviderID != gone.ID {
				t.Fatalf("after switching off the rule of a deleted provider: %+v, %v", stored, err)
			}
			r = want(t, e.admin("PATCH", "/api/v1/alerts/rules/"+scoped.ID, map[string]any{"provider_id": "another-unknown"}), http.StatusBadRequest)
			if !r.problem(t).hasField("provider_id") {
				t.Fatalf("problem %s", r.Body)
			}
		})
	}
}

func storetestProvider(t *testing.T, e *env) string {
	t.Helper()
	p := &switchyard.Provider{Name: "P", Slug: "p-alerts", Protocol: switchyard.ProtocolOpenAI, BaseURL: "https://api.example.com/v1", Enabled: true}
	if err := e.db.CreateProvider(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// TestAlertChannelPrivateURLRefused: without an allowlist entry, a webhook
// on a private address is refused at save, naming the field and the
// setting that would allow it.
func TestAlertChannelPrivateURLRefused(t *testing.T) {
	e := alertEnv(t, storetest.SQLite())
	r := want(t, e.admin("POST", "/api/v1/alerts/channels", map[string]any{"name": "internal", "kind": "webhook",
		"url": "http://127.0.0.1:9/hook"}), http.StatusBadRequest)
	p := r.problem(t)
	if !p.hasField("url") || !strings.Contains(string(r.Body), "SWITCHYARD_OUTBOUND_ALLOW") {
		t.Fatalf("problem %s", r.Body)
	}
	r = want(t, e.admin("POST", "/api/v1/alerts/channels", map[string]any{"name": "meta", "kind": "slack",
		"secrets": map[string]any{"url": "http://169.254.169.254/" + slackCanary}}), http.StatusBadRequest)
	if !r.problem(t).hasField("secrets.url") {
		t.Fatalf("problem %s", r.Body)
	}
}
