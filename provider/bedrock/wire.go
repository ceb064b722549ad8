package bedrock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/provider"
)

// The Converse API's JSON, as much of it as Switchyard uses.

type converseRequest struct {
	Messages        []wireMessage    `json:"messages"`
	System          []systemBlock    `json:"system,omitempty"`
	InferenceConfig *inferenceConfig `json:"inferenceConfig,omitempty"`
	ToolConfig      *toolConfig      `json:"toolConfig,omitempty"`
}

type systemBlock struct {
	Text string `json:"text"`
}

type wireMessage struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

// block is a content block: exactly one member is set.
type block struct {
	Text       *string     `json:"text,omitempty"`
	Image      *imageBlock `json:"image,omitempty"`
	ToolUse    *toolUse    `json:"toolUse,omitempty"`
	ToolResult *toolResult `json:"toolResult,omitempty"`
}

type imageBlock struct {
	Format string `json:"format"`
	Source struct {
		Bytes []byte `json:"bytes"` // base64 in JSON
	} `json:"source"`
}

type toolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type toolResult struct {
	ToolUseID string              `json:"toolUseId"`
	Content   []toolResultContent `json:"content"`
}

type toolResultContent struct {
	Text string `json:"text"`
}

type inferenceConfig struct {
	MaxTokens     int      `json:"maxTokens,omitempty"`
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"topP,omitempty"`
	StopSequences []string `json:"stopSequences,omitempty"`
}

type toolConfig struct {
	Tools      []wireTool  `json:"tools"`
	ToolChoice *toolChoice `json:"toolChoice,omitempty"`
}

type wireTool struct {
	ToolSpec toolSpec `json:"toolSpec"`
}

type toolSpec struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	InputSchema struct {
		JSON json.RawMessage `json:"json"`
	} `json:"inputSchema"`
}

type toolChoice struct {
	Auto *struct{} `json:"auto,omitempty"`
	Any  *struct{} `json:"any,omitempty"`
	Tool *struct {
		Name string `json:"name"`
	} `json:"tool,omitempty"`
}

type converseResponse struct {
	Output struct {
		Message *struct {
			Role    string          `json:"role"`
			Content []responseBlock `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string     `json:"stopReason"`
	Usage      *wireUsage `json:"usage"`
}

// responseBlock is an answer's content block; reasoning and other blocks
// are skipped.
type responseBlock struct {
	Text    *string  `json:"text"`
	ToolUse *toolUse `json:"toolUse"`
}

type wireUsage struct {
	InputTokens           int `json:"inputTokens"`
	OutputTokens          int `json:"outputTokens"`
	CacheReadInputTokens  int `json:"cacheReadInputTokens"`
	CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
}

// usage follows the internal convention: InputTokens counts every prompt
// token, the cached reads and writes included, which Bedrock counts apart.
func (u *wireUsage) usage() provider.Usage {
	if u == nil {
		return provider.Usage{}
	}
	return provider.Usage{
		InputTokens:       u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens,
		OutputTokens:      u.OutputTokens,
		CachedInputTokens: u.CacheReadInputTokens,
		CacheWriteTokens:  u.CacheWriteInputTokens,
	}
}

// finishReason maps Bedrock's stopReason.
func finishReason(s string) provider.FinishReason {
	switch s {
	case "max_tokens", "model_context_window_exceeded":
		return provider.FinishLength
	case "tool_use":
		return provider.FinishToolCalls
	case "guardrail_intervened", "content_filtered":
		return provider.FinishContentFilter
	}
	return provider.FinishStop // end_turn, stop_sequence
}

// imageFormats maps media types to Bedrock's image formats.
var imageFormats = map[string]string{
	"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp",
}

func invalid(format string, args ...any) error {
	return provider.Errorf(provider.CodeBadRequest, nil, format, args...)
}

// toConverse translates a chat request. System messages go to "system";
// tool messages become toolResult blocks of a user message; consecutive
// messages of one role are merged, since Bedrock wants the roles to
// alternate.
func toConverse(req *provider.ChatRequest) (*converseRequest, error) {
	out := &converseRequest{}
	used := map[string]bool{} // tool names in the history
	add := func(role string, blocks ...block) {
		if len(blocks) == 0 {
			return
		}
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			return
		}
		out.Messages = append(out.Messages, wireMessage{Role: role, Content: blocks})
	}
	for i, m := range req.Messages {
		switch m.Role {
		case provider.RoleSystem:
			if t := m.Text(); t != "" {
				out.System = append(out.System, systemBlock{Text: t})
			}
		case provider.RoleUser, provider.RoleAssistant:
			blocks, err := contentBlocks(m.Content, i)
			if err != nil {
				return nil, err
			}
			if m.Role == provider.RoleAssistant {
				for _, c := range m.ToolCalls {
					input := json.RawMessage(c.Arguments)
					if strings.TrimSpace(c.Arguments) == "" {
						input = json.RawMessage("{}")
					}
					var compact bytes.Buffer
					if err := json.Compact(&compact, input); err != nil || compact.Bytes()[0] != '{' {
						return nil, invalid("messages[%d]: the arguments of tool call %q are not a JSON object", i, c.ID)
					}
					blocks = append(blocks, block{ToolUse: &toolUse{ToolUseID: c.ID, Name: c.Name, Input: compact.Bytes()}})
					used[c.Name] = true
				}
			}
			add(string(m.Role), blocks...)
		case provider.RoleTool:
			if m.ToolCallID == "" {
				return nil, invalid("messages[%d]: a tool message needs the id of the call it answers", i)
			}
			add("user", block{ToolResult: &toolResult{ToolUseID: m.ToolCallID, Content: []toolResultContent{{Text: m.Text()}}}})
		default:
			return nil, invalid("messages[%d]: unknown role %q", i, m.Role)
		}
	}

	ic := inferenceConfig{MaxTokens: req.MaxTokens, Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.Stop}
	if ic.MaxTokens > 0 || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		out.InferenceConfig = &ic
	}

	tc, err := tools(req, used)
	if err != nil {
		return nil, err
	}
	out.ToolConfig = tc
	return out, nil
}

