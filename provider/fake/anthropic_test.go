package fake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

const anthropicKey = "sk-ant-test-0123456789"

func newAnthropicClient(t *testing.T, a *Anthropic, key string) anthropic.Client {
	t.Helper()
	srv := serve(t, a)
	return anthropic.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey(key), option.WithMaxRetries(0))
}

const claude = "claude-sonnet-4-5-20250929"

func TestAnthropicSDKMessages(t *testing.T) {
	a := NewAnthropic(AnthropicConfig{APIKeys: []string{anthropicKey}})
	client := newAnthropicClient(t, a, anthropicKey)
	ctx := context.Background()
	params := anthropic.MessageNewParams{
		Model:     claude,
		MaxTokens: 256,
		System:    []anthropic.TextBlockParam{{Text: "Be brief."}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("What is the capital of France?"))},
	}
	msg, err := client.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != "You said: What is the capital of France?" || msg.StopReason != "end_turn" {
		t.Errorf("message = %+v", msg)
	}
	count, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{
		Model: claude, System: anthropic.MessageCountTokensParamsSystemUnion{OfTextBlockArray: params.System}, Messages: params.Messages,
	})
	if err != nil {
		t.Fatal(err)
	}
	if count.InputTokens != msg.Usage.InputTokens || msg.Usage.OutputTokens != int64(Tokens(msg.Content[0].Text)) {
		t.Errorf("count %d, usage %+v", count.InputTokens, msg.Usage)
	}
	last, _ := a.LastRequest()
	// anthropic-sdk-go v2 sends the API key as a bearer token.
	if last.Header.Get("Authorization") != "Bearer "+anthropicKey || last.Header.Get("anthropic-version") == "" {
		t.Errorf("headers %v", last.Header)
	}

	params.MaxTokens = 2
	msg, err = client.Messages.New(ctx, params)
	if err != nil || msg.StopReason != "max_tokens" || msg.Usage.OutputTokens > 2 {
		t.Errorf("max_tokens: %v %+v", err, msg)
	}

	page, err := client.Models.List(ctx, anthropic.ModelListParams{})
	if err != nil || len(page.Data) != len(DefaultAnthropicModels) || page.Data[0].ID != DefaultAnthropicModels[0] {
		t.Errorf("models: %v %+v", err, page)
	}
	m, err := client.Models.Get(ctx, claude, anthropic.ModelGetParams{})
	if err != nil || m.ID != claude {
		t.Errorf("model: %v %+v", err, m)
	}
}

func TestAnthropicSDKStreaming(t *testing.T) {
	a := NewAnthropic(AnthropicConfig{APIKeys: []string{anthropicKey}})
	client := newAnthropicClient(t, a, anthropicKey)
	ctx := context.Background()
	weather := anthropic.ToolParam{Name: "get_weather", InputSchema: anthropic.ToolInputSchemaParam{
		Properties: map[string]any{"city": map[string]any{"type": "string"}},
		Required:   []string{"city"},
	}}
	for _, c := range []struct {
		name, prompt string
		tools        []anthropic.ToolUnionParam
		stop         anthropic.StopReason
		blocks       int
	}{
		{"text", "Tell me a story about a fox", nil, "end_turn", 1},
		{"tool", "Use get_weather for Paris", []anthropic.ToolUnionParam{{OfTool: &weather}}, "tool_use", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			params := anthropic.MessageNewParams{Model: claude, MaxTokens: 512, Tools: c.tools,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(c.prompt))}}
			stream := client.Messages.NewStreaming(ctx, params)
			var msg anthropic.Message
			var types []string
			for stream.Next() {
				ev := stream.Current()
				types = append(types, ev.Type)
				if err := msg.Accumulate(ev); err != nil {
					t.Fatal(err)
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if types[0] != "message_start" || types[1] != "content_block_start" || types[len(types)-2] != "message_delta" || types[len(types)-1] != "message_stop" {
				t.Errorf("event sequence %v", types)
			}
			full, err := client.Messages.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if msg.StopReason != c.stop || len(msg.Content) != c.blocks || msg.Usage.OutputTokens != full.Usage.OutputTokens || msg.Usage.InputTokens != full.Usage.InputTokens {
				t.Errorf("streamed %+v\nfull %+v", msg, full)
			}
			if c.blocks == 2 {
				tu := msg.Content[1].AsToolUse()
				var in map[string]any
				if tu.Name != "get_weather" || json.Unmarshal(tu.Input, &in) != nil || in["city"] != "fake" {
					t.Errorf("tool use %+v (%s)", tu, tu.Input)
				}
				// The tool result ends the turn with text.
				params.Messages = append(params.Messages, msg.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(tu.ID, "sunny, 21C", false)))
				after, err := client.Messages.New(ctx, params)
				if err != nil || after.StopReason != "end_turn" || after.Content[0].Type != "text" {
					t.Errorf("after tool result: %v %+v", err, after)
				}
			}
		})
	}
}

