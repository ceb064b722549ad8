package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultAnthropicModels are served when AnthropicConfig.Models is empty.
var DefaultAnthropicModels = []string{"claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"}

// AnthropicVersions are the anthropic-version values accepted when
// AnthropicConfig.Versions is empty: the long-standing 2023 ones and the one
// anthropic-sdk-go v2 sends.
var AnthropicVersions = []string{"2023-01-01", "2023-06-01", "2026-10-21"}

// AnthropicConfig configures an Anthropic fake.
type AnthropicConfig struct {
	// APIKeys are accepted in "x-api-key". Empty accepts any non-empty key.
	APIKeys []string
	// AuthTokens are OAuth tokens accepted as "Authorization: Bearer <token>",
	// besides the API keys (which anthropic-sdk-go v2 sends that way).
	AuthTokens []string
	// Models are the model ids served; DefaultAnthropicModels when empty.
	Models []string
	// Versions are the accepted anthropic-version values; AnthropicVersions
	// when empty.
	Versions []string
	Options
}

// Anthropic is a fake of the Anthropic Messages API: /v1/messages (JSON and
// SSE with the real event sequence), /v1/messages/count_tokens and
// /v1/models.
type Anthropic struct {
	*core
	cfg AnthropicConfig
}

// NewAnthropic returns an Anthropic fake.
func NewAnthropic(cfg AnthropicConfig) *Anthropic {
	if len(cfg.Models) == 0 {
		cfg.Models = DefaultAnthropicModels
	}
	if len(cfg.Versions) == 0 {
		cfg.Versions = AnthropicVersions
	}
	a := &Anthropic{core: newCore(cfg.Options, writeAnthropicError), cfg: cfg}
	a.handle("POST /v1/messages", a.messages)
	a.handle("POST /v1/messages/count_tokens", a.countTokens)
	a.handle("GET /v1/models", a.models)
	a.handle("GET /v1/models/{model}", a.model)
	return a
}

// auth checks the credential, then the anthropic-version header (without it
// the real API answers 400). The credential is an API key in "x-api-key", or
// "Authorization: Bearer" with an API key (how anthropic-sdk-go v2 sends it)
// or an OAuth token.
func (a *Anthropic) auth(x *exchange) bool {
	h := x.r.Header
	switch {
	case h.Get("x-api-key") != "":
		if !allowed(a.cfg.APIKeys, h.Get("x-api-key")) {
			x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Message: "invalid x-api-key"})
			return false
		}
	case h.Get("Authorization") != "":
		tok, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
		if !ok || tok == "" || !(slices.Contains(a.cfg.AuthTokens, tok) || allowed(a.cfg.APIKeys, tok)) {
			x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Message: "Invalid authentication credentials"})
			return false
		}
	default:
		x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Message: "x-api-key header is required"})
		return false
	}
	v := h.Get("anthropic-version")
	if v == "" {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "anthropic-version: header is required"})
		return false
	}
	if !slices.Contains(a.cfg.Versions, v) {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: fmt.Sprintf("anthropic-version: %q is not a valid version", v)})
		return false
	}
	return true
}

type anthropicRequest struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	Messages  []chatMessage   `json:"messages"`
	System    json.RawMessage `json:"system"`
	Stream    bool            `json:"stream"`
	Tools     []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tool_choice"`
}

// parse decodes and validates a request; needMax is false for count_tokens.
func (a *Anthropic) parse(x *exchange, needMax bool) (anthropicRequest, bool) {
	var req anthropicRequest
	if err := json.Unmarshal(x.body, &req); err != nil {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "There was an error parsing the body of your request: " + err.Error()})
		return req, false
	}
	var missing []string
	if req.Model == "" {
		missing = append(missing, "model")
	}
	if req.Messages == nil {
		missing = append(missing, "messages")
	}
	if needMax && req.MaxTokens == nil {
		missing = append(missing, "max_tokens")
	}
	if len(missing) > 0 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: strings.Join(missing, ": Field required; ") + ": Field required"})
		return req, false
	}
	if needMax && *req.MaxTokens < 1 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "max_tokens: Input should be greater than or equal to 1"})
		return req, false
	}
	if len(req.Messages) == 0 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "messages: at least one message is required"})
		return req, false
	}
	if !slices.Contains(a.cfg.Models, req.Model) {
		x.fail(apiError{Status: http.StatusNotFound, Kind: errNotFound, Message: "model: " + req.Model})
		return req, false
	}
	return req, true
}

// inputTokens counts the prompt: system, messages and tool definitions.
func (req anthropicRequest) inputTokens() int {
	n := Tokens(contentText(req.System))
	for _, m := range req.Messages {
		n += Tokens(m.text()) + messageOverhead
	}
	for _, t := range req.Tools {
		n += Tokens(t.Name) + Tokens(string(t.InputSchema))
	}
	return n + 3
}

func (a *Anthropic) countTokens(x *exchange) {
	if x.injectStatus() || !a.auth(x) {
		return
	}
	if req, ok := a.parse(x, false); ok {
		x.reply(map[string]any{"input_tokens": req.inputTokens()})
	}
}

