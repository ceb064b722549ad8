package openai

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	json "github.com/goccy/go-json"

	"github.com/switchyard/switchyard/provider"
)

// Fields that bound the answer's length.
const (
	// MaxCompletionTokens is OpenAI's field (required by its reasoning
	// models; max_tokens is deprecated there).
	MaxCompletionTokens = "max_completion_tokens"
	// MaxTokens is the field every OpenAI-compatible server accepts.
	MaxTokens = "max_tokens"
)

// EncodeOptions say how a chat request is put on the wire.
type EncodeOptions struct {
	// OmitModel leaves "model" out (Azure names the deployment in the path).
	OmitModel bool
	// MaxTokensField is MaxCompletionTokens or MaxTokens (the default).
	MaxTokensField string
	// Stream asks for server-sent events.
	Stream bool
	// StreamUsage adds stream_options.include_usage to a streamed request.
	StreamUsage bool
}

type chatRequest struct {
	Model               string          `json:"model,omitempty"`
	Messages            []message       `json:"messages"`
	Tools               []tool          `json:"tools,omitempty"`
	ToolChoice          any             `json:"tool_choice,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	ResponseFormat      *responseFormat `json:"response_format,omitempty"`
	User                string          `json:"user,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *streamOptions  `json:"stream_options,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type message struct {
	Role string `json:"role"`
	// Content is a string, an array of parts, or null (an assistant
	// message that only calls tools).
	Content    any        `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type part struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
}

type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type tool struct {
	Type     string   `json:"type"`
	Function function `json:"function"`
}

type function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type namedChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema,omitempty"`
	Strict bool            `json:"strict,omitempty"`
}

// EncodeChat returns the Chat Completions body of req.
func EncodeChat(req *provider.ChatRequest, opts EncodeOptions) ([]byte, error) {
	w := chatRequest{Temperature: req.Temperature, TopP: req.TopP, Stop: req.Stop, User: req.User, Stream: opts.Stream}
	if !opts.OmitModel {
		w.Model = req.Model
	}
	if opts.Stream && opts.StreamUsage {
		w.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	if req.MaxTokens > 0 {
		if opts.MaxTokensField == MaxCompletionTokens {
			w.MaxCompletionTokens = req.MaxTokens
		} else {
			w.MaxTokens = req.MaxTokens
		}
	}
	w.Messages = make([]message, 0, len(req.Messages))
	for i, m := range req.Messages {
		wm, err := encodeMessage(m)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		w.Messages = append(w.Messages, wm)
	}
	for _, t := range req.Tools {
		w.Tools = append(w.Tools, tool{Type: "function", Function: function{Name: t.Name, Description: t.Description, Parameters: t.Parameters}})
	}
	switch req.ToolChoice {
	case "":
	case "auto", "none", "required":
		w.ToolChoice = req.ToolChoice
	default:
		c := namedChoice{Type: "function"}
		c.Function.Name = req.ToolChoice
		w.ToolChoice = c
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			w.ResponseFormat = &responseFormat{Type: "json_object"}
		case "json_schema":
			name := rf.Name
			if name == "" {
				name = "response"
			}
			w.ResponseFormat = &responseFormat{Type: "json_schema", JSONSchema: &jsonSchema{Name: name, Schema: rf.Schema, Strict: rf.Strict}}
		default:
			return nil, fmt.Errorf("unknown response format %q", rf.Type)
		}
	}
	return json.Marshal(w)
}

func encodeMessage(m provider.Message) (message, error) {
	wm := message{Role: string(m.Role), Name: m.Name}
	switch m.Role {
	case provider.RoleSystem, provider.RoleTool:
		// These take text only.
		for _, p := range m.Content {
			if p.Type != provider.PartText {
				return wm, fmt.Errorf("a %s message takes text only", m.Role)
			}
		}
		wm.Content = m.Text()
		if m.Role == provider.RoleTool {
			wm.ToolCallID, wm.Name = m.ToolCallID, ""
		}
	case provider.RoleAssistant:
		for _, c := range m.ToolCalls {
			wm.ToolCalls = append(wm.ToolCalls, toolCall{ID: c.ID, Type: "function", Function: functionCall{Name: c.Name, Arguments: c.Arguments}})
		}
		if text := m.Text(); text != "" || len(m.ToolCalls) == 0 {
			wm.Content = text
		}
	case provider.RoleUser:
		c, err := encodeContent(m.Content)
		if err != nil {
			return wm, err
		}
		wm.Content = c
	default:
		return wm, fmt.Errorf("unknown role %q", m.Role)
	}
	return wm, nil
}

// encodeContent gives text alone as a string and anything else as parts.
func encodeContent(parts []provider.Part) (any, error) {
	if len(parts) == 1 && parts[0].Type == provider.PartText {
		return parts[0].Text, nil
	}
	out := make([]part, 0, len(parts))
	for _, p := range parts {
		switch p.Type {
		case provider.PartText:
			out = append(out, part{Type: "text", Text: p.Text})
		case provider.PartImage:
			u, err := ImageURL(p.Image)
			if err != nil {
				return nil, err
			}
			out = append(out, part{Type: "image_url", ImageURL: &imageURL{URL: u, Detail: p.Image.Detail}})
		default:
			return nil, fmt.Errorf("unknown part type %q", p.Type)
		}
	}
	return out, nil
}

// ImageURL returns an image as a data URL built from its bytes, or its
// remote URL.
func ImageURL(img *provider.Image) (string, error) {
	switch {
	case img == nil:
		return "", fmt.Errorf("an image part has no image")
	case len(img.Data) > 0:
		if img.MediaType == "" {
			return "", fmt.Errorf("an image has no media type")
		}
		return "data:" + img.MediaType + ";base64," + base64.StdEncoding.EncodeToString(img.Data), nil
	case img.URL != "":
		return img.URL, nil
	}
	return "", fmt.Errorf("an image has neither data nor a URL")
}

type chatResponse struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Index        int     `json:"index"`
		Message      respMsg `json:"message"`
		Delta        respMsg `json:"delta"`
		FinishReason string  `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
	// Error is sent inside a stream by some compatible servers.
	Error json.RawMessage `json:"error"`
}

type respMsg struct {
	Role      string  `json:"role"`
	Content   *string `json:"content"`
	Refusal   *string `json:"refusal"`
	ToolCalls []struct {
		Index    *int   `json:"index"`
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// internal returns the usage in the internal format: InputTokens counts
// every prompt token (cached ones included), CachedInputTokens the cached
// part of them; OutputTokens includes ReasoningTokens.
func (u *usage) internal() provider.Usage {
	out := provider.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}
	if d := u.PromptTokensDetails; d != nil {
		out.CachedInputTokens = d.CachedTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	return out
}

// FinishReason maps an OpenAI finish reason to the internal one; unknown
// reasons pass through.
func FinishReason(s string) provider.FinishReason {
	switch s {
	case "stop", "end_turn", "stop_sequence", "eos":
		return provider.FinishStop
	case "length", "max_tokens", "model_length":
		return provider.FinishLength
	case "tool_calls", "function_call", "tool_use":
		return provider.FinishToolCalls
	case "content_filter":
		return provider.FinishContentFilter
	}
	return provider.FinishReason(s)
}

// DecodeChat reads a Chat Completions answer.
func DecodeChat(body []byte) (*provider.ChatResponse, error) {
	var r chatResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	if len(r.Choices) == 0 {
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the provider's answer has no choices")
	}
	c := r.Choices[0]
	out := &provider.ChatResponse{ID: r.ID, Model: r.Model, FinishReason: FinishReason(c.FinishReason),
		Message: provider.Message{Role: provider.RoleAssistant}}
	if r.Created > 0 {
		out.Created = time.Unix(r.Created, 0).UTC()
	}
	text := ""
	if c.Message.Content != nil {
		text = *c.Message.Content
	} else if c.Message.Refusal != nil {
		text = *c.Message.Refusal
	}
	if text != "" {
		out.Message.Content = []provider.Part{{Type: provider.PartText, Text: text}}
	}
	for _, tc := range c.Message.ToolCalls {
		out.Message.ToolCalls = append(out.Message.ToolCalls, provider.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	if r.Usage != nil {
		out.Usage = r.Usage.internal()
	}
	return out, nil
}

type embedRequest struct {
	Model      string   `json:"model,omitempty"`
	Input      []string `json:"input"`
	Dimensions int      `json:"dimensions,omitempty"`
}

// EncodeEmbed returns the embeddings body of req.
func EncodeEmbed(req *provider.EmbedRequest, omitModel bool) ([]byte, error) {
	w := embedRequest{Model: req.Model, Input: req.Input, Dimensions: req.Dimensions}
	if omitModel {
		w.Model = ""
	}
	if w.Input == nil {
		w.Input = []string{}
	}
	return json.Marshal(w)
}

// DecodeEmbed reads an embeddings answer; the vectors come back in input
// order whatever order the provider sent them in.
func DecodeEmbed(body []byte, inputs int) (*provider.EmbedResponse, error) {
	var r struct {
		Model string `json:"model"`
		Data  []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
		Usage *usage `json:"usage"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	if len(r.Data) != inputs {
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the provider returned %d vectors for %d inputs", len(r.Data), inputs)
	}
	sort.SliceStable(r.Data, func(i, j int) bool { return r.Data[i].Index < r.Data[j].Index })
	out := &provider.EmbedResponse{Model: r.Model, Vectors: make([][]float32, len(r.Data))}
	for i, d := range r.Data {
		out.Vectors[i] = d.Embedding
	}
	if r.Usage != nil {
		out.Usage = provider.Usage{InputTokens: r.Usage.PromptTokens}
	}
	return out, nil
}

