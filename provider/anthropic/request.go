package anthropic

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/provider"
)

// The Messages API request, as much of it as the internal format uses.
type messagesRequest struct {
	Model         string      `json:"model"`
	MaxTokens     int         `json:"max_tokens"`
	System        string      `json:"system,omitempty"`
	Messages      []message   `json:"messages"`
	Tools         []tool      `json:"tools,omitempty"`
	ToolChoice    *toolChoice `json:"tool_choice,omitempty"`
	Temperature   *float64    `json:"temperature,omitempty"`
	TopP          *float64    `json:"top_p,omitempty"`
	StopSequences []string    `json:"stop_sequences,omitempty"`
	Metadata      *metadata   `json:"metadata,omitempty"`
	Stream        bool        `json:"stream,omitempty"`
}

type message struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

// block is a request content block: text, image, tool_use or tool_result.
type block struct {
	Type   string       `json:"type"`
	Text   string       `json:"text,omitempty"`
	Source *imageSource `json:"source,omitempty"`
	// tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// tool_result: a string, or text and image blocks.
	ToolUseID string `json:"tool_use_id,omitempty"`
	Content   any    `json:"content,omitempty"`
}

type imageSource struct {
	Type      string `json:"type"` // base64 or url
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

type toolChoice struct {
	Type string `json:"type"` // auto, any, none, tool
	Name string `json:"name,omitempty"`
}

type metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// emptySchema is the input schema of a tool that declares no parameters
// (Anthropic requires one).
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// anyObjectSchema is the schema of the answer tool for json_object output.
var anyObjectSchema = json.RawMessage(`{"type":"object","additionalProperties":true}`)

// jsonToolDescription tells the model what the answer tool is for.
const jsonToolDescription = "Give your final answer by calling this tool; its input is the answer as JSON matching the schema."

// translation is a request in the Messages API's format, and the name of
// the tool that carries JSON output ("" when the request asks for none).
type translation struct {
	req      messagesRequest
	jsonTool string
}

// translate turns an internal request into a Messages API request.
//
// System messages, wherever they are, become the top-level system prompt
// (joined by blank lines). Tool messages become tool_result blocks of a user
// message. Consecutive messages of the same role are merged into one, as the
// API requires user and assistant turns to alternate; tool_result blocks go
// first in a merged user message, as the API also requires. Empty text parts
// are dropped (the API refuses them), and so are messages left empty.
//
// JSON output has no flag in the Messages API; it is asked for as a forced
// call of an extra tool named after the schema, whose input is the answer
// (see jsonOutput).
func translate(in *provider.ChatRequest) (translation, error) {
	out := messagesRequest{
		Model:         in.Model,
		MaxTokens:     in.MaxTokens,
		Temperature:   in.Temperature,
		TopP:          in.TopP,
		StopSequences: in.Stop,
	}
	if out.MaxTokens <= 0 {
		out.MaxTokens = provider.DefaultMaxTokens
	}
	if in.User != "" {
		out.Metadata = &metadata{UserID: in.User}
	}

	var system []string
	for _, m := range in.Messages {
		var msg message
		switch m.Role {
		case provider.RoleSystem:
			if t := m.Text(); strings.TrimSpace(t) != "" {
				system = append(system, t)
			}
			continue
		case provider.RoleUser:
			msg = message{Role: "user", Content: contentBlocks(m.Content)}
		case provider.RoleAssistant:
			msg = message{Role: "assistant", Content: contentBlocks(m.Content)}
			for _, c := range m.ToolCalls {
				input, err := toolInput(c)
				if err != nil {
					return translation{}, err
				}
				msg.Content = append(msg.Content, block{Type: "tool_use", ID: c.ID, Name: c.Name, Input: input})
			}
		case provider.RoleTool:
			msg = message{Role: "user", Content: []block{toolResult(m)}}
		default:
			return translation{}, provider.Errorf(provider.CodeBadRequest, nil, "message role %q is not supported", m.Role)
		}
		if len(msg.Content) == 0 {
			continue
		}
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == msg.Role {
			last := &out.Messages[n-1]
			last.Content = append(last.Content, msg.Content...)
			continue
		}
		out.Messages = append(out.Messages, msg)
	}
	for i := range out.Messages {
		if out.Messages[i].Role == "user" {
			// Stable: tool results first, in order, then the rest.
			slices.SortStableFunc(out.Messages[i].Content, func(a, b block) int {
				return toolResultRank(a) - toolResultRank(b)
			})
		}
	}
	if out.Messages == nil {
		out.Messages = []message{}
	}
	out.System = strings.Join(system, "\n\n")

	for _, t := range in.Tools {
		schema := t.Parameters
		if len(schema) == 0 || string(schema) == "null" {
			schema = emptySchema
		}
		out.Tools = append(out.Tools, tool{Name: t.Name, Description: t.Description, InputSchema: schema})
	}
	if len(out.Tools) > 0 {
		switch in.ToolChoice {
		case "":
		case "auto":
			out.ToolChoice = &toolChoice{Type: "auto"}
		case "required":
			out.ToolChoice = &toolChoice{Type: "any"}
		case "none":
			out.ToolChoice = &toolChoice{Type: "none"}
		default:
			out.ToolChoice = &toolChoice{Type: "tool", Name: in.ToolChoice}
		}
	}

	tr := translation{req: out}
	if rf := in.ResponseFormat; rf != nil && (rf.Type == "json_schema" || rf.Type == "json_object") {
		jsonOutput(&tr, in, rf)
	}
	return tr, nil
}

// jsonOutput asks for JSON output the way the Messages API allows: an extra
// tool whose input schema is the requested schema (any object for
// json_object), named after the schema, which the model is made to call.
// The answer is that call's input.
//
// With no tools of the request's own, or tool choice "none", the answer tool
// is forced ({type: tool}). With tools of its own and a choice naming one of
// them, that choice stands; otherwise the model must call some tool
// ({type: any}): one of the request's, or the answer tool.
func jsonOutput(tr *translation, in *provider.ChatRequest, rf *provider.ResponseFormat) {
	schema := rf.Schema
	if rf.Type == "json_object" || len(schema) == 0 || string(schema) == "null" {
		schema = anyObjectSchema
	}
	name := toolName(rf.Name)
	for slices.ContainsFunc(tr.req.Tools, func(t tool) bool { return t.Name == name }) {
		name = toolName(name + "_json")
	}
	own := len(tr.req.Tools) > 0
	tr.req.Tools = append(tr.req.Tools, tool{Name: name, Description: jsonToolDescription, InputSchema: schema})
	tr.jsonTool = name
	switch {
	case !own || in.ToolChoice == "none":
		tr.req.ToolChoice = &toolChoice{Type: "tool", Name: name}
	case tr.req.ToolChoice != nil && tr.req.ToolChoice.Type == "tool":
	default:
		tr.req.ToolChoice = &toolChoice{Type: "any"}
	}
}

// toolName makes a valid tool name (^[a-zA-Z0-9_-]{1,64}$) of a schema's
// name; "json_output" when it has none.
func toolName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "json_output"
	}
	if len(b) > 64 {
		b = b[len(b)-64:]
	}
	return string(b)
}

