package main

// The pages test: every shell command of README.md and docs/tutorials/*.md is
// run, so that the pages cannot drift from the program.
//
// Conventions in the Markdown (one page is one run, in a fresh directory):
//
//   - A fenced block opened with ```sh is run. The page's sh blocks are joined
//     in order into one bash script (set -euo pipefail), so a variable set in
//     one block is there in the next.
//   - A block opened with ```sh server starts Switchyard (it holds the command
//     that does). It runs in the background, its output going to server.log;
//     the script waits for GET /readyz before it goes on, and stops the
//     server (SIGTERM) when the page ends or the next ```sh server block
//     starts (a restart).
//   - A block opened with ```yaml NAME (a file name) is written to NAME in the
//     page's directory before anything runs, so the page can show a file that
//     its commands then use.
//   - Every other block (```text, ```json, ```console, …) is not run.
//
// What the test changes, so that the pages can show real addresses:
//
//   - switchyard on the PATH is this test binary (TestMain runs the program
//     when SWITCHYARD_DOCS_TEST_MAIN is set), and "make run", which builds
//     and then runs "switchyard serve", is replaced by "switchyard serve":
//     make test has built it already.
//   - 127.0.0.1:8080 is replaced by a free address, and the server is given
//     SWITCHYARD_ADDR with it.
//   - The fakes standing in for public endpoints listen on loopback, which
//     the SSRF guard refuses: SWITCHYARD_OUTBOUND_ALLOW is exported with
//     their two addresses (the OpenAI and Bedrock fakes; not the vLLM one,
//     which its tutorial allows itself).
//   - https://api.openai.com/v1 is replaced by an OpenAI fake (provider/fake)
//     accepting only the key the pages use, vllm.internal:8000 by an
//     OpenAI-compatible stand-in for vLLM (no key, models under /v1), and
//     https://bedrock-runtime.eu-central-1.amazonaws.com by a Bedrock fake
//     that checks the SigV4 signature with the pages' access key and region.
//   - The line PASSWORD='paste the one-time password here' is replaced by one
//     reading the password the server printed to server.log.
//
// Each page's output must also contain what the page says it shows (want
// below), so that a command that succeeds but does something else fails too.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/provider/fake"
)