func contentBlocks(parts []provider.Part, i int) ([]block, error) {
	var blocks []block
	for _, p := range parts {
		switch p.Type {
		case provider.PartText:
			if p.Text != "" { // Bedrock refuses blank text blocks
				blocks = append(blocks, block{Text: &p.Text})
			}
		case provider.PartImage:
			if p.Image == nil || len(p.Image.Data) == 0 {
				return nil, invalid("messages[%d]: Bedrock takes images as bytes (a data URL), not as a URL to fetch", i)
			}
			format, ok := imageFormats[strings.ToLower(p.Image.MediaType)]
			if !ok {
				return nil, invalid("messages[%d]: Bedrock takes png, jpeg, gif and webp images, not %q", i, p.Image.MediaType)
			}
			img := &imageBlock{Format: format}
			img.Source.Bytes = p.Image.Data
			blocks = append(blocks, block{Image: img})
		default:
			return nil, invalid("messages[%d]: unsupported content part %q", i, p.Type)
		}
	}
	return blocks, nil
}

// tools builds toolConfig. Bedrock refuses toolUse and toolResult blocks
// without one, so tools named in the history but not offered get a stub
// spec; a "none" choice, which Bedrock lacks, drops the tools unless the
// history needs them.
func tools(req *provider.ChatRequest, used map[string]bool) (*toolConfig, error) {
	offered := req.Tools
	if req.ToolChoice == "none" {
		offered = nil
	}
	tc := &toolConfig{}
	names := map[string]bool{}
	for _, t := range offered {
		if t.Name == "" {
			return nil, invalid("a tool has no name")
		}
		spec := toolSpec{Name: t.Name, Description: t.Description}
		spec.InputSchema.JSON = t.Parameters
		if len(bytes.TrimSpace(t.Parameters)) == 0 || string(bytes.TrimSpace(t.Parameters)) == "null" {
			spec.InputSchema.JSON = json.RawMessage(`{"type":"object","properties":{}}`)
		} else if !json.Valid(t.Parameters) {
			return nil, invalid("the parameters of tool %q are not JSON", t.Name)
		}
		tc.Tools = append(tc.Tools, wireTool{ToolSpec: spec})
		names[t.Name] = true
	}
	var stubs []string
	for name := range used {
		if !names[name] {
			stubs = append(stubs, name)
		}
	}
	slices.Sort(stubs)
	for _, name := range stubs {
		spec := toolSpec{Name: name}
		spec.InputSchema.JSON = json.RawMessage(`{"type":"object"}`)
		tc.Tools = append(tc.Tools, wireTool{ToolSpec: spec})
	}
	if len(tc.Tools) == 0 {
		return nil, nil
	}
	if len(offered) > 0 {
		switch req.ToolChoice {
		case "":
		case "auto":
			tc.ToolChoice = &toolChoice{Auto: &struct{}{}}
		case "required", "any":
			tc.ToolChoice = &toolChoice{Any: &struct{}{}}
		default:
			if !names[req.ToolChoice] {
				return nil, invalid("the tool choice %q names no offered tool", req.ToolChoice)
			}
			tc.ToolChoice = &toolChoice{Tool: &struct {
				Name string `json:"name"`
			}{Name: req.ToolChoice}}
		}
	}
	return tc, nil
}

// fromConverse translates an answer.
func fromConverse(res *converseResponse, model, id string) (*provider.ChatResponse, error) {
	if res.Output.Message == nil {
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the answer has no output message")
	}
	out := &provider.ChatResponse{ID: id, Model: model, FinishReason: finishReason(res.StopReason), Usage: res.Usage.usage()}
	out.Message.Role = provider.RoleAssistant
	var text strings.Builder
	for _, b := range res.Output.Message.Content {
		switch {
		case b.Text != nil:
			text.WriteString(*b.Text)
		case b.ToolUse != nil:
			args := "{}"
			if len(b.ToolUse.Input) > 0 {
				var c bytes.Buffer
				if err := json.Compact(&c, b.ToolUse.Input); err != nil {
					return nil, provider.Errorf(provider.CodeBadResponse, err, "tool use %q has input that is not JSON", b.ToolUse.ToolUseID)
				}
				args = c.String()
			}
			out.Message.ToolCalls = append(out.Message.ToolCalls, provider.ToolCall{ID: b.ToolUse.ToolUseID, Name: b.ToolUse.Name, Arguments: args})
		}
	}
	if text.Len() > 0 {
		out.Message.Content = []provider.Part{{Type: provider.PartText, Text: text.String()}}
	}
	return out, nil
}

// escapeModel escapes a model id for the URL path as the AWS SDK does:
// every byte but the unreserved ones, so that ARNs ("/", ":") and ids with
// ":" stay one segment.
func escapeModel(id string) string {
	var b strings.Builder
	for _, c := range []byte(id) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