func toolResultRank(b block) int {
	if b.Type == "tool_result" {
		return 0
	}
	return 1
}

// contentBlocks translates text and image parts; empty text is dropped.
func contentBlocks(parts []provider.Part) []block {
	var out []block
	for _, p := range parts {
		switch p.Type {
		case provider.PartText:
			if p.Text != "" {
				out = append(out, block{Type: "text", Text: p.Text})
			}
		case provider.PartImage:
			if p.Image != nil {
				out = append(out, imageBlock(p.Image))
			}
		}
	}
	return out
}

// imageBlock is a base64 image, or a URL image for a remote URL (which
// Anthropic fetches itself).
func imageBlock(img *provider.Image) block {
	if len(img.Data) == 0 && img.URL != "" {
		return block{Type: "image", Source: &imageSource{Type: "url", URL: img.URL}}
	}
	mt := img.MediaType
	if mt == "" {
		mt = http.DetectContentType(img.Data)
	}
	return block{Type: "image", Source: &imageSource{Type: "base64", MediaType: mt,
		Data: base64.StdEncoding.EncodeToString(img.Data)}}
}

// toolInput is a call's arguments as the object tool_use takes; no
// arguments are an empty object.
func toolInput(c provider.ToolCall) (json.RawMessage, error) {
	args := strings.TrimSpace(c.Arguments)
	if args == "" {
		return json.RawMessage(`{}`), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(args), &obj); err != nil || obj == nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "the arguments of tool call %q are not a JSON object", c.ID)
	}
	return json.RawMessage(args), nil
}

// toolResult is a tool message as a tool_result block: its text as a
// string, or text and image blocks when it holds images.
func toolResult(m provider.Message) block {
	b := block{Type: "tool_result", ToolUseID: m.ToolCallID}
	blocks := contentBlocks(m.Content)
	if slices.ContainsFunc(blocks, func(b block) bool { return b.Type == "image" }) {
		b.Content = blocks
	} else if t := m.Text(); t != "" {
		b.Content = t
	}
	return b
}
