package bedrock

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/provider"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr[T any](v T) *T { return &v }

// pngBytes is the start of a PNG file, enough to show base64 in the goldens.
var pngBytes = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13}

var weather = provider.Tool{Name: "get_weather", Description: "Current weather of a city",
	Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}

// TestConverseGolden checks the translation of chat requests into Converse
// bodies against testdata/*.golden.json; run with -update to rewrite them.
func TestConverseGolden(t *testing.T) {
	cases := map[string]*provider.ChatRequest{
		"text": {Model: "amazon.nova-lite-v1:0", Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Hello there"),
		}},
		"system": {Model: "amazon.nova-lite-v1:0", Messages: []provider.Message{
			provider.TextMessage(provider.RoleSystem, "You are terse."),
			provider.TextMessage(provider.RoleSystem, "Answer in French."),
			provider.TextMessage(provider.RoleUser, "Hello"),
		}},
		"multi_turn": {Model: "anthropic.claude-3-5-haiku-20241022-v1:0", Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Hi"),
			provider.TextMessage(provider.RoleAssistant, "Hello! How can I help?"),
			provider.TextMessage(provider.RoleUser, "Tell me a joke."),
			provider.TextMessage(provider.RoleUser, "A short one."), // merged: roles must alternate
		}},
		"image": {Model: "anthropic.claude-3-5-haiku-20241022-v1:0", Messages: []provider.Message{
			{Role: provider.RoleUser, Content: []provider.Part{
				{Type: provider.PartText, Text: "What is in this picture?"},
				{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: pngBytes}},
				{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff}}},
			}},
		}},
		"tools": {Model: "anthropic.claude-3-5-haiku-20241022-v1:0", ToolChoice: "auto", Tools: []provider.Tool{weather,
			{Name: "no_params"}}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Weather in Paris and Rome?"),
			{Role: provider.RoleAssistant, Content: []provider.Part{{Type: provider.PartText, Text: "Let me check."}}, ToolCalls: []provider.ToolCall{
				{ID: "tooluse_1", Name: "get_weather", Arguments: `{ "city": "Paris" }`},
				{ID: "tooluse_2", Name: "get_weather", Arguments: `{"city":"Rome"}`},
			}},
			{Role: provider.RoleTool, ToolCallID: "tooluse_1", Content: []provider.Part{{Type: provider.PartText, Text: "sunny, 21 C"}}},
			{Role: provider.RoleTool, ToolCallID: "tooluse_2", Content: []provider.Part{{Type: provider.PartText, Text: "rain, 14 C"}}},
		}},
		"tool_choice_required": {Model: "m", ToolChoice: "required", Tools: []provider.Tool{weather}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Paris?")}},
		"tool_choice_named": {Model: "m", ToolChoice: "get_weather", Tools: []provider.Tool{weather}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Paris?")}},
		// "none" has no Bedrock equivalent: the tools are left out, except
		// stubs the history's tool blocks need.
		"tool_choice_none_history": {Model: "m", ToolChoice: "none", Tools: []provider.Tool{weather}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Paris?"),
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "t1", Name: "get_weather", Arguments: ""}}},
			{Role: provider.RoleTool, ToolCallID: "t1", Content: []provider.Part{{Type: provider.PartText, Text: "sunny"}}},
		}},
		"inference": {Model: "amazon.nova-lite-v1:0", MaxTokens: 256, Temperature: ptr(0.3), TopP: ptr(0.9),
			Stop: []string{"\n\nHuman:", "END"}, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Count to ten.")}},
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			cr, err := toConverse(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(cr, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

func TestConverseRefusals(t *testing.T) {
	user := func(parts ...provider.Part) []provider.Message {
		return []provider.Message{{Role: provider.RoleUser, Content: parts}}
	}
	cases := map[string]*provider.ChatRequest{
		"image URL":      {Model: "m", Messages: user(provider.Part{Type: provider.PartImage, Image: &provider.Image{URL: "https://example.com/a.png"}})},
		"image type":     {Model: "m", Messages: user(provider.Part{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/tiff", Data: []byte{1}}})},
		"tool arguments": {Model: "m", Messages: []provider.Message{{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "x", Name: "f", Arguments: "[1]"}}}}},
		"tool message":   {Model: "m", Messages: []provider.Message{{Role: provider.RoleTool}}},
		"tool choice":    {Model: "m", ToolChoice: "other", Tools: []provider.Tool{weather}, Messages: user(provider.Part{Type: provider.PartText, Text: "hi"})},
		"role":           {Model: "m", Messages: []provider.Message{{Role: "developer"}}},
	}
	for name, req := range cases {
		_, err := toConverse(req)
		if e, ok := provider.AsError(err); !ok || e.Code != provider.CodeBadRequest {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFromConverse(t *testing.T) {
	var res converseResponse
	body := `{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"hmm"}}},
		{"text":"Checking."},{"toolUse":{"toolUseId":"tu1","name":"get_weather","input":{ "city" : "Paris" }}}]}},
		"stopReason":"tool_use","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":15,"cacheReadInputTokens":100,"cacheWriteInputTokens":20}}`
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	out, err := fromConverse(&res, "m", "rid")
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != "rid" || out.Message.Text() != "Checking." || out.FinishReason != provider.FinishToolCalls ||
		len(out.Message.ToolCalls) != 1 || out.Message.ToolCalls[0] != (provider.ToolCall{ID: "tu1", Name: "get_weather", Arguments: `{"city":"Paris"}`}) ||
		out.Usage != (provider.Usage{InputTokens: 130, OutputTokens: 5, CachedInputTokens: 100, CacheWriteTokens: 20}) {
		t.Errorf("%+v", out)
	}
	for stop, want := range map[string]provider.FinishReason{"end_turn": provider.FinishStop, "stop_sequence": provider.FinishStop,
		"max_tokens": provider.FinishLength, "tool_use": provider.FinishToolCalls, "guardrail_intervened": provider.FinishContentFilter,
		"content_filtered": provider.FinishContentFilter} {
		if got := finishReason(stop); got != want {
			t.Errorf("%s: %s", stop, got)
		}
	}
}

func TestEscapeModelAndControlURL(t *testing.T) {
	if got := escapeModel("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2:1"); got != "arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Fanthropic.claude-v2%3A1" {
		t.Errorf("escape: %s", got)
	}
	for in, want := range map[string]string{
		"https://bedrock-runtime.eu-west-1.amazonaws.com":               "https://bedrock.eu-west-1.amazonaws.com",
		"https://bedrock-runtime-fips.us-east-1.amazonaws.com/":         "https://bedrock-fips.us-east-1.amazonaws.com",
		"https://vpce-0a1.bedrock-runtime.us-east-1.vpce.amazonaws.com": "https://vpce-0a1.bedrock.us-east-1.vpce.amazonaws.com",
		"http://127.0.0.1:8080":                                         "http://127.0.0.1:8080",
	} {
		if got, err := controlURL(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
}

func TestParseError(t *testing.T) {
	typ, msg := parseError(403, []byte(errorTypeLine+"InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/\n{\"message\":\"bad\"}"))
	if typ != "InvalidSignatureException" || msg != "bad" {
		t.Errorf("%q %q", typ, msg)
	}
	typ, msg = parseError(403, []byte(`{"__type":"com.amazon.coral.service#UnrecognizedClientException","Message":"who?"}`))
	if typ != "UnrecognizedClientException" || msg != "who?" {
		t.Errorf("%q %q", typ, msg)
	}
}
