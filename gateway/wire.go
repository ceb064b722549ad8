package gateway

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/switchyard/switchyard/provider"
)

// The OpenAI wire format as the gateway serves it. Only the fields below
// are read: anything else a client sends, such as api_base or base_url, is
// ignored and never reaches an upstream.

type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []wireMessage   `json:"messages"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	Tools               []wireTool      `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stop                json.RawMessage `json:"stop"`
	ResponseFormat      *wireFormat     `json:"response_format"`
	User                string          `json:"user"`
	N                   *int            `json:"n"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type wireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []wireToolCall  `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

type wirePart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL *struct {
		URL    string `json:"url"`
		Detail string `json:"detail"`
	} `json:"image_url"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type wireToolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
		Strict bool            `json:"strict"`
	} `json:"json_schema"`
}

// badRequest is a client error in the request's content; status and code
// default to 400 invalid_request.
type badRequest struct {
	param, msg string
	status     int
	code       string
}

func (e *badRequest) Error() string { return e.msg }

func invalid(param, format string, args ...any) error {
	return &badRequest{param: param, msg: fmt.Sprintf(format, args...)}
}

// toInternal translates a chat request; upstream is the model id to send.
func (r *chatRequest) toInternal(upstream string) (*provider.ChatRequest, error) {
	if len(r.Messages) == 0 {
		return nil, invalid("messages", "messages must hold at least one message")
	}
	if r.N != nil && *r.N != 1 {
		return nil, invalid("n", "only n=1 is supported")
	}
	out := &provider.ChatRequest{Model: upstream, Temperature: r.Temperature, TopP: r.TopP, User: r.User}
	switch {
	case r.MaxCompletionTokens != nil:
		out.MaxTokens = *r.MaxCompletionTokens
	case r.MaxTokens != nil:
		out.MaxTokens = *r.MaxTokens
	}
	if out.MaxTokens < 0 {
		return nil, invalid("max_tokens", "max_tokens must not be negative")
	}
	for i, m := range r.Messages {
		im, err := m.toInternal()
		if err != nil {
			if b, ok := err.(*badRequest); ok {
				b.param = fmt.Sprintf("messages[%d].%s", i, b.param)
			}
			return nil, err
		}
		out.Messages = append(out.Messages, im)
	}
	for i, t := range r.Tools {
		if t.Type != "" && t.Type != "function" {
			return nil, invalid(fmt.Sprintf("tools[%d].type", i), "only function tools are supported")
		}
		if t.Function.Name == "" {
			return nil, invalid(fmt.Sprintf("tools[%d].function.name", i), "a tool needs a name")
		}
		out.Tools = append(out.Tools, provider.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	if len(r.ToolChoice) > 0 && string(r.ToolChoice) != "null" {
		var s string
		if json.Unmarshal(r.ToolChoice, &s) == nil {
			out.ToolChoice = s
		} else {
			var named struct {
				Function struct {
					Name string `json:"name"`
				} `json:"function"`
			}
			if err := json.Unmarshal(r.ToolChoice, &named); err != nil || named.Function.Name == "" {
				return nil, invalid("tool_choice", "tool_choice must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":…}}")
			}
			out.ToolChoice = named.Function.Name
		}
	}
	if len(r.Stop) > 0 && string(r.Stop) != "null" {
		var one string
		if json.Unmarshal(r.Stop, &one) == nil {
			out.Stop = []string{one}
		} else if err := json.Unmarshal(r.Stop, &out.Stop); err != nil {
			return nil, invalid("stop", "stop must be a string or an array of strings")
		}
	}
	if f := r.ResponseFormat; f != nil && f.Type != "" && f.Type != "text" {
		rf := &provider.ResponseFormat{Type: f.Type}
		if f.Type == "json_schema" {
			if f.JSONSchema == nil {
				return nil, invalid("response_format.json_schema", "json_schema needs a schema")
			}
			rf.Name, rf.Schema, rf.Strict = f.JSONSchema.Name, f.JSONSchema.Schema, f.JSONSchema.Strict
		} else if f.Type != "json_object" {
			return nil, invalid("response_format.type", "response_format.type must be text, json_object or json_schema")
		}
		out.ResponseFormat = rf
	}
	return out, nil
}

func (m wireMessage) toInternal() (provider.Message, error) {
	out := provider.Message{Name: m.Name, ToolCallID: m.ToolCallID}
	switch m.Role {
	case "system", "developer":
		out.Role = provider.RoleSystem
	case "user":
		out.Role = provider.RoleUser
	case "assistant":
		out.Role = provider.RoleAssistant
	case "tool":
		out.Role = provider.RoleTool
	default:
		return out, invalid("role", "role must be system, developer, user, assistant or tool")
	}
	c := bytes.TrimSpace(m.Content)
	switch {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return out, invalid("content", "content is not a valid string")
		}
		out.Content = []provider.Part{{Type: provider.PartText, Text: s}}
	case c[0] == '[':
		var parts []wirePart
		if err := json.Unmarshal(c, &parts); err != nil {
			return out, invalid("content", "content must be a string or an array of parts")
		}
		for _, p := range parts {
			switch p.Type {
			case "text":
				out.Content = append(out.Content, provider.Part{Type: provider.PartText, Text: p.Text})
			case "image_url":
				if p.ImageURL == nil {
					return out, invalid("content", "an image_url part needs image_url.url")
				}
				img, err := imageFromURL(p.ImageURL.URL, p.ImageURL.Detail)
				if err != nil {
					return out, err
				}
				out.Content = append(out.Content, provider.Part{Type: provider.PartImage, Image: img})
			default:
				return out, invalid("content", "content part type %q is not supported", p.Type)
			}
		}
	default:
		return out, invalid("content", "content must be a string or an array of parts")
	}
	for _, tc := range m.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, provider.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	return out, nil
}

// imageFromURL decodes a data: URL; other URLs are passed on for protocols
// that fetch images themselves. The gateway never fetches a URL.
func imageFromURL(u, detail string) (*provider.Image, error) {
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return nil, invalid("content", "image_url.url must be a data: URL or an http(s) URL")
		}
		return &provider.Image{URL: u, Detail: detail}, nil
	}
	meta, data, ok := strings.Cut(rest, ",")
	mediaType, isB64 := strings.CutSuffix(meta, ";base64")
	if !ok || !isB64 || !strings.HasPrefix(mediaType, "image/") {
		return nil, invalid("content", "an image data URL must be data:image/<type>;base64,<data>")
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, invalid("content", "the image data URL is not valid base64")
	}
	return &provider.Image{MediaType: mediaType, Data: raw, Detail: detail}, nil
}

// Responses.

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []respChoice `json:"choices"`
	Usage             *wireUsage   `json:"usage,omitempty"`
	SystemFingerprint *string      `json:"system_fingerprint"`
}

type respChoice struct {
	Index        int          `json:"index"`
	Message      *respMessage `json:"message,omitempty"`
	Delta        *respMessage `json:"delta,omitempty"`
	FinishReason *string      `json:"finish_reason"`
	Logprobs     *struct{}    `json:"logprobs"`
}

type respMessage struct {
	Role      string         `json:"role,omitempty"`
	Content   *string        `json:"content,omitempty"`
	Refusal   *string        `json:"refusal,omitempty"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details,omitempty"`
}

