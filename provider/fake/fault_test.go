package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

// target is one fake with a request that succeeds on it.
type target struct {
	name string
	fake interface {
		http.Handler
		SetFault(Fault)
		QueueFault(...Fault)
		ClearFaults()
		RequestCount() int
	}
	path    string
	headers map[string]string
	body    string // a JSON request
	stream  string // the same request, streamed
	// errorOK checks the protocol's error shape.
	errorOK func(b []byte) bool
}

func targets() []target {
	openAIShape := func(b []byte) bool {
		var v struct {
			Error *struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
			} `json:"error"`
		}
		return json.Unmarshal(b, &v) == nil && v.Error != nil && v.Error.Message != "" && v.Error.Type != ""
	}
	return []target{
		{
			name: "openai", fake: NewOpenAI(OpenAIConfig{APIKeys: []string{"k"}}), path: "/v1/chat/completions",
			headers: map[string]string{"Authorization": "Bearer k"},
			body:    `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"one two three four"}]}`,
			stream:  `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"one two three four"}]}`,
			errorOK: openAIShape,
		},
		{
			name: "azure", fake: NewAzure(AzureConfig{APIKeys: []string{"k"}}), path: "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
			headers: map[string]string{"api-key": "k"},
			body:    `{"messages":[{"role":"user","content":"one two three four"}]}`,
			stream:  `{"stream":true,"messages":[{"role":"user","content":"one two three four"}]}`,
			errorOK: func(b []byte) bool {
				var v struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				return json.Unmarshal(b, &v) == nil && v.Error.Code != "" && v.Error.Message != ""
			},
		},
		{
			name: "anthropic", fake: NewAnthropic(AnthropicConfig{APIKeys: []string{"k"}}), path: "/v1/messages",
			headers: map[string]string{"x-api-key": "k", "anthropic-version": "2023-06-01"},
			body:    `{"model":"claude-haiku-4-5-20251001","max_tokens":100,"messages":[{"role":"user","content":"one two three four"}]}`,
			stream:  `{"model":"claude-haiku-4-5-20251001","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"one two three four"}]}`,
			errorOK: func(b []byte) bool {
				var v struct {
					Type  string                         `json:"type"`
					Error struct{ Type, Message string } `json:"error"`
				}
				return json.Unmarshal(b, &v) == nil && v.Type == "error" && v.Error.Type != "" && v.Error.Message != ""
			},
		},
		{
			name: "ollama", fake: NewOllama(OllamaConfig{}), path: "/api/chat",
			body:   `{"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"one two three four"}]}`,
			stream: `{"model":"llama3.2","messages":[{"role":"user","content":"one two three four"}]}`,
			errorOK: func(b []byte) bool {
				var v struct {
					Error string `json:"error"`
				}
				return json.Unmarshal(b, &v) == nil && v.Error != ""
			},
		},
	}
}

