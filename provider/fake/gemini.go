package fake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// DefaultGeminiModels are served when GeminiConfig.Models is empty. Models
// whose id contains "embedding" embed and do not chat.
var DefaultGeminiModels = []string{"gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-flash-preview", "gemini-embedding-001"}

// GeminiDefaultPageSize is the page size of GET /models without pageSize,
// as the real API's.
const GeminiDefaultPageSize = 50

// GeminiSentinelSignature is the thought signature Google documents for
// histories whose real signatures are lost; the fake's Gemini 3 models
// accept it like a real one.
const GeminiSentinelSignature = "skip_thought_signature_validator"

// GeminiConfig configures a Gemini API or Vertex AI fake.
type GeminiConfig struct {
	// APIKeys are accepted in "x-goog-api-key" or the "key" query
	// parameter (Gemini API). Empty accepts any non-empty key.
	APIKeys []string
	// Tokens are OAuth access tokens accepted as "Authorization: Bearer"
	// (Vertex; the Gemini API takes them too). Empty accepts any non-empty
	// token on Vertex and none on the Gemini API.
	Tokens []string
	// Models are the model ids served; DefaultGeminiModels when empty.
	Models []string
	// Vertex serves Vertex AI's routes
	// (/projects/{p}/locations/{l}/publishers/google/models/{model}:…)
	// with bearer auth instead of the Gemini API's.
	Vertex bool
	// Project and Location, when set, are the only ones a Vertex request
	// may name (another project is a 403).
	Project, Location string
	// BasePath prefixes every route: "/v1beta" (Gemini API) or "/v1"
	// (Vertex) by default; "/" serves at the root.
	BasePath string
	// Dimensions is the embedding length (default 16).
	Dimensions int
	Options
}

// Gemini is a fake of Google's Gemini API (generativelanguage.googleapis.com)
// or, with Vertex set, of Gemini on Vertex AI (aiplatform.googleapis.com).
//
// Gemini API, under BasePath:
//
//	POST /models/{model}:generateContent
//	POST /models/{model}:streamGenerateContent?alt=sse   SSE of GenerateContentResponse
//	POST /models/{model}:countTokens
//	POST /models/{model}:embedContent, :batchEmbedContents
//	GET  /models?pageSize=&pageToken=, GET /models/{model}
//
// Vertex, under BasePath: /projects/{p}/locations/{l}/publishers/google/
// models/{model}: with :generateContent, :streamGenerateContent,
// :countTokens and :predict (text embeddings).
//
// Errors have Google's shape {"error":{"code","message","status"}}; a bad
// API key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID, as the real
// API answers; a 429 carries a RetryInfo detail besides Retry-After.
type Gemini struct {
	*core
	cfg GeminiConfig
}

// NewGemini returns a Gemini API or Vertex AI fake.
func NewGemini(cfg GeminiConfig) *Gemini {
	if len(cfg.Models) == 0 {
		cfg.Models = DefaultGeminiModels
	}
	if cfg.Dimensions <= 0 {
		cfg.Dimensions = 16
	}
	if cfg.BasePath == "" {
		cfg.BasePath = "/v1beta"
		if cfg.Vertex {
			cfg.BasePath = "/v1"
		}
	}
	cfg.BasePath = "/" + strings.Trim(cfg.BasePath, "/")
	base := strings.TrimSuffix(cfg.BasePath, "/")
	g := &Gemini{core: newCore(cfg.Options, writeGeminiError), cfg: cfg}
	if cfg.Vertex {
		g.handle("POST "+base+"/projects/{project}/locations/{location}/publishers/google/models/{action}", g.action)
	} else {
		g.handle("POST "+base+"/models/{action}", g.action)
		g.handle("GET "+base+"/models", g.models)
		g.handle("GET "+base+"/models/{model}", g.model)
	}
	return g
}

// BasePath is the prefix of every route.
func (g *Gemini) BasePath() string { return g.cfg.BasePath }

