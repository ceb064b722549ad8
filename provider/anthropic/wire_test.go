package anthropic

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/provider"
)

// These tests use hand-written upstreams for what the fake does not send:
// error events inside a stream, thinking blocks, cache usage, a paginated
// model list, and error bodies the fake has no fault for.

// sse writes events as the Messages API frames them.
func sse(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, e := range events {
		name := "message"
		if i := strings.Index(e, `"type":"`); i >= 0 {
			name = strings.SplitN(e[i+8:], `"`, 2)[0]
		}
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, e)
	}
}

const (
	evStart = `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":100,"cache_creation_input_tokens":20}}}`
	evStop  = `{"type":"message_stop"}`
)

func TestStreamErrorEvent(t *testing.T) {
	a := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, evStart,
			`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}`,
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	})
	s, err := a.ChatStream(t.Context(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := collect(t, s)
	e := wantCode(t, err, provider.CodeUnavailable)
	if e.Type != "overloaded_error" || e.Message != "Overloaded" || !e.Retryable() {
		t.Errorf("error = %+v", e)
	}
	if c.text != "Hel" {
		t.Errorf("text before the error = %q", c.text)
	}
	if _, err := s.Recv(); err != e {
		t.Errorf("Recv after the error = %v, want the same error", err)
	}
}

func TestStreamThinkingCacheAndTools(t *testing.T) {
	a := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		sse(w, evStart,
			`{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}}`,
			`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}`,
			`{"type":"content_block_stop","index":0}`,
			`{"type":"ping"}`,
			`{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`,
			`{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking."}}`,
			`{"type":"content_block_stop","index":1}`,
			`{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_a","name":"get_weather","input":{}}}`,
			`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}`,
			`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}`,
			`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`,
			`{"type":"content_block_stop","index":2}`,
			`{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_b","name":"now","input":{}}}`,
			`{"type":"content_block_stop","index":3}`,
			`{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}`,
			`{"type":"some_future_event"}`,
			evStop)
	})
	s, err := a.ChatStream(t.Context(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if c.text != "Checking." {
		t.Errorf("text = %q (thinking must not show)", c.text)
	}
	want := []provider.ToolCall{
		{ID: "toolu_a", Name: "get_weather", Arguments: `{"city":"Paris"}`},
		{ID: "toolu_b", Name: "now", Arguments: `{}`},
	}
	if fmt.Sprint(c.calls) != fmt.Sprint(want) {
		t.Errorf("calls = %+v, want %+v", c.calls, want)
	}
	wantUsage := provider.Usage{InputTokens: 130, OutputTokens: 42, CachedInputTokens: 100, CacheWriteTokens: 20}
	if c.finish != provider.FinishToolCalls || c.usage == nil || *c.usage != wantUsage {
		t.Errorf("finish %q, usage %+v, want %+v", c.finish, c.usage, wantUsage)
	}
}

func TestStreamEndsEarly(t *testing.T) {
	for name, events := range map[string][]string{
		"no events":       nil,
		"no message_stop": {evStart, `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":1}}`},
		"half an event":   {evStart},
	} {
		t.Run(name, func(t *testing.T) {
			a := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				sse(w, events...)
				if name == "half an event" {
					fmt.Fprint(w, "event: content_block_delta\ndata: {")
				}
			})
			s, err := a.ChatStream(t.Context(), userRequest("hi"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = collect(t, s)
			e := wantCode(t, err, provider.CodeNetwork)
			if !strings.Contains(e.Message, "stream ended early") {
				t.Errorf("message = %q", e.Message)
			}
		})
	}
}

func TestChatResponse(t *testing.T) {
	a := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"msg_2","type":"message","role":"assistant","model":"claude-x",
			"content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Part one. "},
				{"type":"text","text":"Part two."},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],
			"stop_reason":"tool_use","stop_sequence":null,
			"usage":{"input_tokens":5,"output_tokens":7,"cache_read_input_tokens":3,"cache_creation_input_tokens":0}}`)
	})
	res, err := a.Chat(t.Context(), userRequest("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Text() != "Part one. Part two." || len(res.Message.ToolCalls) != 1 ||
		res.Message.ToolCalls[0] != (provider.ToolCall{ID: "toolu_1", Name: "f", Arguments: `{"a":1}`}) {
		t.Errorf("message = %+v", res.Message)
	}
	if res.FinishReason != provider.FinishToolCalls ||
		res.Usage != (provider.Usage{InputTokens: 8, OutputTokens: 7, CachedInputTokens: 3}) {
		t.Errorf("finish %q, usage %+v", res.FinishReason, res.Usage)
	}
}

func TestFinishReasons(t *testing.T) {
	for stop, want := range map[string]provider.FinishReason{
		"end_turn": provider.FinishStop, "stop_sequence": provider.FinishStop, "max_tokens": provider.FinishLength,
		"refusal": provider.FinishContentFilter, "pause_turn": provider.FinishStop,
	} {
		if got := finishReason(stop, false); got != want {
			t.Errorf("%s → %s, want %s", stop, got, want)
		}
	}
	if finishReason("tool_use", true) != provider.FinishToolCalls || finishReason("tool_use", false) != provider.FinishStop {
		t.Error("tool_use is tool_calls only when the request's own tools were called")
	}
}

func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		code, typ  string
		message    string
	}{
		{"prompt too long", `{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 205351 tokens > 200000 maximum"}}`,
			400, provider.CodeTooLarge, "invalid_request_error", "prompt is too long: 205351 tokens > 200000 maximum"},
		{"request too large", `{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum size"}}`,
			413, provider.CodeTooLarge, "request_too_large", "Request exceeds the maximum size"},
		{"bad request", `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}`,
			400, provider.CodeBadRequest, "invalid_request_error", "max_tokens: Field required"},
		{"not JSON", `<html>Bad Gateway</html>`, 502, provider.CodeUpstream, "", "Bad Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			_, err := a.Chat(t.Context(), userRequest("hi"))
			e := wantCode(t, err, tc.code)
			if e.Type != tc.typ || e.Message != tc.message || e.Status != tc.status {
				t.Errorf("error = %+v", e)
			}
		})
	}
}