// send posts body with a client timeout and reads the whole answer; err is the
// transport or read error.
func send(t *testing.T, url string, headers map[string]string, body string, timeout time.Duration) (int, http.Header, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func TestStatusFaults(t *testing.T) {
	for _, tg := range targets() {
		srv := serve(t, tg.fake)
		for _, c := range []struct {
			fault Fault
			retry string
		}{
			{Status(401), ""},
			{Status(403), ""},
			{Status(404), ""},
			{Status(429), "1"},
			{RateLimit(2500 * time.Millisecond), "3"},
			{Status(500), ""},
			{Fault{Kind: FaultStatus, Status: 503, RetryAfter: time.Second}, "1"},
			{Status(529), ""},
		} {
			t.Run(tg.name+"/"+c.fault.String(), func(t *testing.T) {
				tg.fake.SetFault(c.fault)
				defer tg.fake.ClearFaults()
				status, h, b, err := send(t, srv.URL+tg.path, tg.headers, tg.body, 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if status != c.fault.Status || h.Get("Retry-After") != c.retry || !tg.errorOK(b) {
					t.Errorf("status %d retry-after %q body %s", status, h.Get("Retry-After"), b)
				}
			})
		}
		// Status faults fire before authentication: the upstream is "down".
		tg.fake.SetFault(Status(503))
		if status, _, _, _ := send(t, srv.URL+tg.path, nil, tg.body, 2*time.Second); status != 503 {
			t.Errorf("%s: unauthenticated request under 503 fault got %d", tg.name, status)
		}
		tg.fake.ClearFaults()
	}
}

func TestBodyFaults(t *testing.T) {
	for _, tg := range targets() {
		srv := serve(t, tg.fake)
		url := srv.URL + tg.path
		t.Run(tg.name, func(t *testing.T) {
			check := func(name string, f Fault, body string, timeout time.Duration, want func(status int, b []byte, err error) bool) {
				t.Helper()
				tg.fake.SetFault(f)
				defer tg.fake.ClearFaults()
				start := time.Now()
				status, _, b, err := send(t, url, tg.headers, body, timeout)
				if !want(status, b, err) {
					t.Errorf("%s: status %d err %v after %v body %q", name, status, err, time.Since(start), b)
				}
			}
			isTimeout := func(err error) bool {
				var ne net.Error
				return errors.As(err, &ne) && ne.Timeout()
			}

			check("none", Fault{}, tg.body, 2*time.Second, func(s int, b []byte, err error) bool { return err == nil && s == 200 && json.Valid(b) })
			check("malformed", Malformed(), tg.body, 2*time.Second, func(s int, b []byte, err error) bool {
				return err == nil && s == 200 && len(b) > 0 && !json.Valid(b)
			})
			check("malformed stream", Fault{Kind: FaultMalformed, After: 1}, tg.stream, 2*time.Second, func(s int, b []byte, err error) bool {
				return err == nil && s == 200 && invalidEvent(b) == 1
			})
			check("cut", Cut(0), tg.body, 2*time.Second, func(s int, b []byte, err error) bool {
				return errors.Is(err, io.ErrUnexpectedEOF) && s == 200
			})
			check("cut stream", Cut(2), tg.stream, 2*time.Second, func(s int, b []byte, err error) bool {
				return errors.Is(err, io.ErrUnexpectedEOF) && s == 200 && events(b) == 2
			})
			check("stall", Stall(0), tg.body, 200*time.Millisecond, func(s int, b []byte, err error) bool { return isTimeout(err) })
			check("stall stream", Stall(1), tg.stream, 200*time.Millisecond, func(s int, b []byte, err error) bool {
				return isTimeout(err) && events(b) == 1
			})
			start := time.Now()
			check("latency", Slow(60*time.Millisecond), tg.body, 2*time.Second, func(s int, b []byte, err error) bool { return err == nil && s == 200 })
			if d := time.Since(start); d < 60*time.Millisecond {
				t.Errorf("latency: answered after %v", d)
			}
		})
	}
}

// events counts the complete events in a stream body (SSE or NDJSON).
func events(b []byte) int {
	if bytes.Contains(b, []byte("data: ")) {
		return bytes.Count(b, []byte("\n\n"))
	}
	return bytes.Count(b, []byte("\n"))
}

// invalidEvent returns the index of the first event whose JSON is invalid, or
// -1.
func invalidEvent(b []byte) int {
	var payloads [][]byte
	if bytes.Contains(b, []byte("data: ")) {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if p, ok := bytes.CutPrefix(line, []byte("data: ")); ok && string(p) != "[DONE]" {
				payloads = append(payloads, p)
			}
		}
	} else {
		payloads = bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	}
	for i, p := range payloads {
		if !json.Valid(p) {
			return i
		}
	}
	return -1
}

func TestFaultHeaderQueueAndPath(t *testing.T) {
	tg := targets()[0]
	srv := serve(t, tg.fake)
	url := srv.URL + tg.path
	with := func(h string) map[string]string {
		m := map[string]string{"Authorization": "Bearer k"}
		if h != "" {
			m[FaultHeader] = h
		}
		return m
	}
	status, h, _, _ := send(t, url, with("429, retry-after=7"), tg.body, 2*time.Second)
	if status != 429 || h.Get("Retry-After") != "7" {
		t.Errorf("header fault: %d %q", status, h.Get("Retry-After"))
	}
	if status, _, b, _ := send(t, url, with("teapot"), tg.body, 2*time.Second); status != 400 || !strings.Contains(string(b), "teapot") {
		t.Errorf("bad header: %d %s", status, b)
	}

	// Queued faults apply once each, in order.
	tg.fake.QueueFault(Status(500), Status(503))
	for _, want := range []int{500, 503, 200} {
		if status, _, _, _ := send(t, url, with(""), tg.body, 2*time.Second); status != want {
			t.Errorf("queued: got %d, want %d", status, want)
		}
	}
	// A fault limited to a path leaves other routes healthy.
	tg.fake.SetFault(Fault{Kind: FaultStatus, Status: 500, Path: "/chat/completions"})
	if status, _, _, _ := send(t, url, with(""), tg.body, 2*time.Second); status != 500 {
		t.Errorf("path fault on chat: %d", status)
	}
	if status, _, _ := call(t, http.MethodGet, srv.URL+"/v1/models", with(""), ""); status != 200 {
		t.Errorf("path fault on models: %d", status)
	}
	tg.fake.ClearFaults()

	// The header is ignored when disabled.
	closed := serve(t, NewOpenAI(OpenAIConfig{Options: Options{DisableFaultHeader: true}}))
	if status, _, _, _ := send(t, closed.URL+tg.path, with("500"), tg.body, 2*time.Second); status != 200 {
		t.Errorf("disabled header: %d", status)
	}
}

func TestSharedFaultsAndRecorder(t *testing.T) {
	faults, rec := &Faults{}, &Recorder{Limit: 2}
	opts := Options{Faults: faults, Recorder: rec}
	oa := serve(t, NewOpenAI(OpenAIConfig{Options: opts}))
	ol := serve(t, NewOllama(OllamaConfig{Options: opts}))
	faults.SetFault(Status(503))
	if s, _, _ := call(t, http.MethodGet, oa.URL+"/v1/models", map[string]string{"Authorization": "Bearer x"}, ""); s != 503 {
		t.Errorf("openai: %d", s)
	}
	if s, _, _ := call(t, http.MethodGet, ol.URL+"/api/tags", nil, ""); s != 503 {
		t.Errorf("ollama: %d", s)
	}
	faults.ClearFaults()
	call(t, http.MethodPost, ol.URL+"/api/chat", map[string]string{"X-Trace": "abc"}, `{"model":"llama3.2","stream":false,"messages":[]}`)
	if rec.RequestCount() != 3 || len(rec.Requests()) != 2 {
		t.Errorf("count %d kept %d", rec.RequestCount(), len(rec.Requests()))
	}
	last, _ := rec.LastRequest()
	if last.Path != "/api/chat" || last.Header.Get("X-Trace") != "abc" || !strings.Contains(string(last.Body), "llama3.2") || last.Method != "POST" {
		t.Errorf("last %+v", last)
	}
	rec.ResetRequests()
	if _, ok := rec.LastRequest(); ok || rec.RequestCount() != 0 {
		t.Error("reset kept requests")
	}
}

func TestSDKSeesCutStream(t *testing.T) {
	o := NewOpenAI(OpenAIConfig{})
	client, _ := newOpenAIClient(t, o, "k")
	o.SetFault(Cut(3))
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("a b c d e f")},
	})
	n := 0
	for stream.Next() {
		n++
	}
	if stream.Err() == nil || n != 3 {
		t.Errorf("got %d chunks, err %v", n, stream.Err())
	}
}

