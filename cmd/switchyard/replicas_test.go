package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/secret"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// TestTwoReplicasOnPostgreSQL runs two switchyard serve processes on one
// PostgreSQL database: a provider created through the first serves through
// the second within a second, and disabling it stops it on both within a
// second.
func TestTwoReplicasOnPostgreSQL(t *testing.T) {
	dbURL := storetest.PostgresURL(t)
	masterKey, err := secret.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	const adminToken = "syt_replica-test-admin-token-0123456789"
	const upstreamKey = "sk-replica-upstream-0123456789abcdef"
	up := httptest.NewServer(fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}}))
	defer up.Close()
	env := func() map[string]string {
		return map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_DATABASE_URL": dbURL, "SWITCHYARD_MASTER_KEY": masterKey,
			"SWITCHYARD_ADMIN_TOKEN": adminToken, "SWITCHYARD_OUTBOUND_ALLOW": "127.0.0.1/32"}
	}
	a, _, _ := startServe(t, env())
	b, _, _ := startServe(t, env())

	p := api(t, a, adminToken, "POST", "/providers", map[string]any{"name": "Shared", "slug": "shared", "protocol": "openai_compatible",
		"base_url": up.URL + "/v1", "credentials": []map[string]any{{"name": "k", "method": "api_key", "secrets": map[string]any{"api_key": upstreamKey}}}})
	pid := p["id"].(string)
	api(t, a, adminToken, "POST", "/providers/"+pid+"/models", map[string]any{"upstream_id": "gpt-4o-mini"})
	key := api(t, a, adminToken, "POST", "/connections", map[string]any{"name": "replicas", "models": []string{"gpt-4o-mini"}})["key"].(string)
	created := time.Now()

	status := func(addr string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	within := func(what string, since time.Time, ok func() bool) {
		t.Helper()
		for !ok() {
			if time.Since(since) > time.Second {
				t.Fatalf("%s: not within a second", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s after %v", what, time.Since(since).Round(time.Millisecond))
	}
	within("the second replica serves the new provider", created, func() bool { return status(b) == 200 })
	if status(a) != 200 {
		t.Fatal("the first replica does not serve it")
	}
	// Exactly one replica runs the health checks.
	leaders := 0
	for _, addr := range []string{a, b} {
		if api(t, addr, adminToken, "GET", "/health", nil)["leader"] == true {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d replicas run the health checks, want 1", leaders)
	}
	api(t, a, adminToken, "POST", "/providers/"+pid+"/disable", nil)
	disabled := time.Now()
	within("the second replica stops serving the disabled provider", disabled, func() bool { return status(b) == 404 })
	if status(a) != 404 {
		t.Fatal("the first replica still serves it")
	}
}