func TestListModelsPages(t *testing.T) {
	var afters []string
	a := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" || r.URL.Query().Get("limit") == "" {
			http.Error(w, "bad path", 400)
			return
		}
		after := r.URL.Query().Get("after_id")
		afters = append(afters, after)
		n := 0
		if after != "" {
			n, _ = strconv.Atoi(strings.TrimPrefix(after, "m"))
		}
		// Two models a page, five in all.
		var data []string
		for i := n + 1; i <= n+2 && i <= 5; i++ {
			data = append(data, fmt.Sprintf(`{"type":"model","id":"m%d","display_name":"Model %d","created_at":"2025-0%d-01T00:00:00Z"}`, i, i, i))
		}
		fmt.Fprintf(w, `{"data":[%s],"has_more":%v,"first_id":"m%d","last_id":"m%d"}`,
			strings.Join(data, ","), n+2 < 5, n+1, min(n+2, 5))
	})
	models, err := a.ListModels(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 5 || models[4].ID != "m5" || models[4].DisplayName != "Model 5" || models[4].Created.Month() != 5 {
		t.Errorf("models = %+v", models)
	}
	if fmt.Sprint(afters) != "[ m2 m4]" {
		t.Errorf("after_id sent: %q", afters)
	}
}

func TestListModelsBounded(t *testing.T) {
	calls := 0
	a := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		fmt.Fprintf(w, `{"data":[{"id":"m%d"}],"has_more":true,"last_id":"m%d"}`, calls, calls)
	})
	models, err := a.ListModels(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if calls != maxModelPages || len(models) != maxModelPages {
		t.Errorf("%d calls, %d models; want %d", calls, len(models), maxModelPages)
	}
}
