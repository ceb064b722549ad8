package fake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const openAIKey = "sk-test-0123456789abcdef"

func newOpenAIClient(t *testing.T, o *OpenAI, key string) (openai.Client, string) {
	t.Helper()
	srv := serve(t, o)
	base := srv.URL + o.BasePath() + "/"
	return openai.NewClient(option.WithBaseURL(base), option.WithAPIKey(key), option.WithMaxRetries(0)), srv.URL
}

func TestOpenAISDKChat(t *testing.T) {
	o := NewOpenAI(OpenAIConfig{APIKeys: []string{openAIKey}})
	client, _ := newOpenAIClient(t, o, openAIKey)
	ctx := context.Background()

	res, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."),
			openai.UserMessage("What is the capital of France?"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Choices[0].Message.Content; got != "You said: What is the capital of France?" {
		t.Errorf("content = %q", got)
	}
	if res.Choices[0].FinishReason != "stop" || res.Model != "gpt-4o-mini" || res.Object != "chat.completion" {
		t.Errorf("finish %q model %q object %q", res.Choices[0].FinishReason, res.Model, res.Object)
	}
	u := res.Usage
	if u.PromptTokens == 0 || u.CompletionTokens != int64(Tokens(res.Choices[0].Message.Content)) || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}
	last, ok := o.LastRequest()
	if !ok || last.Header.Get("Authorization") != "Bearer "+openAIKey || last.Path != "/v1/chat/completions" {
		t.Errorf("recorded %+v", last)
	}
	if o.RequestCount() != 1 {
		t.Errorf("count = %d", o.RequestCount())
	}

	// max_completion_tokens truncates with finish_reason "length".
	res, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:               "gpt-4o-mini",
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three four five six seven eight")},
		MaxCompletionTokens: openai.Int(3),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Choices[0].FinishReason != "length" || res.Usage.CompletionTokens > 3 {
		t.Errorf("finish %q, completion tokens %d", res.Choices[0].FinishReason, res.Usage.CompletionTokens)
	}
}

func TestOpenAISDKTools(t *testing.T) {
	o := NewOpenAI(OpenAIConfig{APIKeys: []string{openAIKey}})
	client, _ := newOpenAIClient(t, o, openAIKey)
	ctx := context.Background()
	tools := []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_weather",
		Parameters: openai.FunctionParameters{
			"type":       "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}, "days": map[string]any{"type": "integer"}},
			"required":   []string{"city", "days"},
		},
	})}
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Please call get_weather for Paris")},
		Tools:    tools,
	}
	res, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	calls := res.Choices[0].Message.ToolCalls
	if res.Choices[0].FinishReason != "tool_calls" || len(calls) != 1 || calls[0].Function.Name != "get_weather" {
		t.Fatalf("choice = %+v", res.Choices[0])
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(calls[0].Function.Arguments), &args); err != nil || args["city"] != "fake" || args["days"] != 1.0 {
		t.Errorf("arguments %q: %v", calls[0].Function.Arguments, err)
	}

	// The tool result ends the loop with text.
	params.Messages = append(params.Messages, res.Choices[0].Message.ToParam(), openai.ToolMessage(`{"temp": 21}`, calls[0].ID))
	res, err = client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if res.Choices[0].FinishReason != "stop" || !strings.Contains(res.Choices[0].Message.Content, "temp") {
		t.Errorf("after tool: %+v", res.Choices[0])
	}

	// Streamed tool calls accumulate to the same call.
	params.Messages = params.Messages[:1]
	stream := client.Chat.Completions.NewStreaming(ctx, params)
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if tc, ok := acc.JustFinishedToolCall(); ok {
		t.Logf("finished tool call %s", tc.Name)
	}
	got := acc.Choices[0].Message.ToolCalls
	if len(got) != 1 || got[0].Function.Name != "get_weather" || got[0].Function.Arguments != calls[0].Function.Arguments {
		t.Errorf("streamed tool calls = %+v", got)
	}
}

func TestOpenAISDKStreaming(t *testing.T) {
	o := NewOpenAI(OpenAIConfig{APIKeys: []string{openAIKey}})
	client, _ := newOpenAIClient(t, o, openAIKey)
	stream := client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "gpt-4o-mini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a story about a fox")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	chunks := 0
	for stream.Next() {
		chunks++
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	want := "You said: Tell me a story about a fox"
	if got := acc.Choices[0].Message.Content; got != want {
		t.Errorf("content = %q, want %q", got, want)
	}
	if acc.Usage.CompletionTokens != int64(Tokens(want)) || acc.Usage.PromptTokens == 0 {
		t.Errorf("usage = %+v", acc.Usage)
	}
	if chunks < 5 {
		t.Errorf("only %d chunks", chunks)
	}
}

