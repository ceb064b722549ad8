package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider/fake"
)

// TestOpenAISDKThroughEveryProtocol drives the gateway with the official
// openai-go client, once per protocol, each upstream being its fake: plain
// chat, streaming, a tool call and, where the protocol has them,
// embeddings.
func TestOpenAISDKThroughEveryProtocol(t *testing.T) {
	sigv4 := switchyard.Credential{Name: "k", Method: switchyard.AuthAWSSigV4, Config: map[string]string{"region": "us-east-1"},
		Secrets: map[string]switchyard.Secret{"access_key_id": switchyard.NewSecret("AKIAGATEWAYTEST"),
			"secret_access_key": switchyard.NewSecret(upstreamKey)}}
	tests := []struct {
		name     string
		upstream http.Handler
		path     string
		protocol switchyard.Protocol
		cred     switchyard.Credential
		params   map[string]string
		chat     string
		embed    string
	}{
		{"openai", fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{upstreamKey}}), "/v1", switchyard.ProtocolOpenAI, apiKey(upstreamKey), nil,
			"gpt-4o-mini", "text-embedding-3-small"},
		{"azure", fake.NewAzure(fake.AzureConfig{APIKeys: []string{upstreamKey}}), "", switchyard.ProtocolAzureOpenAI, apiKey(upstreamKey),
			map[string]string{"api_version": "2024-10-21"}, "gpt-4o-mini", "text-embedding-3-small"},
		{"anthropic", fake.NewAnthropic(fake.AnthropicConfig{APIKeys: []string{upstreamKey}}), "", switchyard.ProtocolAnthropic, apiKey(upstreamKey), nil,
			fake.DefaultAnthropicModels[0], ""},
		{"ollama", fake.NewOllama(fake.OllamaConfig{}), "", switchyard.ProtocolOllama, switchyard.Credential{Name: "k", Method: switchyard.AuthNone}, nil,
			"llama3.2", "nomic-embed-text"},
		{"bedrock", fake.NewBedrock(fake.BedrockConfig{AccessKeys: map[string]string{"AKIAGATEWAYTEST": upstreamKey}}), "", switchyard.ProtocolBedrock,
			sigv4, map[string]string{"region": "us-east-1"}, fake.DefaultBedrockModels[0], ""},
		{"gemini", fake.NewGemini(fake.GeminiConfig{APIKeys: []string{upstreamKey}}), "/v1beta", switchyard.ProtocolGemini, apiKey(upstreamKey), nil,
			"gemini-2.5-flash", "gemini-embedding-001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			models := []*switchyard.Model{model(tt.chat)}
			if tt.embed != "" {
				models = append(models, model(tt.embed))
			}
			p := r.addProvider(providerSpec{slug: tt.name, protocol: tt.protocol, baseURL: r.upstream(tt.upstream) + tt.path,
				cred: tt.cred, params: tt.params, models: models})
			c := r.client(r.connect(switchyard.Connection{ProviderID: p.ID}))

			res, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: tt.chat,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello gateway")}})
			if err != nil {
				t.Fatalf("chat: %v", err)
			}
			if res.Choices[0].Message.Content != "You said: hello gateway" || res.Usage.CompletionTokens == 0 || res.Model != tt.chat {
				t.Fatalf("chat answer = %q, usage %+v, model %q", res.Choices[0].Message.Content, res.Usage, res.Model)
			}
			u := r.lastUsage()
			if u.Status != "ok" || u.OutputTokens == 0 || u.CostUSD <= 0 || u.UpstreamModel != tt.chat || u.Attempts != 1 {
				t.Fatalf("usage = %+v", u)
			}

			stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: tt.chat,
				Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream it please")},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
			acc := openai.ChatCompletionAccumulator{}
			chunks := 0
			for stream.Next() {
				acc.AddChunk(stream.Current())
				chunks++
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if acc.Choices[0].Message.Content != "You said: stream it please" || acc.Usage.CompletionTokens == 0 || chunks < 3 {
				t.Fatalf("stream gave %q in %d chunks, usage %+v", acc.Choices[0].Message.Content, chunks, acc.Usage)
			}
			if u := r.lastUsage(); !u.Stream || u.Status != "ok" || u.TTFTMS < 0 || u.OutputTokens == 0 {
				t.Fatalf("stream usage = %+v", u)
			}

			tool := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather",
				Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}},
					"required": []string{"city"}}})
			res, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: tt.chat,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("please call get_weather for Paris")},
				Tools:    []openai.ChatCompletionToolUnionParam{tool}})
			if err != nil {
				t.Fatalf("tool call: %v", err)
			}
			calls := res.Choices[0].Message.ToolCalls
			if len(calls) != 1 || calls[0].Function.Name != "get_weather" || !strings.Contains(calls[0].Function.Arguments, "city") ||
				res.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("tool call answer = %+v (finish %s)", calls, res.Choices[0].FinishReason)
			}

			if tt.embed == "" {
				return
			}
			emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: tt.embed,
				Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"one", "two"}}})
			if err != nil {
				t.Fatalf("embeddings: %v", err)
			}
			if len(emb.Data) != 2 || len(emb.Data[1].Embedding) == 0 || emb.Data[1].Index != 1 {
				t.Fatalf("embeddings = %+v", emb.Data)
			}
		})
	}
}