// auth checks the credential: an API key (header or ?key=) or a bearer
// token on the Gemini API, a bearer token on Vertex.
func (g *Gemini) auth(x *exchange) bool {
	r := x.r
	bearer, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if g.cfg.Vertex {
		if !hasBearer || bearer == "" || !allowed(g.cfg.Tokens, bearer) {
			x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Message: "Request had invalid authentication credentials. " +
				"Expected OAuth 2 access token, login cookie or other valid authentication credential. " +
				"See https://developers.google.com/identity/sign-in/web/devconsole-project."})
			return false
		}
		if p := r.PathValue("project"); g.cfg.Project != "" && p != g.cfg.Project {
			x.fail(apiError{Status: http.StatusForbidden, Kind: errPermission, Message: "Permission 'aiplatform.endpoints.predict' denied on resource " +
				"'//aiplatform.googleapis.com/projects/" + p + "/locations/" + r.PathValue("location") + "' (or it may not exist)."})
			return false
		}
		if l := r.PathValue("location"); g.cfg.Location != "" && l != g.cfg.Location {
			x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "Unsupported location " + l + " for this endpoint."})
			return false
		}
		return true
	}
	key := r.Header.Get("x-goog-api-key")
	if key == "" {
		key = r.URL.Query().Get("key")
	}
	switch {
	case key != "":
		if !allowed(g.cfg.APIKeys, key) {
			x.fail(apiError{Status: http.StatusBadRequest, Kind: errAuth, Code: "API_KEY_INVALID", Message: "API key not valid. Please pass a valid API key."})
			return false
		}
	case hasBearer && bearer != "":
		if !slices.Contains(g.cfg.Tokens, bearer) {
			x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Message: "Request had invalid authentication credentials. " +
				"Expected OAuth 2 access token, login cookie or other valid authentication credential."})
			return false
		}
	default:
		x.fail(apiError{Status: http.StatusForbidden, Kind: errPermission, Message: "Method doesn't allow unregistered callers " +
			"(callers without established identity). Please use API Key or other form of API consumer identity to call this API."})
		return false
	}
	return true
}

// geminiModelPath is how errors name a model.
func (g *Gemini) modelPath(x *exchange, model string) string {
	if g.cfg.Vertex {
		return "projects/" + x.r.PathValue("project") + "/locations/" + x.r.PathValue("location") + "/publishers/google/models/" + model
	}
	return "models/" + model
}

func embeddingModel(model string) bool { return strings.Contains(model, "embedding") }

// action serves POST …/models/{model}:{method}.
func (g *Gemini) action(x *exchange) {
	if x.injectStatus() {
		return
	}
	model, method, ok := strings.Cut(x.r.PathValue("action"), ":")
	if !ok {
		x.fail(apiError{Status: http.StatusNotFound, Kind: errNotFound, Message: "Not found: " + x.r.URL.Path})
		return
	}
	if !g.auth(x) {
		return
	}
	var methods []string
	switch {
	case g.cfg.Vertex && embeddingModel(model):
		methods = []string{"predict", "countTokens"}
	case embeddingModel(model):
		methods = []string{"embedContent", "batchEmbedContents", "countTokens"}
	default:
		methods = []string{"generateContent", "streamGenerateContent", "countTokens"}
	}
	known := slices.Contains(g.cfg.Models, model)
	if !known || !slices.Contains(methods, method) {
		msg := g.modelPath(x, model) + " is not found for API version " + strings.Trim(g.cfg.BasePath, "/") +
			", or is not supported for " + method + ". Call ListModels to see the list of available models and their supported methods."
		if g.cfg.Vertex {
			msg = "Publisher Model `" + g.modelPath(x, model) + "` was not found or your project does not have access to it. " +
				"Please ensure you are using a valid model version."
		}
		x.fail(apiError{Status: http.StatusNotFound, Kind: errModelNotFound, Message: msg})
		return
	}
	switch method {
	case "generateContent":
		g.generate(x, model, false)
	case "streamGenerateContent":
		g.generate(x, model, true)
	case "countTokens":
		g.countTokens(x)
	case "embedContent":
		g.embedContent(x)
	case "batchEmbedContents":
		g.batchEmbed(x, model)
	case "predict":
		g.predict(x)
	}
}