// TestMain lets the pages test run this binary as the switchyard command.
func TestMain(m *testing.M) {
	if os.Getenv("SWITCHYARD_DOCS_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "switchyard:", err)
			os.Exit(exitCode(err))
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The secrets the pages use, which the fakes accept.
const (
	docsOpenAIKey    = "sk-paste-your-openai-key-here"
	docsAWSKeyID     = "AKIAIOSFODNN7EXAMPLE"
	docsAWSSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docsBedrockRegio = "eu-central-1"
	// docsSlackPath is the secret part of the Slack webhook URL the pages use.
	docsSlackPath = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
)

// docsPage is a page split into the script to run and the files to write.
type docsPage struct {
	script string
	files  map[string]string
}

var fenceRE = regexp.MustCompile("(?ms)^```([^\n]*)\n(.*?)^```")

// parseDocsPage reads the blocks of a page by the conventions above.
func parseDocsPage(doc string, addr string) docsPage {
	p := docsPage{files: map[string]string{}}
	var s strings.Builder
	for _, m := range fenceRE.FindAllStringSubmatch(doc, -1) {
		info, body := strings.Fields(m[1]), m[2]
		if len(info) == 0 {
			continue
		}
		switch {
		case info[0] == "sh" && len(info) == 1:
			s.WriteString(body)
		case info[0] == "sh" && info[1] == "server":
			body = strings.ReplaceAll(body, "make run", "switchyard serve")
			s.WriteString("if [ -n \"${SERVER_PID:-}\" ]; then kill \"$SERVER_PID\"; wait \"$SERVER_PID\" || true; fi\n")
			fmt.Fprintf(&s, "( %s ) >> server.log 2>&1 &\nSERVER_PID=$!\n", strings.TrimSpace(body))
			fmt.Fprintf(&s, "for i in $(seq 300); do curl -sf -o /dev/null http://%s/readyz && break; sleep 0.1; done\n", addr)
			fmt.Fprintf(&s, "curl -sf -o /dev/null http://%s/readyz || { echo 'the server did not start:'; cat server.log; exit 1; }\n", addr)
		case info[0] == "yaml" && len(info) == 2:
			p.files[info[1]] = body
		}
	}
	p.script = s.String()
	return p
}

func TestDocsPages(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; .ci/run installs it", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shims := t.TempDir()
	shim := "#!/bin/sh\nSWITCHYARD_DOCS_TEST_MAIN=1 exec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shims, "switchyard"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}

	openai := httptest.NewServer(fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{docsOpenAIKey}}))
	defer openai.Close()
	// vLLM started without --api-key takes every request, with or without a
	// key, where the OpenAI fake (like OpenAI) wants one: the stand-in
	// supplies it.
	vllmFake := fake.NewOpenAI(fake.OpenAIConfig{Models: []string{"Qwen/Qwen2.5-7B-Instruct"}, OwnedBy: "vllm"})
	vllm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer vllm-without-api-key")
		vllmFake.ServeHTTP(w, r)
	}))
	defer vllm.Close()
	bedrock := httptest.NewServer(fake.NewBedrock(fake.BedrockConfig{AccessKeys: map[string]string{docsAWSKeyID: docsAWSSecret}, Region: docsBedrockRegio}))
	defer bedrock.Close()
	// Slack's incoming webhook: it takes JSON with a text at the page's
	// webhook path, and counts what it got.
	var slackPosts atomic.Int32
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Text string `json:"text"`
		}
		if r.Method != http.MethodPost || r.URL.Path != docsSlackPath || json.NewDecoder(r.Body).Decode(&body) != nil || body.Text == "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		slackPosts.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	defer slack.Close()

	pages := []struct {
		path string
		want []string
	}{
		{"README.md", []string{`"ok": true`, "You said: Say hello", "legacy rollback [ID]"}},
		{"docs/tutorials/openai.md", []string{`"ok": true`, "gpt-4o-mini", "You said: Say hello", `"set": true`, "openai-main"}},
		{"docs/tutorials/bedrock.md", []string{`"ok": true`, "anthropic.claude-3-5-haiku-20241022-v1:0", "You said: Say hello", "auth_forbidden"}},
		{"docs/tutorials/vllm.md", []string{"blocked_destination", `"ok": true`, "Qwen/Qwen2.5-7B-Instruct", "You said: Say hello"}},
		{"docs/tutorials/litellm.md", []string{"maps cleanly", "cannot map", "You said: Say hello", "rolled back"}},
		{"docs/tutorials/slack-alerts.md", []string{`"set": true`, `"ok": true`, `"status": 200`, "Provider down"}},
	}
	for _, pg := range pages {
		t.Run(filepath.Base(pg.path), func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("..", "..", pg.path))
			if err != nil {
				t.Fatal(err)
			}
			addr := freeAddr(t)
			text := string(doc)
			for _, r := range [][2]string{
				{"127.0.0.1:8080", addr},
				{"https://api.openai.com/v1", openai.URL + "/v1"},
				{"vllm.internal:8000", strings.TrimPrefix(vllm.URL, "http://")},
				{"https://bedrock-runtime." + docsBedrockRegio + ".amazonaws.com", bedrock.URL},
				{"https://hooks.slack.com", slack.URL},
				{"PASSWORD='paste the one-time password here'", `PASSWORD=$(sed -n 's/.*one-time password (it is not shown again): //p' server.log | head -n 1)`},
			} {
				text = strings.ReplaceAll(text, r[0], r[1])
			}
			if pg.path == "README.md" && !strings.Contains(string(doc), "```text\n"+usage+"```") {
				t.Errorf("README.md's list of commands is not what switchyard help prints:\n%s", usage)
			}
			page := parseDocsPage(text, addr)
			if !strings.Contains(page.script, "readyz") {
				t.Fatalf("%s has no ```sh server block", pg.path)
			}
			dir := t.TempDir()
			for name, body := range page.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			allow := strings.TrimPrefix(openai.URL, "http://") + "," + strings.TrimPrefix(bedrock.URL, "http://") + "," + strings.TrimPrefix(slack.URL, "http://")
			script := "set -euo pipefail\nexport SWITCHYARD_ADDR=" + addr + " SWITCHYARD_OUTBOUND_ALLOW=" + allow + "\n" +
				"trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n" + page.script
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", script)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + shims + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8"}
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			out, err := cmd.CombinedOutput()
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			if err != nil {
				t.Fatalf("%s: a command failed: %v\n%s\nserver log:\n%s", pg.path, err, out, log)
			}
			for _, w := range pg.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%s: the output lacks %q:\n%s", pg.path, w, out)
				}
			}
			if pg.path == "docs/tutorials/slack-alerts.md" && slackPosts.Load() == 0 {
				t.Errorf("%s: the Slack webhook received nothing", pg.path)
			}
			for _, secret := range []string{docsOpenAIKey, docsAWSSecret, docsSlackPath} {
				if strings.Contains(string(out), secret) || strings.Contains(string(log), secret) {
					t.Errorf("%s: a secret was echoed", pg.path)
				}
			}
		})
	}
}
