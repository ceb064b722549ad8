package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestAlertsThroughTheRealProgram: serve has the built-in rule, checks a
// channel's URL against SWITCHYARD_OUTBOUND_ALLOW and test-sends through
// the alert engine; the health history answers.
func TestAlertsThroughTheRealProgram(t *testing.T) {
	const adminToken = "syt_alerts-e2e-admin-token-0123456789"
	var got atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("X-Switchyard-Event") == "test" && r.Header.Get("X-Switchyard-Signature") != "" {
			got.Add(1)
		}
	}))
	defer rcv.Close()
	addr, logs, _ := startServe(t, map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADMIN_TOKEN": adminToken,
		"SWITCHYARD_OUTBOUND_ALLOW": "127.0.0.1/32"})

	rules := api(t, addr, adminToken, "GET", "/alerts/rules", nil)
	items, _ := rules["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["builtin"] != true {
		t.Fatalf("rules = %v", rules)
	}
	ch := api(t, addr, adminToken, "POST", "/alerts/channels", map[string]any{"name": "hook", "kind": "webhook", "url": rcv.URL + "/in",
		"secrets": map[string]any{"hmac_secret": "e2e-hmac-secret-0123456789"}})
	d := api(t, addr, adminToken, "POST", "/alerts/channels/"+ch["id"].(string)+"/test", nil)
	if d["ok"] != true || got.Load() != 1 {
		t.Fatalf("test-send = %v (%d signed test requests)\n%s", d, got.Load(), logs)
	}
	if h := api(t, addr, adminToken, "GET", "/analytics/health", nil); h["series"] == nil {
		t.Fatalf("health history = %v", h)
	}
}
