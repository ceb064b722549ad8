package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAPIWalkThrough runs every shell block of docs/api.md, in order, in one
// shell, against a real server started in an empty directory.
func TestAPIWalkThrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; .ci/run installs it", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 8 {
		t.Fatalf("docs/api.md has %d shell blocks; the walk-through has more", len(blocks))
	}
	var stdout, stderr syncBuffer
	addr, _ := startServeTo(t, map[string]string{"SWITCHYARD_DATA_DIR": t.TempDir()}, &stdout, &stderr)
	m := regexp.MustCompile(`one-time password \(it is not shown again\): (\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", stdout.String())
	}
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, b := range blocks {
		script.WriteString(b[1])
	}
	s := script.String()
	s = strings.Replace(s, "SY=http://127.0.0.1:8080/api/v1", "SY=http://"+addr+"/api/v1", 1)
	s = strings.Replace(s, "PASSWORD='paste the one-time password here'", "PASSWORD='"+m[1]+"'", 1)
	cmd := exec.Command("bash", "-c", s)
	cmd.Dir = t.TempDir()
	done := make(chan struct{})
	var out []byte
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the walk-through did not finish in 60 s")
	}
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s\nserver log:\n%s", err, out, stderr.String())
	}
	for _, want := range []string{`"base_url": "https://contoso-eu.openai.azure.com`, `"set": true`, `"context_window": "override"`,
		`"name": "Azure EU (production)"`, `"key": "sk-sy-`, "admin create provider"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walk-through's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "replace-with-your-azure-key") {
		t.Error("an answer echoed the provider's key")
	}
}
