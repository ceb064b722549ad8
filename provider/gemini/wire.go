package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/provider"
)

// The GenerateContent JSON, as much of it as Switchyard uses (the Gemini
// API and Vertex AI share it).

type request struct {
	Contents          []content         `json:"contents"`
	SystemInstruction *content          `json:"systemInstruction,omitempty"`
	Tools             []tool            `json:"tools,omitempty"`
	ToolConfig        *toolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

// part is one piece of content: exactly one of the data members is set.
type part struct {
	Text             *string           `json:"text,omitempty"`
	InlineData       *blob             `json:"inlineData,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
	// Thought marks the model's thought summaries, which are not answer
	// text.
	Thought          bool   `json:"thought,omitempty"`
	ThoughtSignature string `json:"thoughtSignature,omitempty"`
}

type blob struct {
	MimeType string `json:"mimeType"`
	Data     []byte `json:"data"` // base64 in JSON
}

type functionCall struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type functionResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type tool struct {
	FunctionDeclarations []functionDeclaration `json:"functionDeclarations"`
}

type functionDeclaration struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type toolConfig struct {
	FunctionCallingConfig functionCallingConfig `json:"functionCallingConfig"`
}

type functionCallingConfig struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type generationConfig struct {
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"topP,omitempty"`
	MaxOutputTokens  int             `json:"maxOutputTokens,omitempty"`
	StopSequences    []string        `json:"stopSequences,omitempty"`
	ResponseMimeType string          `json:"responseMimeType,omitempty"`
	ResponseSchema   json.RawMessage `json:"responseSchema,omitempty"`
}

// response is a GenerateContentResponse, also one event of a stream.
type response struct {
	Candidates     []candidate `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	UsageMetadata *usageMetadata `json:"usageMetadata"`
	ModelVersion  string         `json:"modelVersion"`
	ResponseID    string         `json:"responseId"`
	// Error is set on an error event of a stream.
	Error *googleError `json:"error"`
}

type candidate struct {
	Content      *content `json:"content"`
	FinishReason string   `json:"finishReason"`
}

type usageMetadata struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
}

// usage follows the internal convention: promptTokenCount already counts
// the cached tokens (cachedContentTokenCount is a part of it) and the
// prompt of built-in tools is added to it; OutputTokens adds the thoughts,
// which Gemini counts apart from candidatesTokenCount, and ReasoningTokens
// is that part.
func (u *usageMetadata) usage() provider.Usage {
	if u == nil {
		return provider.Usage{}
	}
	return provider.Usage{
		InputTokens:       u.PromptTokenCount + u.ToolUsePromptTokenCount,
		OutputTokens:      u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedInputTokens: u.CachedContentTokenCount,
		ReasoningTokens:   u.ThoughtsTokenCount,
	}
}

// finishReason maps Gemini's finish reasons; calls says whether the answer
// holds function calls (Gemini says STOP for them).
func finishReason(reason string, calls bool) provider.FinishReason {
	switch reason {
	case "MAX_TOKENS":
		return provider.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return provider.FinishContentFilter
	}
	if calls {
		return provider.FinishToolCalls
	}
	return provider.FinishStop // STOP, LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, …
}

// callID is the id given to the n-th function call of an answer: Gemini's
// calls have none, and results are matched to calls by name.
func callID(n int) string { return "call_" + strconv.Itoa(n) }

// SentinelSignature is the thought signature sent with replayed function
// calls. Gemini 3 refuses a history whose function calls lack the
// signature the model gave them, and the internal format has no place to
// keep it; Google documents this value for histories whose signatures are
// lost (the model then reasons without its earlier thoughts).
const SentinelSignature = "skip_thought_signature_validator"

func invalid(format string, args ...any) *provider.Error {
	return provider.Errorf(provider.CodeBadRequest, nil, format, args...)
}

func textPart(s string) part { return part{Text: &s} }

// translate turns a chat request into a GenerateContent body.
func translate(req *provider.ChatRequest) (*request, error) {
	out := &request{}
	// names maps call ids to function names, the latest call of an id
	// winning (ids repeat across answers: call_0, call_1, …).
	names := map[string]string{}
	add := func(role string, parts []part) {
		if len(parts) == 0 {
			return
		}
		if n := len(out.Contents); n > 0 && out.Contents[n-1].Role == role {
			out.Contents[n-1].Parts = append(out.Contents[n-1].Parts, parts...)
			return
		}
		out.Contents = append(out.Contents, content{Role: role, Parts: parts})
	}
	for i, m := range req.Messages {
		switch m.Role {
		case provider.RoleSystem:
			if t := m.Text(); t != "" {
				if out.SystemInstruction == nil {
					out.SystemInstruction = &content{}
				}
				out.SystemInstruction.Parts = append(out.SystemInstruction.Parts, textPart(t))
			}
		case provider.RoleUser:
			parts, err := contentParts(m.Content, i)
			if err != nil {
				return nil, err
			}
			add("user", parts)
		case provider.RoleAssistant:
			parts, err := contentParts(m.Content, i)
			if err != nil {
				return nil, err
			}
			for _, c := range m.ToolCalls {
				if c.Name == "" {
					return nil, invalid("message %d: a tool call has no name", i)
				}
				args, err := objectArgs(c.Arguments)
				if err != nil {
					return nil, invalid("message %d: the arguments of tool call %q are not a JSON object", i, c.ID)
				}
				names[c.ID] = c.Name
				parts = append(parts, part{FunctionCall: &functionCall{Name: c.Name, Args: args}})
			}
			add("model", parts)
		case provider.RoleTool:
			name := m.Name
			if n, ok := names[m.ToolCallID]; ok {
				name = n
			}
			if name == "" {
				return nil, invalid("message %d: tool result for %q answers no earlier tool call", i, m.ToolCallID)
			}
			add("user", []part{{FunctionResponse: &functionResponse{Name: name, Response: resultObject(m.Text())}}})
		default:
			return nil, invalid("message %d: role %q is not supported", i, m.Role)
		}
	}
	if len(out.Contents) == 0 {
		return nil, invalid("the request has no user or assistant message")
	}
	// The first call of each model turn carries a signature (see
	// SentinelSignature).
	for i := range out.Contents {
		c := &out.Contents[i]
		if c.Role != "model" {
			continue
		}
		for j := range c.Parts {
			if c.Parts[j].FunctionCall != nil {
				c.Parts[j].ThoughtSignature = SentinelSignature
				break
			}
		}
	}

	if len(req.Tools) > 0 && req.ToolChoice != "none" {
		decls := make([]functionDeclaration, 0, len(req.Tools))
		for _, t := range req.Tools {
			d := functionDeclaration{Name: t.Name, Description: t.Description}
			if len(t.Parameters) > 0 {
				s, err := convertSchema(t.Parameters)
				if err != nil {
					return nil, invalid("tool %q: %v", t.Name, err)
				}
				if !emptyObject(s) {
					d.Parameters = s
				}
			}
			decls = append(decls, d)
		}
		out.Tools = []tool{{FunctionDeclarations: decls}}
	}
	switch req.ToolChoice {
	case "", "auto":
		if len(out.Tools) > 0 && req.ToolChoice == "auto" {
			out.ToolConfig = &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: "AUTO"}}
		}
	case "none":
		// The tools are left out: a history with calls stays valid without
		// them, and NONE with no declarations is refused.
	case "required":
		if len(out.Tools) == 0 {
			return nil, invalid("tool_choice %q needs tools", req.ToolChoice)
		}
		out.ToolConfig = &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: "ANY"}}
	default:
		found := false
		for _, t := range req.Tools {
			found = found || t.Name == req.ToolChoice
		}
		if !found {
			return nil, invalid("tool_choice names %q, which is not among the tools", req.ToolChoice)
		}
		out.ToolConfig = &toolConfig{FunctionCallingConfig: functionCallingConfig{Mode: "ANY", AllowedFunctionNames: []string{req.ToolChoice}}}
	}

	gc := &generationConfig{Temperature: req.Temperature, TopP: req.TopP, MaxOutputTokens: req.MaxTokens, StopSequences: req.Stop}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			gc.ResponseMimeType = "application/json"
		case "json_schema":
			gc.ResponseMimeType = "application/json"
			if len(rf.Schema) > 0 {
				s, err := convertSchema(rf.Schema)
				if err != nil {
					return nil, invalid("response schema: %v", err)
				}
				gc.ResponseSchema = s
			}
		case "", "text":
		default:
			return nil, invalid("response format %q is not supported", rf.Type)
		}
	}
	if gc.Temperature != nil || gc.TopP != nil || gc.MaxOutputTokens > 0 || len(gc.StopSequences) > 0 || gc.ResponseMimeType != "" {
		out.GenerationConfig = gc
	}
	return out, nil
}

// contentParts translates a message's text and images.
func contentParts(ps []provider.Part, i int) ([]part, error) {
	var out []part
	for _, p := range ps {
		switch p.Type {
		case provider.PartText:
			if p.Text != "" {
				out = append(out, textPart(p.Text))
			}
		case provider.PartImage:
			img := p.Image
			if img == nil || len(img.Data) == 0 {
				return nil, invalid("message %d: image URLs are not supported by the Gemini protocol; send the image inline (a data URL)", i)
			}
			if img.MediaType == "" {
				return nil, invalid("message %d: an image has no media type", i)
			}
			out = append(out, part{InlineData: &blob{MimeType: img.MediaType, Data: img.Data}})
		default:
			return nil, invalid("message %d: content of type %q is not supported", i, p.Type)
		}
	}
	return out, nil
}

// objectArgs checks and compacts a call's arguments ("" is {}).
func objectArgs(s string) (json.RawMessage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage("{}"), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, fmt.Errorf("not an object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// resultObject makes a tool result the JSON object Gemini wants: a result
// that is an object is passed as it is; any other is {"output": value},
// the value being the result's JSON when it is JSON, else its text.
func resultObject(text string) json.RawMessage {
	t := strings.TrimSpace(text)
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(t), &m) == nil && m != nil {
		var b bytes.Buffer
		if json.Compact(&b, []byte(t)) == nil {
			return b.Bytes()
		}
	}
	var v any
	if t != "" && json.Unmarshal([]byte(t), &v) == nil {
		b, _ := json.Marshal(map[string]any{"output": json.RawMessage(t)})
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			return c.Bytes()
		}
	}
	b, _ := json.Marshal(map[string]string{"output": text})
	return b
}

// fromResponse reads a whole answer.
func fromResponse(r *response, model string) (*provider.ChatResponse, error) {
	out := &provider.ChatResponse{ID: r.ResponseID, Model: r.ModelVersion, Usage: r.UsageMetadata.usage(),
		Message: provider.Message{Role: provider.RoleAssistant}}
	if out.Model == "" {
		out.Model = model
	}
	if len(r.Candidates) == 0 {
		if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
			out.FinishReason = provider.FinishContentFilter
			return out, nil
		}
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the answer has no candidate")
	}
	c := r.Candidates[0]
	var text strings.Builder
	if c.Content != nil {
		for _, p := range c.Content.Parts {
			switch {
			case p.FunctionCall != nil:
				out.Message.ToolCalls = append(out.Message.ToolCalls, provider.ToolCall{
					ID: callID(len(out.Message.ToolCalls)), Name: p.FunctionCall.Name, Arguments: argsString(p.FunctionCall.Args)})
			case p.Text != nil && !p.Thought:
				text.WriteString(*p.Text)
			}
		}
	}
	if text.Len() > 0 {
		out.Message.Content = []provider.Part{{Type: provider.PartText, Text: text.String()}}
	}
	out.FinishReason = finishReason(c.FinishReason, len(out.Message.ToolCalls) > 0)
	return out, nil
}

func argsString(raw json.RawMessage) string {
	var b bytes.Buffer
	if len(raw) == 0 || string(raw) == "null" || json.Compact(&b, raw) != nil {
		return "{}"
	}
	return b.String()
}
