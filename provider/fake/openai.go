package fake

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
)

// DefaultOpenAIModels are served when OpenAIConfig.Models is empty.
var DefaultOpenAIModels = []string{"gpt-4o-mini", "gpt-4o", "text-embedding-3-small"}

// OpenAIConfig configures an OpenAI fake.
type OpenAIConfig struct {
	// APIKeys are the keys accepted as "Authorization: Bearer <key>". Empty
	// accepts any non-empty key (a key is still required, as upstream).
	APIKeys []string
	// Models are the model ids served; DefaultOpenAIModels when empty.
	Models []string
	// BasePath prefixes every route: "/v1" when empty, "/" for none, or
	// another prefix for OpenAI-compatible providers ("/api/v1", "/openai/v1").
	BasePath string
	// Dimensions is the embedding size when a request does not ask for one
	// (default 16).
	Dimensions int
	// OwnedBy is the "owned_by" of listed models (default "openai").
	OwnedBy string
	Options
}

// OpenAI is a fake of the OpenAI API (and of OpenAI-compatible providers):
// chat completions (JSON and SSE), embeddings and the models list.
type OpenAI struct {
	*core
	cfg OpenAIConfig
}

// NewOpenAI returns an OpenAI fake.
func NewOpenAI(cfg OpenAIConfig) *OpenAI {
	if len(cfg.Models) == 0 {
		cfg.Models = DefaultOpenAIModels
	}
	switch cfg.BasePath {
	case "":
		cfg.BasePath = "/v1"
	case "/":
		cfg.BasePath = ""
	default:
		cfg.BasePath = "/" + strings.Trim(cfg.BasePath, "/")
	}
	if cfg.OwnedBy == "" {
		cfg.OwnedBy = "openai"
	}
	o := &OpenAI{core: newCore(cfg.Options, writeOpenAIError), cfg: cfg}
	b := cfg.BasePath
	o.handle("POST "+b+"/chat/completions", o.chat)
	o.handle("POST "+b+"/embeddings", o.embeddings)
	o.handle("GET "+b+"/models", o.models)
	o.handle("GET "+b+"/models/{model...}", o.model)
	return o
}

// BasePath is the prefix the routes live under ("" or "/v1", …).
func (o *OpenAI) BasePath() string { return o.cfg.BasePath }

// auth checks "Authorization: Bearer <key>" exactly as OpenAI does: no
// header is a 401 with code null, a wrong key (or another scheme) a 401 with
// code invalid_api_key.
func (o *OpenAI) auth(x *exchange) bool {
	h := x.r.Header.Get("Authorization")
	if h == "" {
		x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Code: "null",
			Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys."})
		return false
	}
	key, ok := strings.CutPrefix(h, "Bearer ")
	if ok && key != "" && allowed(o.cfg.APIKeys, key) {
		return true
	}
	x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Code: "invalid_api_key",
		Message: "Incorrect API key provided: " + maskKey(key) + ". You can find your API key at https://platform.openai.com/account/api-keys."})
	return false
}

// maskKey shows a key as OpenAI's errors do: the start and the last four.
func maskKey(k string) string {
	if len(k) <= 8 {
		return strings.Repeat("*", len(k))
	}
	return k[:3] + strings.Repeat("*", len(k)-7) + k[len(k)-4:]
}

const openAIBadJSON = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"

func (o *OpenAI) modelKnown(x *exchange, model string) bool {
	if model == "" {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "you must provide a model parameter"})
		return false
	}
	if !slices.Contains(o.cfg.Models, model) {
		x.fail(apiError{Status: http.StatusNotFound, Kind: errModelNotFound, Code: "model_not_found",
			Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model)})
		return false
	}
	return true
}

func (o *OpenAI) chat(x *exchange) {
	if x.injectStatus() || !o.auth(x) {
		return
	}
	var req chatRequest
	if !x.decode(&req, openAIBadJSON) || !o.modelKnown(x, req.Model) {
		return
	}
	serveChat(x, req, req.Model)
}

func (o *OpenAI) embeddings(x *exchange) {
	if x.injectStatus() || !o.auth(x) {
		return
	}
	var req embeddingRequest
	if !x.decode(&req, openAIBadJSON) || !o.modelKnown(x, req.Model) {
		return
	}
	serveEmbeddings(x, req, req.Model, o.cfg.Dimensions)
}