func TestOpenAISDKEmbeddingsAndModels(t *testing.T) {
	o := NewOpenAI(OpenAIConfig{APIKeys: []string{openAIKey}, Dimensions: 8})
	client, _ := newOpenAIClient(t, o, openAIKey)
	ctx := context.Background()
	for _, format := range []openai.EmbeddingNewParamsEncodingFormat{"", openai.EmbeddingNewParamsEncodingFormatFloat, openai.EmbeddingNewParamsEncodingFormatBase64} {
		res, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model:          "text-embedding-3-small",
			Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello world", "goodbye"}},
			EncodingFormat: format,
		})
		if err != nil {
			t.Fatalf("format %q: %v", format, err)
		}
		if len(res.Data) != 2 || len(res.Data[0].Embedding) != 8 || res.Usage.PromptTokens != int64(Tokens("hello world")+Tokens("goodbye")) {
			t.Fatalf("format %q: %+v", format, res)
		}
		if float32(res.Data[0].Embedding[0]) != vector("hello world", 8)[0] {
			t.Errorf("format %q: embedding not deterministic", format)
		}
	}
	res, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}, Dimensions: openai.Int(4),
	})
	if err != nil || len(res.Data[0].Embedding) != 4 {
		t.Fatalf("dimensions: %v %+v", err, res)
	}

	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != strings.Join(DefaultOpenAIModels, ",") {
		t.Errorf("models = %v", ids)
	}
	m, err := client.Models.Get(ctx, "gpt-4o")
	if err != nil || m.ID != "gpt-4o" || m.OwnedBy != "openai" {
		t.Errorf("get model: %v %+v", err, m)
	}
}

func TestOpenAISDKErrors(t *testing.T) {
	o := NewOpenAI(OpenAIConfig{APIKeys: []string{openAIKey}})
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}}

	bad, _ := newOpenAIClient(t, o, "sk-wrong-key-000000")
	_, err := bad.Chat.Completions.New(ctx, params)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_api_key" || apiErr.Type != "invalid_request_error" {
		t.Errorf("wrong key: %v", err)
	}

	good, _ := newOpenAIClient(t, o, openAIKey)
	params.Model = "gpt-9"
	_, err = good.Chat.Completions.New(ctx, params)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Errorf("unknown model: %v", err)
	}
}

func TestOpenAIAuthAndValidation(t *testing.T) {
	o := NewOpenAI(OpenAIConfig{APIKeys: []string{openAIKey}})
	srv := serve(t, o)
	url := srv.URL + "/v1/chat/completions"
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		code    any
	}{
		{"missing key", nil, body, 401, nil},
		{"wrong key", map[string]string{"Authorization": "Bearer sk-nope-12345678"}, body, 401, "invalid_api_key"},
		{"key in x-api-key", map[string]string{"x-api-key": openAIKey}, body, 401, nil},
		{"key in api-key", map[string]string{"api-key": openAIKey}, body, 401, nil},
		{"basic scheme", map[string]string{"Authorization": "Basic " + openAIKey}, body, 401, "invalid_api_key"},
		{"lower-case scheme", map[string]string{"Authorization": "bearer " + openAIKey}, body, 401, "invalid_api_key"},
		{"malformed body", map[string]string{"Authorization": "Bearer " + openAIKey}, `{"model":`, 400, nil},
		{"no model", map[string]string{"Authorization": "Bearer " + openAIKey}, `{"messages":[]}`, 400, nil},
		{"no messages", map[string]string{"Authorization": "Bearer " + openAIKey}, `{"model":"gpt-4o"}`, 400, "missing_required_parameter"},
		{"empty messages", map[string]string{"Authorization": "Bearer " + openAIKey}, `{"model":"gpt-4o","messages":[]}`, 400, "empty_array"},
		{"unknown model", map[string]string{"Authorization": "Bearer " + openAIKey}, `{"model":"gpt-9","messages":[]}`, 404, "model_not_found"},
		{"ok", map[string]string{"Authorization": "Bearer " + openAIKey}, body, 200, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, b := call(t, http.MethodPost, url, c.headers, c.body)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, b)
			}
			if status == 200 {
				return
			}
			if field(t, b, "error", "type") == nil || field(t, b, "error", "message") == "" || field(t, b, "error", "code") != c.code {
				t.Errorf("body %s", b)
			}
			if _, ok := field(t, b, "error").(map[string]any)["param"]; !ok {
				t.Errorf("no param in %s", b)
			}
		})
	}
	// Unknown routes are 404 in the same shape.
	status, _, b := call(t, http.MethodGet, srv.URL+"/v1/nothing", nil, "")
	if status != 404 || field(t, b, "error", "message") == "" {
		t.Errorf("unknown route: %d %s", status, b)
	}
}

func TestOpenAIBasePath(t *testing.T) {
	for _, base := range []string{"/", "/api/v1", "openai/v1/"} {
		o := NewOpenAI(OpenAIConfig{BasePath: base, Models: []string{"llama-3.1-8b"}})
		client, _ := newOpenAIClient(t, o, "any-key")
		res, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
			Model: "llama-3.1-8b", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
		})
		if err != nil || res.Choices[0].Message.Content == "" {
			t.Errorf("base %q: %v", base, err)
		}
	}
}