// ParseError reads OpenAI's {"error":{"message","type","code"}} and the
// shapes OpenAI-compatible servers use instead: {"error":"text"},
// {"message","type","code"} at the top level (Mistral) and {"detail"}
// (FastAPI servers). The type returned is the error's code when it has one
// (invalid_api_key, rate_limit_exceeded, …), else its type.
func ParseError(_ int, body []byte) (typ, message string) {
	var r struct {
		Error   json.RawMessage `json:"error"`
		Message any             `json:"message"`
		Type    string          `json:"type"`
		Code    any             `json:"code"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(bytes.TrimSpace(body), &r) != nil {
		return "", ""
	}
	if len(r.Error) > 0 {
		var s string
		if json.Unmarshal(r.Error, &s) == nil {
			return "", s
		}
		var e struct {
			Message any    `json:"message"`
			Type    string `json:"type"`
			Code    any    `json:"code"`
		}
		if json.Unmarshal(r.Error, &e) == nil {
			return codeOr(e.Code, e.Type), text(e.Message)
		}
	}
	if m := text(r.Message); m != "" {
		return codeOr(r.Code, r.Type), m
	}
	return "", text(r.Detail)
}

func codeOr(code any, typ string) string {
	switch c := code.(type) {
	case string:
		if c != "" {
			return c
		}
	case float64:
		return fmt.Sprint(c)
	}
	return typ
}

// text reads a message that is a string, or anything else as JSON.
func text(v any) string {
	switch m := v.(type) {
	case nil:
		return ""
	case string:
		return m
	}
	b, _ := json.Marshal(v)
	return string(b)
}