func (o *OpenAI) models(x *exchange) {
	if x.injectStatus() || !o.auth(x) {
		return
	}
	data := make([]any, 0, len(o.cfg.Models))
	for _, m := range o.cfg.Models {
		data = append(data, o.modelObject(x, m))
	}
	x.reply(map[string]any{"object": "list", "data": data})
}

func (o *OpenAI) model(x *exchange) {
	if x.injectStatus() || !o.auth(x) {
		return
	}
	if m := x.r.PathValue("model"); o.modelKnown(x, m) {
		x.reply(o.modelObject(x, m))
	}
}

func (o *OpenAI) modelObject(x *exchange, id string) map[string]any {
	return map[string]any{"id": id, "object": "model", "created": x.now().Unix(), "owned_by": o.cfg.OwnedBy}
}

// writeOpenAIError writes {"error":{"message","type","param","code"}}.
func writeOpenAIError(w http.ResponseWriter, e apiError) {
	typ, code := "invalid_request_error", ""
	switch e.Kind {
	case errAuth:
		code = "invalid_api_key"
	case errPermission:
		typ = "permission_error"
	case errTooLarge:
		code = "request_too_large"
	case errRateLimit:
		typ, code = "requests", "rate_limit_exceeded"
	case errServer:
		typ = "server_error"
	case errOverloaded:
		typ, code = "server_error", "service_unavailable"
	}
	if e.Code != "" {
		code = e.Code
	}
	w.Header().Set("X-Request-Id", "req_fake")
	writeJSON(w, e.Status, map[string]any{"error": map[string]any{
		"message": e.Message, "type": typ, "param": nullable(e.Param), "code": nullable(code),
	}})
}

func nullable(s string) any {
	if s == "" || s == "null" {
		return nil
	}
	return s
}

// The OpenAI wire format, shared with Azure OpenAI.