func (a *Anthropic) messages(x *exchange) {
	if x.injectStatus() || !a.auth(x) {
		return
	}
	req, ok := a.parse(x, true)
	if !ok {
		return
	}
	var lastUser string
	afterTool := false
	for _, m := range req.Messages {
		if m.Role == "user" {
			lastUser = m.text()
			afterTool = hasBlock(m.Content, "tool_result")
		}
	}
	if last := req.Messages[len(req.Messages)-1]; last.Role != "user" {
		afterTool = false
	}
	var tools []toolSpec
	for _, t := range req.Tools {
		tools = append(tools, toolSpec{Name: t.Name, Schema: t.InputSchema})
	}
	forced, required := "", false
	if tc := req.ToolChoice; tc != nil {
		switch tc.Type {
		case "tool":
			forced = tc.Name
		case "any":
			required = true
		case "none":
			tools = nil
		}
	}
	tool, useTool := pickTool(tools, forced, required, lastUser, afterTool)

	text := replyText(lastUser)
	if afterTool {
		text = toolResultText(lastUser)
	}
	stop := "end_turn"
	var blocks []map[string]any
	var args string
	if useTool {
		args = toolArguments(tool.Schema)
		text = "I'll use the " + tool.Name + " tool."
		blocks = []map[string]any{
			{"type": "text", "text": text},
			{"type": "tool_use", "id": x.id("toolu_"), "name": tool.Name, "input": json.RawMessage(args)},
		}
		stop = "tool_use"
	} else {
		var cut bool
		if text, cut = truncate(text, *req.MaxTokens); cut {
			stop = "max_tokens"
		}
		blocks = []map[string]any{{"type": "text", "text": text}}
	}
	input, output := req.inputTokens(), Tokens(text)
	if useTool {
		output += Tokens(tool.Name) + Tokens(args)
	}
	id := x.id("msg_")
	x.w.Header().Set("request-id", "req_"+id[4:])
	usage := func(out int) map[string]any {
		return map[string]any{"input_tokens": input, "output_tokens": out, "cache_creation_input_tokens": 0,
			"cache_read_input_tokens": 0, "service_tier": "standard"}
	}
	message := func(content []map[string]any, stop any, out int) map[string]any {
		return map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model,
			"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": usage(out)}
	}
	if !req.Stream {
		x.reply(message(blocks, stop, output))
		return
	}

	s := x.stream(sseNamed)
	s.send("message_start", map[string]any{"type": "message_start", "message": message([]map[string]any{}, nil, 1)})
	for i, b := range blocks {
		start := map[string]any{"type": b["type"]}
		var deltas []map[string]any
		switch b["type"] {
		case "text":
			start["text"] = ""
			for _, piece := range chunks(b["text"].(string)) {
				deltas = append(deltas, map[string]any{"type": "text_delta", "text": piece})
			}
		case "tool_use":
			start["id"], start["name"], start["input"] = b["id"], b["name"], map[string]any{}
			half := len(args) / 2
			for _, part := range []string{"", args[:half], args[half:]} {
				deltas = append(deltas, map[string]any{"type": "input_json_delta", "partial_json": part})
			}
		}
		s.send("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": start})
		if i == 0 {
			s.send("ping", map[string]any{"type": "ping"})
		}
		for _, d := range deltas {
			s.send("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": d})
		}
		s.send("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
	}
	s.send("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": output}})
	s.send("message_stop", map[string]any{"type": "message_stop"})
}

// hasBlock reports whether a content array holds a block of that type.
func hasBlock(content json.RawMessage, typ string) bool {
	var blocks []struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(content, &blocks)
	return slices.ContainsFunc(blocks, func(b struct {
		Type string `json:"type"`
	}) bool {
		return b.Type == typ
	})
}

func (a *Anthropic) models(x *exchange) {
	if x.injectStatus() || !a.auth(x) {
		return
	}
	data := make([]any, len(a.cfg.Models))
	for i, m := range a.cfg.Models {
		data[i] = a.modelInfo(m)
	}
	x.reply(map[string]any{"data": data, "has_more": false, "first_id": a.cfg.Models[0], "last_id": a.cfg.Models[len(a.cfg.Models)-1]})
}

func (a *Anthropic) model(x *exchange) {
	if x.injectStatus() || !a.auth(x) {
		return
	}
	m := x.r.PathValue("model")
	if !slices.Contains(a.cfg.Models, m) {
		x.fail(apiError{Status: http.StatusNotFound, Kind: errNotFound, Message: "model: " + m})
		return
	}
	x.reply(a.modelInfo(m))
}

func (a *Anthropic) modelInfo(id string) map[string]any {
	return map[string]any{"type": "model", "id": id, "display_name": id,
		"created_at": time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)}
}

// writeAnthropicError writes {"type":"error","error":{"type","message"},"request_id"}.
func writeAnthropicError(w http.ResponseWriter, e apiError) {
	typ := map[errKind]string{
		errInvalid: "invalid_request_error", errAuth: "authentication_error", errPermission: "permission_error",
		errNotFound: "not_found_error", errModelNotFound: "not_found_error", errTooLarge: "request_too_large",
		errRateLimit: "rate_limit_error", errServer: "api_error", errOverloaded: "overloaded_error",
	}[e.Kind]
	w.Header().Set("request-id", "req_fake")
	writeJSON(w, e.Status, map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": e.Message}, "request_id": "req_fake"})
}
