package anthropic

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

var weatherSchema = json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)

// translationCases are the internal requests whose Messages API requests
// are kept in testdata/<name>.golden.json.
var translationCases = []struct {
	name string
	req  provider.ChatRequest
}{
	{"plain_text", provider.ChatRequest{
		Model:    "claude-haiku-4-5",
		Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Hello")},
	}},
	{"system_multi_turn", provider.ChatRequest{
		Model: "claude-sonnet-4-5",
		Messages: []provider.Message{
			provider.TextMessage(provider.RoleSystem, "You are terse."),
			provider.TextMessage(provider.RoleUser, "What is 2+2?"),
			provider.TextMessage(provider.RoleAssistant, "4"),
			provider.TextMessage(provider.RoleSystem, "Answer in French."),
			provider.TextMessage(provider.RoleUser, "And 3+3?"),
		},
	}},
	{"consecutive_user_merged", provider.ChatRequest{
		Model: "claude-haiku-4-5",
		Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "First."),
			provider.TextMessage(provider.RoleUser, "Second."),
			{Role: provider.RoleUser, Content: []provider.Part{{Type: provider.PartText, Text: ""}}},
			provider.TextMessage(provider.RoleAssistant, "Noted."),
			provider.TextMessage(provider.RoleAssistant, "Both."),
			provider.TextMessage(provider.RoleUser, "Third."),
		},
	}},
	{"image_data", provider.ChatRequest{
		Model: "claude-sonnet-4-5",
		Messages: []provider.Message{{Role: provider.RoleUser, Content: []provider.Part{
			{Type: provider.PartText, Text: "What is in these images?"},
			{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nfake")}},
			{Type: provider.PartImage, Image: &provider.Image{Data: []byte("\xff\xd8\xff\xe0fake jpeg")}},
			{Type: provider.PartImage, Image: &provider.Image{URL: "https://example.com/cat.jpg"}},
		}}},
	}},
	{"tools_tool_choice", provider.ChatRequest{
		Model:    "claude-sonnet-4-5",
		Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Weather in Paris?")},
		Tools: []provider.Tool{
			{Name: "get_weather", Description: "Current weather of a city", Parameters: weatherSchema},
			{Name: "now", Description: "The current time"},
		},
		ToolChoice: "get_weather",
	}},
	{"tools_required", provider.ChatRequest{
		Model:      "claude-sonnet-4-5",
		Messages:   []provider.Message{provider.TextMessage(provider.RoleUser, "Weather in Paris?")},
		Tools:      []provider.Tool{{Name: "get_weather", Parameters: weatherSchema}},
		ToolChoice: "required",
	}},
	{"tool_call_and_result", provider.ChatRequest{
		Model: "claude-sonnet-4-5",
		Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Weather in Paris and Rome?"),
			{Role: provider.RoleAssistant, Content: []provider.Part{{Type: provider.PartText, Text: "Let me check."}},
				ToolCalls: []provider.ToolCall{
					{ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
					{ID: "toolu_2", Name: "get_weather", Arguments: ``},
				}},
			{Role: provider.RoleTool, ToolCallID: "toolu_1", Content: []provider.Part{{Type: provider.PartText, Text: "18°C, sunny"}}},
			{Role: provider.RoleTool, ToolCallID: "toolu_2", Content: []provider.Part{
				{Type: provider.PartText, Text: "see the map"},
				{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: []byte("map")}},
			}},
			provider.TextMessage(provider.RoleUser, "Summarise."),
		},
		Tools:      []provider.Tool{{Name: "get_weather", Parameters: weatherSchema}},
		ToolChoice: "auto",
	}},
	{"json_schema_output", provider.ChatRequest{
		Model:    "claude-sonnet-4-5",
		Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Weather in Paris as JSON")},
		ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Name: "weather report", Strict: true,
			Schema: json.RawMessage(`{"type":"object","properties":{"temp":{"type":"number"}},"required":["temp"]}`)},
	}},
	{"json_schema_with_tools", provider.ChatRequest{
		Model:          "claude-sonnet-4-5",
		Messages:       []provider.Message{provider.TextMessage(provider.RoleUser, "Weather in Paris as JSON")},
		Tools:          []provider.Tool{{Name: "get_weather", Parameters: weatherSchema}},
		ToolChoice:     "auto",
		ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Name: "get_weather", Schema: weatherSchema},
	}},
	{"json_object_output", provider.ChatRequest{
		Model:          "claude-haiku-4-5",
		Messages:       []provider.Message{provider.TextMessage(provider.RoleUser, "A JSON object please")},
		ResponseFormat: &provider.ResponseFormat{Type: "json_object"},
	}},
	{"sampling_and_defaults", provider.ChatRequest{
		Model:       "claude-haiku-4-5",
		Messages:    []provider.Message{provider.TextMessage(provider.RoleUser, "Count")},
		Temperature: ptr(0.2),
		TopP:        ptr(0.9),
		Stop:        []string{"\n\nHuman:", "END"},
		User:        "user-42",
	}},
	{"max_tokens_given", provider.ChatRequest{
		Model:       "claude-haiku-4-5",
		Messages:    []provider.Message{provider.TextMessage(provider.RoleUser, "Count")},
		MaxTokens:   256,
		Temperature: ptr(0.0),
	}},
}

func TestTranslateGolden(t *testing.T) {
	for _, tc := range translationCases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := translate(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := tr.body(false)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got.Bytes(), want)
			}
		})
	}
}

func TestTranslateRejects(t *testing.T) {
	for name, req := range map[string]provider.ChatRequest{
		"arguments not JSON": {Model: "m", Messages: []provider.Message{{Role: provider.RoleAssistant,
			ToolCalls: []provider.ToolCall{{ID: "a", Name: "f", Arguments: "{oops"}}}}},
		"arguments not an object": {Model: "m", Messages: []provider.Message{{Role: provider.RoleAssistant,
			ToolCalls: []provider.ToolCall{{ID: "a", Name: "f", Arguments: "[1]"}}}}},
		"unknown role": {Model: "m", Messages: []provider.Message{provider.TextMessage("developer", "x")}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := translate(&req)
			if e, ok := provider.AsError(err); !ok || e.Code != provider.CodeBadRequest {
				t.Fatalf("err = %v, want code %s", err, provider.CodeBadRequest)
			}
		})
	}
}

func TestToolName(t *testing.T) {
	for in, want := range map[string]string{
		"":               "json_output",
		"weather report": "weather_report",
		"a.b/c-d_e":      "a_b_c-d_e",
	} {
		if got := toolName(in); got != want {
			t.Errorf("toolName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := toolName(string(bytes.Repeat([]byte("x"), 100))); len(got) != 64 {
		t.Errorf("a long name gives %d bytes, want 64", len(got))
	}
}