func usageOut(u provider.Usage) *wireUsage {
	w := &wireUsage{PromptTokens: u.InputTokens, CompletionTokens: u.OutputTokens, TotalTokens: u.InputTokens + u.OutputTokens}
	if u.CachedInputTokens > 0 {
		w.PromptTokensDetails = &struct {
			CachedTokens int `json:"cached_tokens"`
		}{u.CachedInputTokens}
	}
	if u.ReasoningTokens > 0 {
		w.CompletionTokensDetails = &struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		}{u.ReasoningTokens}
	}
	return w
}

func finishOut(f provider.FinishReason) *string {
	if f == "" {
		return nil
	}
	s := string(f)
	return &s
}

func toolCallsOut(calls []provider.ToolCall) []wireToolCall {
	out := make([]wireToolCall, len(calls))
	for i, c := range calls {
		out[i].ID, out[i].Type = c.ID, "function"
		out[i].Function.Name, out[i].Function.Arguments = c.Name, c.Arguments
	}
	return out
}

func responseOut(res *provider.ChatResponse, id, model string, created int64) *chatResponse {
	text := res.Message.Text()
	msg := &respMessage{Role: "assistant", ToolCalls: toolCallsOut(res.Message.ToolCalls)}
	if text != "" || len(msg.ToolCalls) == 0 {
		msg.Content = &text
	}
	finish := res.FinishReason
	if finish == "" {
		finish = provider.FinishStop
	}
	return &chatResponse{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []respChoice{{Message: msg, FinishReason: finishOut(finish)}}, Usage: usageOut(res.Usage)}
}

// Errors, in OpenAI's shape.

type wireError struct {
	Error wireErrorBody `json:"error"`
}

type wireErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}
