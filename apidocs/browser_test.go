//go:build linux

package apidocs

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const chromium = "/usr/bin/chromium"

// tinySpec is the OpenAPI document the browser test renders.
const tinySpec = `{
  "openapi": "3.0.3",
  "info": {"title": "Tiny yard", "version": "1.0.0"},
  "paths": {
    "/widgets": {
      "get": {
        "operationId": "listWidgets",
        "summary": "List every widget in the yard",
        "responses": {"200": {"description": "The widgets"}}
      }
    }
  }
}`

// TestBrowserRendersOffline loads /docs in headless Chromium, with the
// page's real headers (so its Content-Security-Policy applies) and with every
// host name but 127.0.0.1 made unresolvable, and checks that Redoc rendered
// the operation of a small OpenAPI document. It is skipped where Chromium is
// not installed (apt-get install chromium), except in CI, where .ci/run
// installs it and its absence is a failure.
func TestBrowserRendersOffline(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed; .ci/run installs it: %v", chromium, err)
		}
		t.Skipf("%s not installed: %v", chromium, err)
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}

	mux := http.NewServeMux()
	docs := Handler(specURL)
	mux.Handle("/docs", docs)
	mux.Handle("/docs/", docs)
	mux.HandleFunc("GET "+specURL, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(tinySpec))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-default-apps",
		"--user-data-dir="+t.TempDir(),
		// Nothing but this machine can be reached: the page must render
		// from what the binary serves.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--enable-logging=stderr", "--v=0",
		// Let the page fetch the document and render before the DOM is
		// dumped; virtual time does not run while requests are pending.
		"--virtual-time-budget=10000",
		"--dump-dom", srv.URL+"/docs",
	)
	// Chromium starts helper processes: run it in its own process group and
	// kill the whole group on timeout, and stop waiting for its pipes soon after.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	dom := stdout.String()
	t.Logf("chromium took %s, dumped %d bytes of DOM", time.Since(start).Round(time.Millisecond), len(dom))
	if err != nil {
		t.Fatalf("chromium: %v (context: %v)\nstderr:\n%s", err, ctx.Err(), stderr.String())
	}
	for _, want := range []string{"List every widget in the yard", "Tiny yard", "The widgets"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q\nDOM:\n%.3000s\nstderr:\n%s", want, dom, stderr.String())
		}
	}
	if strings.Contains(dom, "Something went wrong") {
		t.Errorf("Redoc reported an error:\n%.3000s", dom)
	}
	// Chromium logs each Content-Security-Policy violation as a console
	// message. The one expected is the Redocly logo in the side menu (see
	// assets/README.md); any other means the policy broke something.
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "Content Security Policy") && !strings.Contains(line, "'"+redoclyLogo+"'") {
			t.Errorf("unexpected CSP violation: %s", line)
		}
	}
}

// redoclyLogo is the one outside address the bundle loads; the page's
// Content-Security-Policy refuses it.
const redoclyLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
