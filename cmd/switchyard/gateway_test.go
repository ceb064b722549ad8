package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/provider/fake"
)

// api calls the admin API of a running serve with the bootstrap token.
func api(t *testing.T, addr, token, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, "http://"+addr+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(raw, &out)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return out
}

// TestGatewayThroughTheRealProgram configures a provider through the admin
// API of a running switchyard serve and uses it through /v1 with the
// connection's key; then shuts down in the middle of a slow stream, which
// still completes.
func TestGatewayThroughTheRealProgram(t *testing.T) {
	const adminToken = "syt_gateway-e2e-admin-token-0123456789"
	const upstreamKey = "sk-e2e-upstream-key-0123456789abcdef"
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}, Options: fake.Options{ChunkDelay: 100 * time.Millisecond}})
	srv := httptest.NewServer(up)
	defer srv.Close()
	dir := t.TempDir()
	addr, logs, stop := startServe(t, map[string]string{"SWITCHYARD_DATA_DIR": dir, "SWITCHYARD_ADMIN_TOKEN": adminToken,
		"SWITCHYARD_OUTBOUND_ALLOW": "127.0.0.1/32", "SWITCHYARD_SHUTDOWN_TIMEOUT": "20s"})

	p := api(t, addr, adminToken, "POST", "/providers", map[string]any{"name": "Local", "slug": "local", "protocol": "openai_compatible",
		"base_url": srv.URL + "/v1", "credentials": []map[string]any{{"name": "k", "method": "api_key", "secrets": map[string]any{"api_key": upstreamKey}}}})
	pid := p["id"].(string)
	api(t, addr, adminToken, "POST", "/providers/"+pid+"/models", map[string]any{"upstream_id": "gpt-4o-mini", "aliases": []string{"fast"}})
	conn := api(t, addr, adminToken, "POST", "/connections", map[string]any{"name": "e2e", "provider_id": pid})
	key := conn["key"].(string)

	chat := func(stream bool) *http.Response {
		body := `{"model":"fast","messages":[{"role":"user","content":"one two three four five six seven eight"}],"stream":` + map[bool]string{true: "true", false: "false"}[stream] + `}`
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := chat(false)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(raw), "You said: one two") {
		t.Fatalf("chat through the gateway: %d %s\n%s", res.StatusCode, raw, logs)
	}

	// The usage counters show on /metrics.
	deadline := time.Now().Add(2 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(m), "switchyard_usage_events_recorded_total 1") && strings.Contains(string(m), "switchyard_registry_models 1") &&
			strings.Contains(string(m), `switchyard_gateway_requests_total{model="gpt-4o-mini",provider="local",status="ok"} 1`) &&
			strings.Contains(string(m), `switchyard_gateway_request_duration_seconds_count{model="gpt-4o-mini",provider="local"} 1`) &&
			strings.Contains(string(m), `switchyard_gateway_tokens_total{direction="input",model="gpt-4o-mini",provider="local"}`) &&
			strings.Contains(string(m), `go_sql_open_connections{db_name="switchyard"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics does not count the request:\n%s", m)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Shut down during a stream: it completes.
	res = chat(true)
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	first, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "data: ") {
		t.Fatalf("first event: %q %v", first, err)
	}
	// Chunks go out one by one: when the first has arrived the end has
	// not (the upstream paces its chunks 100 ms apart).
	if pending, _ := rd.Peek(rd.Buffered()); strings.Contains(string(pending), "[DONE]") {
		t.Fatal("the whole stream arrived at once: chunks were held back instead of flushed")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	rest, err := io.ReadAll(rd)
	if err != nil || !strings.Contains(string(rest), "data: [DONE]") {
		t.Fatalf("the stream did not complete across shutdown: %v\n%s", err, rest)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	// No usage record is lost: both requests are in the database, the
	// stream's complete.
	db, err := sql.Open("sqlite", filepath.Join(dir, "switchyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT stream, status, output_tokens, cost_usd FROM usage_events ORDER BY at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var stream bool
		var status string
		var out int
		var cost float64
		if err := rows.Scan(&stream, &status, &out, &cost); err != nil {
			t.Fatal(err)
		}
		if out == 0 {
			t.Errorf("a usage record without output tokens (stream %v)", stream)
		}
		got = append(got, fmt.Sprintf("stream=%v:%s", stream, status))
	}
	if strings.Join(got, ",") != "stream=false:ok,stream=true:ok" {
		t.Fatalf("usage records = %v\n%s", got, logs)
	}
}
