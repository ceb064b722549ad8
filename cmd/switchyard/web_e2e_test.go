//go:build linux

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/provider/fake"
)

// TestDashboardInABrowser walks the dashboard of a real switchyard serve in
// headless Chromium (web/e2e/e2e.mjs, with playwright-core): log in, create
// a provider through the setup wizard against a fake upstream (the
// connectivity test fails with a wrong key, then passes), add models, test
// the connection, break the saved key and see the test fail, restore it,
// test and benchmark a model, create a connection, export and re-import
// with the dry-run plan, take a backup, plan a LiteLLM migration, apply a
// custom template, take the fake upstream down and see the status change
// live in a second tab, create, edit (replacing its secret) and disable an
// alert channel, edit and toggle the built-in alert rule, create a custom
// one for the provider, make it watch all providers and delete it, then log in as a plain user and find no admin screen. Screenshots of the main screens go to web/test-results/screenshots.
//
// It needs the dashboard built (make build), web/node_modules (npm ci) and
// /usr/bin/chromium; without them it is skipped, except in CI, where .ci/run
// provides them and their absence is a failure.
func TestDashboardInABrowser(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	webDir, _ := filepath.Abs("../../web")
	need := map[string]string{
		chromium: "apt-get install chromium",
		filepath.Join(webDir, "dist", "index.html"):              "make build",
		filepath.Join(webDir, "node_modules", "playwright-core"): "cd web && npm ci",
	}
	for path, fix := range need {
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing (%s); .ci/run provides it", path, fix)
			}
			t.Skipf("%s is missing: %s first", path, fix)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed")
		}
		t.Skip("node is not installed")
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}

	const (
		adminToken   = "syt_dashboard-e2e-admin-token-0123456789"
		upstreamKey  = "sk-dashboard-e2e-upstream-0123456789"
		adminPass    = "dashboard admin passphrase"
		userPassword = "dashboard user passphrase"
	)
	// The walk takes the upstream down and up again through /_control/down
	// (PUT: down, DELETE: up); while down it answers every call with 503.
	var down atomic.Bool
	fakeUp := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}, Models: []string{"gpt-4o-mini", "local-llama"}})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_control/down" {
			down.Store(r.Method == http.MethodPut)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if down.Load() {
			http.Error(w, `{"error":{"message":"down for the test"}}`, http.StatusServiceUnavailable)
			return
		}
		fakeUp.ServeHTTP(w, r)
	}))
	defer up.Close()
	addr, logs, _ := startServe(t, map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir(), "SWITCHYARD_ADMIN_TOKEN": adminToken,
		"SWITCHYARD_OUTBOUND_ALLOW": "127.0.0.1/32"})
	api(t, addr, adminToken, "POST", "/users", map[string]any{"username": "grace", "role": "admin", "password": adminPass})
	api(t, addr, adminToken, "POST", "/users", map[string]any{"username": "ada", "role": "user", "password": userPassword})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e/e2e.mjs")
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(),
		"BASE_URL=http://"+addr, "UPSTREAM_URL="+up.URL, "UPSTREAM_KEY="+upstreamKey,
		"ADMIN_USER=grace", "ADMIN_PASSWORD="+adminPass, "USER_USER=ada", "USER_PASSWORD="+userPassword,
		"SCREENSHOTS="+filepath.Join(webDir, "test-results", "screenshots"), "CHROMIUM="+chromium)
	// Chromium starts helper processes: kill the whole group on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("browser walk took %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("the browser walk failed: %v (screenshot in web/test-results/screenshots/failure.png)\nserver log:\n%s", err, logs)
	}
}
