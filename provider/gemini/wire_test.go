package gemini

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
	Parameters: json.RawMessage(`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
		"properties":{"city":{"type":"string","description":"City name"},"unit":{"type":["string","null"],"enum":["C","F"]}},"required":["city"]}`)}

// TestTranslateGolden checks the translation of chat requests into
// GenerateContent bodies against testdata/*.golden.json; run with -update
// to rewrite them.
func TestTranslateGolden(t *testing.T) {
	cases := map[string]*provider.ChatRequest{
		"text": {Model: "gemini-2.5-flash", Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Hello there"),
		}},
		"system": {Model: "gemini-2.5-flash", Messages: []provider.Message{
			provider.TextMessage(provider.RoleSystem, "You are terse."),
			provider.TextMessage(provider.RoleUser, "Hello"),
			provider.TextMessage(provider.RoleSystem, "Answer in French."),
			provider.TextMessage(provider.RoleAssistant, "Bonjour."),
			provider.TextMessage(provider.RoleUser, "Again?"),
			provider.TextMessage(provider.RoleUser, "Please."), // merged with the turn before
		}},
		"tools_multi_turn": {Model: "gemini-2.5-flash", ToolChoice: "auto", Tools: []provider.Tool{weather, {Name: "no_params",
			Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Weather in Paris and Rome?"),
			{Role: provider.RoleAssistant, Content: []provider.Part{{Type: provider.PartText, Text: "Let me check."}}, ToolCalls: []provider.ToolCall{
				{ID: "call_0", Name: "get_weather", Arguments: `{ "city": "Paris" }`},
				{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Rome"}`},
			}},
			{Role: provider.RoleTool, ToolCallID: "call_0", Content: []provider.Part{{Type: provider.PartText, Text: "sunny, 21 C"}}},
			{Role: provider.RoleTool, ToolCallID: "call_1", Content: []provider.Part{{Type: provider.PartText, Text: `{"sky":"rain","temp":14}`}}},
			provider.TextMessage(provider.RoleAssistant, "Paris is sunny, Rome rainy."),
			provider.TextMessage(provider.RoleUser, "And Oslo?"),
			{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "call_0", Name: "no_params"}}},
			{Role: provider.RoleTool, ToolCallID: "call_0", Content: []provider.Part{{Type: provider.PartText, Text: "[1,2]"}}},
		}},
		"tool_choice_named": {Model: "m", ToolChoice: "get_weather", Tools: []provider.Tool{weather}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Paris?")}},
		"tool_choice_required": {Model: "m", ToolChoice: "required", Tools: []provider.Tool{weather}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Paris?")}},
		"tool_choice_none": {Model: "m", ToolChoice: "none", Tools: []provider.Tool{weather}, Messages: []provider.Message{
			provider.TextMessage(provider.RoleUser, "Paris?")}},
		"image": {Model: "gemini-2.5-flash", Messages: []provider.Message{
			{Role: provider.RoleUser, Content: []provider.Part{
				{Type: provider.PartText, Text: "What is in this picture?"},
				{Type: provider.PartImage, Image: &provider.Image{MediaType: "image/png", Data: pngBytes}},
			}},
		}},
		"json_schema": {Model: "gemini-2.5-flash", ResponseFormat: &provider.ResponseFormat{Type: "json_schema", Name: "person", Strict: true,
			Schema: json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","additionalProperties":false,
				"$defs":{"Address":{"type":"object","properties":{"city":{"type":"string","format":"email"}},"required":["city"]}},
				"properties":{
					"name":{"type":"string","minLength":1},
					"age":{"type":"integer","exclusiveMinimum":0,"format":"int32"},
					"kind":{"const":"person"},
					"tags":{"type":"array","items":{"type":"string"},"maxItems":5},
					"address":{"$ref":"#/$defs/Address","description":"Home"},
					"nick":{"anyOf":[{"type":"string"},{"type":"null"}]},
					"score":{"oneOf":[{"type":"number"},{"type":"string"}]},
					"level":{"type":"integer","enum":[1,2,3]}
				},
				"required":["name","age","missing"]}`)},
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Describe Ada.")}},
		"json_object": {Model: "gemini-2.5-flash", ResponseFormat: &provider.ResponseFormat{Type: "json_object"},
			Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "JSON please.")}},
		"sampling": {Model: "gemini-2.5-flash", MaxTokens: 256, Temperature: ptr(0.3), TopP: ptr(0.9),
			Stop: []string{"END", "\n\n"}, Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Count to ten.")}},
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			body, err := translate(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(body, "", "  ")
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

func TestTranslateRefusals(t *testing.T) {
	user := func(parts ...provider.Part) []provider.Message {
		return []provider.Message{{Role: provider.RoleUser, Content: parts}}
	}
	hi := user(provider.Part{Type: provider.PartText, Text: "hi"})
	cases := map[string]*provider.ChatRequest{
		"image URL":      {Model: "m", Messages: user(provider.Part{Type: provider.PartImage, Image: &provider.Image{URL: "https://example.com/a.png"}})},
		"tool arguments": {Model: "m", Messages: []provider.Message{{Role: provider.RoleAssistant, ToolCalls: []provider.ToolCall{{ID: "x", Name: "f", Arguments: "[1]"}}}}},
		"orphan result":  {Model: "m", Messages: []provider.Message{{Role: provider.RoleTool, ToolCallID: "call_9"}}},
		"tool choice":    {Model: "m", ToolChoice: "other", Tools: []provider.Tool{weather}, Messages: hi},
		"required":       {Model: "m", ToolChoice: "required", Messages: hi},
		"role":           {Model: "m", Messages: []provider.Message{{Role: "developer"}}},
		"only system":    {Model: "m", Messages: []provider.Message{provider.TextMessage(provider.RoleSystem, "x")}},
		"recursive":      {Model: "m", Messages: hi, Tools: []provider.Tool{{Name: "f", Parameters: json.RawMessage(`{"$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"}}}},"$ref":"#/$defs/N"}`)}}},
		"dangling ref":   {Model: "m", Messages: hi, Tools: []provider.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"$ref":"#/nowhere"}}}`)}}},
		"format":         {Model: "m", Messages: hi, ResponseFormat: &provider.ResponseFormat{Type: "xml"}},
	}
	for name, req := range cases {
		_, err := translate(req)
		if e, ok := provider.AsError(err); !ok || e.Code != provider.CodeBadRequest {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A tool result may name its function when no call carries its id.
	if _, err := translate(&provider.ChatRequest{Model: "m", Messages: []provider.Message{{Role: provider.RoleTool, Name: "f", ToolCallID: "x"}}}); err != nil {
		t.Errorf("named result: %v", err)
	}
}

func TestFromResponse(t *testing.T) {
	var r response
	body := `{"candidates":[{"content":{"role":"model","parts":[{"text":"hmm","thought":true},{"text":"Checking."},
		{"functionCall":{"name":"get_weather","args":{ "city" : "Paris" }},"thoughtSignature":"c2ln"},{"functionCall":{"name":"no_params"}}]},
		"finishReason":"STOP"}],
		"usageMetadata":{"promptTokenCount":130,"candidatesTokenCount":5,"cachedContentTokenCount":100,"thoughtsTokenCount":7,"totalTokenCount":142},
		"modelVersion":"gemini-2.5-flash-001","responseId":"resp-1"}`
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	out, err := fromResponse(&r, "gemini-2.5-flash")
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != "resp-1" || out.Model != "gemini-2.5-flash-001" || out.Message.Text() != "Checking." || out.FinishReason != provider.FinishToolCalls ||
		len(out.Message.ToolCalls) != 2 || out.Message.ToolCalls[0] != (provider.ToolCall{ID: "call_0", Name: "get_weather", Arguments: `{"city":"Paris"}`}) ||
		out.Message.ToolCalls[1] != (provider.ToolCall{ID: "call_1", Name: "no_params", Arguments: `{}`}) ||
		out.Usage != (provider.Usage{InputTokens: 130, OutputTokens: 12, CachedInputTokens: 100, ReasoningTokens: 7}) {
		t.Errorf("%+v", out)
	}
	for reason, want := range map[string]provider.FinishReason{"STOP": provider.FinishStop, "MAX_TOKENS": provider.FinishLength,
		"SAFETY": provider.FinishContentFilter, "RECITATION": provider.FinishContentFilter, "BLOCKLIST": provider.FinishContentFilter,
		"PROHIBITED_CONTENT": provider.FinishContentFilter, "SPII": provider.FinishContentFilter, "OTHER": provider.FinishStop} {
		if got := finishReason(reason, false); got != want {
			t.Errorf("%s: %s", reason, got)
		}
	}
	// A blocked prompt has no candidate.
	_ = json.Unmarshal([]byte(`{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":3}}`), &r)
	r.Candidates = nil
	if out, err := fromResponse(&r, "m"); err != nil || out.FinishReason != provider.FinishContentFilter || out.Usage.InputTokens != 3 {
		t.Errorf("blocked: %v %+v", err, out)
	}
}

func TestParseError(t *testing.T) {
	body := `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
		"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`
	typ, msg := parseError(400, []byte(body))
	if typ != "INVALID_ARGUMENT" || codeFor(typ, msg, "") != provider.CodeAuth {
		t.Errorf("%q %q", typ, msg)
	}
	typ, msg = parseError(429, []byte(`[{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}]`))
	if typ != "RESOURCE_EXHAUSTED" || msg != "Quota exceeded" {
		t.Errorf("list: %q %q", typ, msg)
	}
	for status, want := range map[string]string{"PERMISSION_DENIED": provider.CodeForbidden, "NOT_FOUND": provider.CodeNotFound,
		"RESOURCE_EXHAUSTED": provider.CodeRateLimited, "UNAVAILABLE": provider.CodeUnavailable, "UNAUTHENTICATED": provider.CodeAuth,
		"INVALID_ARGUMENT": provider.CodeBadRequest, "INTERNAL": provider.CodeUpstream} {
		if got := codeFor(status, "x", ""); got != want {
			t.Errorf("%s: %s", status, got)
		}
	}
}