type geminiPart struct {
	Text       *string `json:"text,omitempty"`
	InlineData *struct {
		MimeType string `json:"mimeType"`
		Data     string `json:"data"`
	} `json:"inlineData,omitempty"`
	FileData     json.RawMessage `json:"fileData,omitempty"`
	FunctionCall *struct {
		ID   string          `json:"id,omitempty"`
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	} `json:"functionCall,omitempty"`
	FunctionResponse *struct {
		ID       string          `json:"id,omitempty"`
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	} `json:"functionResponse,omitempty"`
	Thought          bool   `json:"thought,omitempty"`
	ThoughtSignature string `json:"thoughtSignature,omitempty"`
}

type geminiContent struct {
	Role  string       `json:"role"`
	Parts []geminiPart `json:"parts"`
}

type geminiRequest struct {
	Model             string          `json:"model"`
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"functionDeclarations"`
		GoogleSearch  json.RawMessage `json:"googleSearch"`
		CodeExecution json.RawMessage `json:"codeExecution"`
	} `json:"tools"`
	ToolConfig *struct {
		FunctionCallingConfig struct {
			Mode                 string   `json:"mode"`
			AllowedFunctionNames []string `json:"allowedFunctionNames"`
		} `json:"functionCallingConfig"`
	} `json:"toolConfig"`
	GenerationConfig *struct {
		Temperature      *float64        `json:"temperature"`
		TopP             *float64        `json:"topP"`
		TopK             *int            `json:"topK"`
		CandidateCount   *int            `json:"candidateCount"`
		MaxOutputTokens  *int            `json:"maxOutputTokens"`
		StopSequences    []string        `json:"stopSequences"`
		ResponseMimeType string          `json:"responseMimeType"`
		ResponseSchema   json.RawMessage `json:"responseSchema"`
		PresencePenalty  *float64        `json:"presencePenalty"`
		FrequencyPenalty *float64        `json:"frequencyPenalty"`
		Seed             *int            `json:"seed"`
		ThinkingConfig   json.RawMessage `json:"thinkingConfig"`
	} `json:"generationConfig"`
	SafetySettings json.RawMessage   `json:"safetySettings"`
	CachedContent  string            `json:"cachedContent"`
	Labels         map[string]string `json:"labels"`
}

// parse decodes a GenerateContentRequest strictly, as the real API does
// (an unknown field is a 400), and validates it.
func (g *Gemini) parse(x *exchange, model string) (geminiRequest, bool) {
	var req geminiRequest
	dec := json.NewDecoder(bytes.NewReader(x.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "Invalid JSON payload received. " + err.Error()})
		return req, false
	}
	bad := func(msg string) (geminiRequest, bool) {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: msg})
		return req, false
	}
	if len(req.Contents) == 0 {
		return bad("* GenerateContentRequest.contents: contents is not specified")
	}
	for i, c := range req.Contents {
		if c.Role != "user" && c.Role != "model" {
			return bad("Please use a valid role: user, model.")
		}
		if len(c.Parts) == 0 {
			return bad(fmt.Sprintf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.", i))
		}
		signed := false
		for j, p := range c.Parts {
			set := 0
			for _, ok := range []bool{p.Text != nil, p.InlineData != nil, p.FileData != nil, p.FunctionCall != nil, p.FunctionResponse != nil} {
				if ok {
					set++
				}
			}
			if set != 1 {
				return bad(fmt.Sprintf("* GenerateContentRequest.contents[%d].parts[%d].data: required oneof field 'data' must have one initialized field", i, j))
			}
			if d := p.InlineData; d != nil {
				if _, err := base64.StdEncoding.DecodeString(d.Data); err != nil || d.MimeType == "" {
					return bad(fmt.Sprintf("Invalid value at 'contents[%d].parts[%d].inline_data.data' (TYPE_BYTES), Base64 decoding failed", i, j))
				}
			}
			if fc := p.FunctionCall; fc != nil {
				if !jsonObject(fc.Args) {
					return bad(fmt.Sprintf("Invalid value at 'contents[%d].parts[%d].function_call.args' (type.googleapis.com/google.protobuf.Struct)", i, j))
				}
				// Gemini 3 wants the first call of a model turn signed.
				if strings.HasPrefix(model, "gemini-3") && !signed && p.ThoughtSignature == "" {
					return bad(fmt.Sprintf("Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, "+
						"and missing thought_signature may lead to degraded model performance. Additional data, function call `%s` , position %d.", fc.Name, i+1))
				}
				signed = true
			}
			if fr := p.FunctionResponse; fr != nil && (fr.Name == "" || !jsonObject(fr.Response)) {
				return bad(fmt.Sprintf("Invalid value at 'contents[%d].parts[%d].function_response'", i, j))
			}
		}
	}
	for i, t := range req.Tools {
		for j, fd := range t.FunctionDeclarations {
			if fd.Name == "" {
				return bad(fmt.Sprintf("* GenerateContentRequest.tools[%d].function_declarations[%d].name: Name cannot be empty.", i, j))
			}
			if len(fd.Parameters) > 0 {
				if msg := checkGeminiSchema(fd.Parameters, fmt.Sprintf("tools[%d].function_declarations[%d].parameters", i, j)); msg != "" {
					return bad(msg)
				}
			}
		}
	}
	if gc := req.GenerationConfig; gc != nil {
		if len(gc.ResponseSchema) > 0 {
			if gc.ResponseMimeType != "application/json" && gc.ResponseMimeType != "text/x.enum" {
				return bad("* GenerateContentRequest.generation_config.response_mime_type: must be application/json when response_schema is set")
			}
			if msg := checkGeminiSchema(gc.ResponseSchema, "generation_config.response_schema"); msg != "" {
				return bad(msg)
			}
		}
		if gc.MaxOutputTokens != nil && *gc.MaxOutputTokens < 0 {
			return bad("* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.")
		}
	}
	if tc := req.ToolConfig; tc != nil {
		switch tc.FunctionCallingConfig.Mode {
		case "", "AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED":
		default:
			return bad(fmt.Sprintf("Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), %q", tc.FunctionCallingConfig.Mode))
		}
	}
	return req, true
}

func jsonObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return true // absent: the empty Struct
	}
	var m map[string]any
	return raw[0] == '{' && json.Unmarshal(raw, &m) == nil
}

// geminiSchemaFields are the fields of Gemini's Schema (an OpenAPI 3.0
// subset); any other is refused as the real API refuses it.
var geminiSchemaFields = []string{"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
	"properties", "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example",
	"anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"}

var geminiTypes = []string{"TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}

// checkGeminiSchema validates a Schema; it returns the error message of the
// first problem, or "".
func checkGeminiSchema(raw json.RawMessage, at string) string {
	var s map[string]json.RawMessage
	if err := json.Unmarshal(raw, &s); err != nil {
		return "Invalid JSON payload received. Expected an object at '" + at + "'."
	}
	for k := range s {
		if !slices.Contains(geminiSchemaFields, k) {
			return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at '%s': Cannot find field.", k, at)
		}
	}
	if t, ok := s["type"]; ok {
		var typ string
		if json.Unmarshal(t, &typ) != nil || !slices.Contains(geminiTypes, strings.ToUpper(typ)) {
			return fmt.Sprintf("Invalid value at '%s.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), %s", at, t)
		}
		if strings.EqualFold(typ, "object") {
			if p, ok := s["properties"]; ok {
				var props map[string]json.RawMessage
				if json.Unmarshal(p, &props) != nil {
					return "Invalid JSON payload received at '" + at + ".properties'."
				}
				if len(props) == 0 {
					return "* GenerateContentRequest." + at + ".properties: should be non-empty for OBJECT type"
				}
			}
		}
	}
	if p, ok := s["properties"]; ok {
		var props map[string]json.RawMessage
		_ = json.Unmarshal(p, &props)
		for name, sub := range props {
			if msg := checkGeminiSchema(sub, at+".properties["+name+"]"); msg != "" {
				return msg
			}
		}
	}
	if it, ok := s["items"]; ok {
		if msg := checkGeminiSchema(it, at+".items"); msg != "" {
			return msg
		}
	}
	if a, ok := s["anyOf"]; ok {
		var list []json.RawMessage
		if json.Unmarshal(a, &list) != nil {
			return "Invalid JSON payload received at '" + at + ".any_of'."
		}
		for i, sub := range list {
			if msg := checkGeminiSchema(sub, fmt.Sprintf("%s.any_of[%d]", at, i)); msg != "" {
				return msg
			}
		}
	}
	if e, ok := s["enum"]; ok {
		var vals []string
		if json.Unmarshal(e, &vals) != nil {
			return "Invalid value at '" + at + ".enum' (TYPE_STRING)"
		}
	}
	return ""
}

// lowerTypes lowercases a Gemini schema's type names, for toolArguments.
func lowerTypes(raw json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, sub := range t {
				if s, ok := sub.(string); ok && k == "type" {
					t[k] = strings.ToLower(s)
				} else {
					walk(sub)
				}
			}
		case []any:
			for _, sub := range t {
				walk(sub)
			}
		}
	}
	walk(v)
	b, _ := json.Marshal(v)
	return b
}

// partsText is the text of parts, function responses included.
func partsText(parts []geminiPart) string {
	var b strings.Builder
	for _, p := range parts {
		switch {
		case p.Text != nil && !p.Thought:
			b.WriteString(*p.Text + " ")
		case p.FunctionResponse != nil:
			var r map[string]any
			_ = json.Unmarshal(p.FunctionResponse.Response, &r)
			if len(r) == 1 {
				for _, v := range r {
					if s, ok := v.(string); ok {
						b.WriteString(s + " ")
						continue
					}
					out, _ := json.Marshal(v)
					b.Write(out)
					b.WriteString(" ")
				}
			} else {
				b.Write(p.FunctionResponse.Response)
				b.WriteString(" ")
			}
		case p.FunctionCall != nil:
			b.WriteString(p.FunctionCall.Name + " ")
			b.Write(p.FunctionCall.Args)
			b.WriteString(" ")
		}
	}
	return strings.TrimSpace(b.String())
}

// inputTokens counts the prompt: system, contents and tool declarations.
func (req geminiRequest) inputTokens() int {
	n := 3
	if req.SystemInstruction != nil {
		n += Tokens(partsText(req.SystemInstruction.Parts))
	}
	for _, c := range req.Contents {
		n += Tokens(partsText(c.Parts)) + messageOverhead
	}
	for _, t := range req.Tools {
		for _, fd := range t.FunctionDeclarations {
			n += Tokens(fd.Name) + Tokens(string(fd.Parameters))
		}
	}
	return n
}

func (g *Gemini) generate(x *exchange, model string, streaming bool) {
	req, ok := g.parse(x, model)
	if !ok {
		return
	}
	if streaming && !g.cfg.Vertex && x.r.URL.Query().Get("alt") != "sse" {
		// Without alt=sse the real API streams one JSON array; the fake
		// speaks SSE only.
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "the fake serves streamGenerateContent with alt=sse only"})
		return
	}
	last := req.Contents[len(req.Contents)-1]
	prompt := partsText(last.Parts)
	afterTool := last.Role == "user" && slices.ContainsFunc(last.Parts, func(p geminiPart) bool { return p.FunctionResponse != nil })

	var tools []toolSpec
	for _, t := range req.Tools {
		for _, fd := range t.FunctionDeclarations {
			tools = append(tools, toolSpec{Name: fd.Name, Schema: lowerTypes(fd.Parameters)})
		}
	}
	forced, required := "", false
	if tc := req.ToolConfig; tc != nil {
		fc := tc.FunctionCallingConfig
		switch fc.Mode {
		case "NONE":
			tools = nil
		case "ANY":
			required = true
			if len(fc.AllowedFunctionNames) > 0 {
				tools = slices.DeleteFunc(tools, func(t toolSpec) bool { return !slices.Contains(fc.AllowedFunctionNames, t.Name) })
				if len(fc.AllowedFunctionNames) == 1 {
					forced = fc.AllowedFunctionNames[0]
				}
			}
		}
	}
	tool, useTool := pickTool(tools, forced, required, prompt, afterTool)

	text := replyText(prompt)
	if afterTool {
		text = toolResultText(prompt)
	}
	finish := "STOP"
	var args string
	if useTool {
		args = toolArguments(tool.Schema)
	} else if gc := req.GenerationConfig; gc != nil {
		if gc.ResponseMimeType == "application/json" {
			if len(gc.ResponseSchema) > 0 {
				text = toolArguments(lowerTypes(gc.ResponseSchema))
			} else {
				b, _ := json.Marshal(map[string]string{"text": text})
				text = string(b)
			}
		}
		for _, s := range gc.StopSequences {
			if i := strings.Index(text, s); s != "" && i >= 0 {
				text = strings.TrimSpace(text[:i])
			}
		}
		if gc.MaxOutputTokens != nil {
			var cut bool
			if text, cut = truncate(text, *gc.MaxOutputTokens); cut {
				finish = "MAX_TOKENS"
			}
		}
	}
	input, output := req.inputTokens(), Tokens(text)
	if useTool {
		output = Tokens(tool.Name) + Tokens(args)
	}
	usage := map[string]any{"promptTokenCount": input, "candidatesTokenCount": output, "totalTokenCount": input + output,
		"promptTokensDetails": []map[string]any{{"modality": "TEXT", "tokenCount": input}}}
	id := strings.TrimLeft(x.id(""), "0")
	response := func(parts []map[string]any, finish string, usage map[string]any) map[string]any {
		cand := map[string]any{"content": map[string]any{"parts": parts, "role": "model"}, "index": 0}
		if finish != "" {
			cand["finishReason"] = finish
		}
		r := map[string]any{"candidates": []any{cand}, "usageMetadata": usage, "modelVersion": model, "responseId": "fake-" + id}
		if g.cfg.Vertex {
			r["createTime"] = x.now().UTC().Format("2006-01-02T15:04:05.000000Z")
		}
		return r
	}
	var callPart map[string]any
	if useTool {
		callPart = map[string]any{"functionCall": map[string]any{"name": tool.Name, "args": json.RawMessage(args)}}
		if strings.HasPrefix(model, "gemini-3") {
			callPart["thoughtSignature"] = base64.StdEncoding.EncodeToString([]byte("fake-signature-" + id))
		}
	}
	if !streaming {
		parts := []map[string]any{{"text": text}}
		if useTool {
			parts = []map[string]any{callPart}
		}
		x.reply(response(parts, finish, usage))
		return
	}
	s := x.stream(sseData)
	partial := map[string]any{"promptTokenCount": input, "totalTokenCount": input}
	if useTool {
		s.send("", response([]map[string]any{callPart}, finish, usage))
		return
	}
	pieces := chunks(text)
	for i, p := range pieces {
		if i == len(pieces)-1 {
			s.send("", response([]map[string]any{{"text": p}}, finish, usage))
			return
		}
		s.send("", response([]map[string]any{{"text": p}}, "", partial))
	}
}

func (g *Gemini) countTokens(x *exchange) {
	var req struct {
		Contents               []geminiContent `json:"contents"`
		GenerateContentRequest *geminiRequest  `json:"generateContentRequest"`
	}
	if !x.decode(&req, "Invalid JSON payload received.") {
		return
	}
	full := geminiRequest{Contents: req.Contents}
	if req.GenerateContentRequest != nil {
		full = *req.GenerateContentRequest
	}
	if len(full.Contents) == 0 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "* CountTokensRequest.contents: contents is not specified"})
		return
	}
	n := full.inputTokens()
	out := map[string]any{"totalTokens": n, "promptTokensDetails": []map[string]any{{"modality": "TEXT", "tokenCount": n}}}
	if g.cfg.Vertex {
		out["totalBillableCharacters"] = 4 * n
	}
	x.reply(out)
}

type geminiEmbedRequest struct {
	Model                string        `json:"model"`
	Content              geminiContent `json:"content"`
	TaskType             string        `json:"taskType"`
	Title                string        `json:"title"`
	OutputDimensionality int           `json:"outputDimensionality"`
}

func (g *Gemini) dims(n int) int {
	if n > 0 {
		return n
	}
	return g.cfg.Dimensions
}

func (g *Gemini) embedContent(x *exchange) {
	var req geminiEmbedRequest
	if !x.decode(&req, "Invalid JSON payload received.") {
		return
	}
	if len(req.Content.Parts) == 0 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "* EmbedContentRequest.content: contents is not specified"})
		return
	}
	x.reply(map[string]any{"embedding": map[string]any{"values": vector(partsText(req.Content.Parts), g.dims(req.OutputDimensionality))}})
}

func (g *Gemini) batchEmbed(x *exchange, model string) {
	var req struct {
		Requests []geminiEmbedRequest `json:"requests"`
	}
	if !x.decode(&req, "Invalid JSON payload received.") {
		return
	}
	if len(req.Requests) == 0 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "* BatchEmbedContentsRequest.requests: requests is not specified"})
		return
	}
	out := make([]any, len(req.Requests))
	for i, r := range req.Requests {
		if r.Model != "models/"+model {
			x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: fmt.Sprintf("* BatchEmbedContentsRequest.model: unexpected model name format\n"+
				"* BatchEmbedContentsRequest.requests[%d].model: the model must be models/%s, the model of the batch", i, model)})
			return
		}
		if len(r.Content.Parts) == 0 {
			x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].content: contents is not specified", i)})
			return
		}
		out[i] = map[string]any{"values": vector(partsText(r.Content.Parts), g.dims(r.OutputDimensionality))}
	}
	x.reply(map[string]any{"embeddings": out})
}

// predict serves Vertex's text embeddings:
// {"instances":[{"content"}],"parameters":{"outputDimensionality"}}.
func (g *Gemini) predict(x *exchange) {
	var req struct {
		Instances []struct {
			Content  string `json:"content"`
			TaskType string `json:"task_type"`
			Title    string `json:"title"`
		} `json:"instances"`
		Parameters struct {
			OutputDimensionality int  `json:"outputDimensionality"`
			AutoTruncate         bool `json:"autoTruncate"`
		} `json:"parameters"`
	}
	if !x.decode(&req, "Invalid JSON payload received.") {
		return
	}
	if len(req.Instances) == 0 {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "List of found errors:\t1.Field: instances; Message: Required field is not set."})
		return
	}
	preds := make([]any, len(req.Instances))
	chars := 0
	for i, in := range req.Instances {
		chars += len(in.Content)
		preds[i] = map[string]any{"embeddings": map[string]any{"values": vector(in.Content, g.dims(req.Parameters.OutputDimensionality)),
			"statistics": map[string]any{"token_count": Tokens(in.Content), "truncated": false}}}
	}
	x.reply(map[string]any{"predictions": preds, "metadata": map[string]any{"billableCharacterCount": chars}})
}

func (g *Gemini) modelInfo(id string) map[string]any {
	m := map[string]any{"name": "models/" + id, "version": "001", "displayName": geminiDisplayName(id),
		"description": "A fake " + id + " model."}
	if embeddingModel(id) {
		m["inputTokenLimit"], m["outputTokenLimit"] = 2048, 1
		m["supportedGenerationMethods"] = []string{"embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"}
		return m
	}
	m["inputTokenLimit"], m["outputTokenLimit"] = 1048576, 65536
	m["supportedGenerationMethods"] = []string{"generateContent", "countTokens", "createCachedContent", "batchGenerateContent"}
	m["temperature"], m["topP"], m["topK"], m["maxTemperature"], m["thinking"] = 1, 0.95, 64, 2, true
	return m
}

// geminiDisplayName makes "Gemini 2.5 Flash" of "gemini-2.5-flash".
func geminiDisplayName(id string) string {
	words := strings.Split(id, "-")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// models serves GET /models: pageSize (default 50, at most 1000) and an
// opaque pageToken.
func (g *Gemini) models(x *exchange) {
	if x.injectStatus() || !g.auth(x) {
		return
	}
	q := x.r.URL.Query()
	size := GeminiDefaultPageSize
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "Invalid value at 'page_size' (TYPE_INT32), " + strconv.Quote(v)})
			return
		}
		if n > 0 {
			size = min(n, 1000)
		}
	}
	start := 0
	if tok := q.Get("pageToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || err2 != nil || n < 0 || n > len(g.cfg.Models) {
			x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "Invalid page token."})
			return
		}
		start = n
	}
	end := min(start+size, len(g.cfg.Models))
	list := make([]any, 0, end-start)
	for _, m := range g.cfg.Models[start:end] {
		list = append(list, g.modelInfo(m))
	}
	out := map[string]any{"models": list}
	if end < len(g.cfg.Models) {
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	x.reply(out)
}

func (g *Gemini) model(x *exchange) {
	if x.injectStatus() || !g.auth(x) {
		return
	}
	m := x.r.PathValue("model")
	if !slices.Contains(g.cfg.Models, m) {
		x.fail(apiError{Status: http.StatusNotFound, Kind: errModelNotFound, Message: "models/" + m + " is not found for API version " + strings.Trim(g.cfg.BasePath, "/")})
		return
	}
	x.reply(g.modelInfo(m))
}

// writeGeminiError writes Google's error shape:
// {"error":{"code":400,"message","status":"INVALID_ARGUMENT","details":[…]}}.
// A bad API key carries an ErrorInfo with reason API_KEY_INVALID; a 429 a
// RetryInfo with the Retry-After delay.
func writeGeminiError(w http.ResponseWriter, e apiError) {
	status := map[errKind]string{
		errInvalid: "INVALID_ARGUMENT", errAuth: "UNAUTHENTICATED", errPermission: "PERMISSION_DENIED",
		errNotFound: "NOT_FOUND", errModelNotFound: "NOT_FOUND", errTooLarge: "INVALID_ARGUMENT",
		errRateLimit: "RESOURCE_EXHAUSTED", errServer: "INTERNAL", errOverloaded: "UNAVAILABLE",
	}[e.Kind]
	var details []any
	switch {
	case e.Code == "API_KEY_INVALID":
		status = "INVALID_ARGUMENT"
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
			"domain": "googleapis.com", "metadata": map[string]string{"service": "generativelanguage.googleapis.com"}},
			map[string]any{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": e.Message})
	case e.Kind == errRateLimit:
		if ra := w.Header().Get("Retry-After"); ra != "" {
			details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": ra + "s"})
		}
	}
	body := map[string]any{"code": e.Status, "message": e.Message, "status": status}
	if details != nil {
		body["details"] = details
	}
	writeJSON(w, e.Status, map[string]any{"error": body})
}