func TestAnthropicSDKAuthError(t *testing.T) {
	a := NewAnthropic(AnthropicConfig{APIKeys: []string{anthropicKey}})
	client := newAnthropicClient(t, a, "sk-ant-wrong")
	_, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{Model: claude, MaxTokens: 10,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Type() != "authentication_error" || apiErr.Message == "" {
		t.Fatalf("err = %v", err)
	}
}

func TestAnthropicAuthAndValidation(t *testing.T) {
	a := NewAnthropic(AnthropicConfig{APIKeys: []string{anthropicKey}, AuthTokens: []string{"oauth-token"}})
	srv := serve(t, a)
	url := srv.URL + "/v1/messages"
	body := `{"model":"` + claude + `","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	ok := map[string]string{"x-api-key": anthropicKey, "anthropic-version": "2023-06-01"}
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		typ     string
	}{
		{"missing key", map[string]string{"anthropic-version": "2023-06-01"}, body, 401, "authentication_error"},
		{"wrong key", map[string]string{"x-api-key": "nope", "anthropic-version": "2023-06-01"}, body, 401, "authentication_error"},
		{"key as bearer", map[string]string{"Authorization": "Bearer " + anthropicKey, "anthropic-version": "2023-06-01"}, body, 200, ""},
		{"wrong bearer", map[string]string{"Authorization": "Bearer nope", "anthropic-version": "2023-06-01"}, body, 401, "authentication_error"},
		{"key in api-key", map[string]string{"api-key": anthropicKey, "anthropic-version": "2023-06-01"}, body, 401, "authentication_error"},
		{"key as basic", map[string]string{"Authorization": "Basic " + anthropicKey, "anthropic-version": "2023-06-01"}, body, 401, "authentication_error"},
		{"oauth bearer", map[string]string{"Authorization": "Bearer oauth-token", "anthropic-version": "2023-06-01"}, body, 200, ""},
		{"missing version", map[string]string{"x-api-key": anthropicKey}, body, 400, "invalid_request_error"},
		{"bad version", map[string]string{"x-api-key": anthropicKey, "anthropic-version": "2024-10-22"}, body, 400, "invalid_request_error"},
		{"malformed body", ok, `{"model":`, 400, "invalid_request_error"},
		{"missing max_tokens", ok, `{"model":"` + claude + `","messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error"},
		{"empty messages", ok, `{"model":"` + claude + `","max_tokens":5,"messages":[]}`, 400, "invalid_request_error"},
		{"unknown model", ok, `{"model":"claude-9","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 404, "not_found_error"},
		{"ok", ok, body, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, b := call(t, http.MethodPost, url, c.headers, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if status == 200 {
				return
			}
			if field(t, b, "type") != "error" || field(t, b, "error", "type") != c.typ || field(t, b, "error", "message") == "" || h.Get("request-id") == "" {
				t.Errorf("body %s", b)
			}
		})
	}
	_, _, b := call(t, http.MethodPost, url, map[string]string{"x-api-key": anthropicKey}, body)
	if field(t, b, "error", "message") != "anthropic-version: header is required" {
		t.Errorf("missing version message: %s", b)
	}
	_, _, b = call(t, http.MethodPost, url, ok, `{"model":"`+claude+`","messages":[{"role":"user","content":"hi"}]}`)
	if field(t, b, "error", "message") != "max_tokens: Field required" {
		t.Errorf("missing max_tokens message: %s", b)
	}
}

// TestAnthropicEventSequence reads the raw SSE, which the SDK filters (it
// drops ping).
func TestAnthropicEventSequence(t *testing.T) {
	a := NewAnthropic(AnthropicConfig{})
	srv := serve(t, a)
	_, h, b := call(t, http.MethodPost, srv.URL+"/v1/messages", map[string]string{"x-api-key": "k", "anthropic-version": "2023-06-01"},
		`{"model":"`+claude+`","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"one two"}]}`)
	if !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") {
		t.Errorf("content type %q", h.Get("Content-Type"))
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, name)
		}
	}
	want := "message_start content_block_start ping content_block_delta content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want {
		t.Errorf("events %v\nwant   %s", names, want)
	}
}