func TestParseFault(t *testing.T) {
	cases := []struct {
		in   string
		want Fault
		err  bool
	}{
		{"429", Status(429), false},
		{"status=503; retry-after=2", Fault{Kind: FaultStatus, Status: 503, RetryAfter: 2 * time.Second}, false},
		{"retry-after=1500ms, 429", Fault{Kind: FaultStatus, Status: 429, RetryAfter: 1500 * time.Millisecond}, false},
		{"cut=3", Cut(3), false},
		{"stall", Stall(0), false},
		{"malformed=2", Fault{Kind: FaultMalformed, After: 2}, false},
		{"latency=50ms", Slow(50 * time.Millisecond), false},
		{"latency=0.5, 500, path=/embeddings, message=boom", Fault{Kind: FaultStatus, Status: 500, Latency: 500 * time.Millisecond, Path: "/embeddings", Message: "boom"}, false},
		{"status=99", Fault{}, true},
		{"cut=x", Fault{}, true},
		{"latency=-1s", Fault{}, true},
		{"explode", Fault{}, true},
	}
	for _, c := range cases {
		got, err := ParseFault(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseFault(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	// String round-trips through ParseFault.
	f := Fault{Kind: FaultStatus, Status: 429, RetryAfter: 3 * time.Second, Latency: time.Millisecond, Path: "/x"}
	if got, err := ParseFault(f.String()); err != nil || got != f {
		t.Errorf("round trip %q: %+v %v", f.String(), got, err)
	}
}