type chatRequest struct {
	Model         string        `json:"model"`
	Messages      []chatMessage `json:"messages"`
	Stream        bool          `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           int             `json:"max_tokens"`
	MaxCompletionTokens int             `json:"max_completion_tokens"`
	Tools               []chatTool      `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type chatTool struct {
	Type     string `json:"type"`
	Function struct {
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// text is the text of a content that is a string or an array of parts.
func (m chatMessage) text() string { return contentText(m.Content) }

// contentText reads a string, or the text of an array of parts (OpenAI's
// {"type":"text","text"} and Anthropic's text and tool_result blocks alike).
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type    string          `json:"type"`
		Text    string          `json:"text"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var texts []string
	for _, p := range parts {
		switch {
		case p.Text != "":
			texts = append(texts, p.Text)
		case len(p.Content) > 0:
			texts = append(texts, contentText(p.Content))
		}
	}
	return strings.Join(texts, " ")
}

// serveChat answers a chat completion for model (the upstream model name).
func serveChat(x *exchange, req chatRequest, model string) {
	if req.Messages == nil {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Param: "messages", Code: "missing_required_parameter",
			Message: "Missing required parameter: 'messages'."})
		return
	}
	if len(req.Messages) == 0 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Param: "messages", Code: "empty_array",
			Message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."})
		return
	}
	prompt := 3
	var lastUser string
	for _, m := range req.Messages {
		prompt += Tokens(m.text()) + messageOverhead
		if m.Role == "user" {
			lastUser = m.text()
		}
	}
	last := req.Messages[len(req.Messages)-1]
	afterTool := last.Role == "tool"

	var tools []toolSpec
	for _, t := range req.Tools {
		tools = append(tools, toolSpec{Name: t.Function.Name, Schema: t.Function.Parameters})
		prompt += Tokens(t.Function.Name) + Tokens(string(t.Function.Parameters))
	}
	forced, required := "", false
	var choice string
	if json.Unmarshal(req.ToolChoice, &choice) == nil {
		required = choice == "required"
		if choice == "none" {
			tools = nil
		}
	} else {
		var named struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		}
		if json.Unmarshal(req.ToolChoice, &named) == nil {
			forced = named.Function.Name
		}
	}
	tool, useTool := pickTool(tools, forced, required, lastUser, afterTool)

	limit := req.MaxCompletionTokens
	if limit == 0 {
		limit = req.MaxTokens
	}
	text := replyText(lastUser)
	if afterTool {
		text = toolResultText(last.text())
	}
	text, cut := truncate(text, limit)
	finish := "stop"
	if cut {
		finish = "length"
	}
	var callID, args string
	completion := Tokens(text)
	if useTool {
		callID, args, finish = x.id("call_"), toolArguments(tool.Schema), "tool_calls"
		completion = Tokens(tool.Name) + Tokens(args)
	}
	usage := map[string]any{
		"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
		"prompt_tokens_details":     map[string]any{"cached_tokens": 0, "audio_tokens": 0},
		"completion_tokens_details": map[string]any{"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
	}
	id, created := x.id("chatcmpl-"), x.now().Unix()
	x.w.Header().Set("X-Request-Id", "req_"+id[9:])

	if !req.Stream {
		msg := map[string]any{"role": "assistant", "content": text, "refusal": nil, "annotations": []any{}}
		if useTool {
			msg["content"] = nil
			msg["tool_calls"] = []any{map[string]any{"id": callID, "type": "function",
				"function": map[string]any{"name": tool.Name, "arguments": args}}}
		}
		x.reply(map[string]any{
			"id": id, "object": "chat.completion", "created": created, "model": model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
			"usage":   usage, "service_tier": "default", "system_fingerprint": "fp_fake",
		})
		return
	}

	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	s := x.stream(sseData)
	chunk := func(delta map[string]any, finish any) {
		c := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"service_tier": "default", "system_fingerprint": "fp_fake",
			"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		}
		if includeUsage {
			c["usage"] = nil
		}
		s.send("", c)
	}
	if useTool {
		chunk(map[string]any{"role": "assistant", "content": nil, "refusal": nil, "tool_calls": []any{map[string]any{
			"index": 0, "id": callID, "type": "function", "function": map[string]any{"name": tool.Name, "arguments": ""}}}}, nil)
		half := len(args) / 2
		for _, part := range []string{args[:half], args[half:]} {
			chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": part}}}}, nil)
		}
	} else {
		chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)
		for _, piece := range chunks(text) {
			chunk(map[string]any{"content": piece}, nil)
		}
	}
	chunk(map[string]any{}, finish)
	if includeUsage {
		s.send("", map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"service_tier": "default", "system_fingerprint": "fp_fake", "choices": []any{}, "usage": usage,
		})
	}
	s.raw("[DONE]")
}

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     int             `json:"dimensions"`
}

// embeddingInputs reads an input that is a string, strings, tokens or token
// arrays; token arrays count as text of that many tokens.
func embeddingInputs(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		return many, true
	}
	var tokens []int
	if json.Unmarshal(raw, &tokens) == nil && len(tokens) > 0 {
		return []string{tokenText(tokens)}, true
	}
	var tokenLists [][]int
	if json.Unmarshal(raw, &tokenLists) == nil && len(tokenLists) > 0 {
		out := make([]string, len(tokenLists))
		for i, t := range tokenLists {
			out[i] = tokenText(t)
		}
		return out, true
	}
	return nil, false
}

func tokenText(tokens []int) string {
	return strings.Repeat("abcd", len(tokens))
}

func serveEmbeddings(x *exchange, req embeddingRequest, model string, defaultDims int) {
	inputs, ok := embeddingInputs(req.Input)
	if !ok {
		msg := "'input' is a required property"
		if len(req.Input) > 0 {
			msg = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
		}
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Param: "input", Message: msg})
		return
	}
	dims := req.Dimensions
	if dims <= 0 {
		dims = defaultDims
	}
	if dims <= 0 {
		dims = 16
	}
	data := make([]any, len(inputs))
	tokens := 0
	for i, in := range inputs {
		tokens += Tokens(in)
		v := vector(in, dims)
		var emb any = v
		if req.EncodingFormat == "base64" {
			buf := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(f))
			}
			emb = base64.StdEncoding.EncodeToString(buf)
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	x.reply(map[string]any{"object": "list", "data": data, "model": model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens}})
}
