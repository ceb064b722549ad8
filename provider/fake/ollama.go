package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultOllamaModels are served when OllamaConfig.Models is empty.
var DefaultOllamaModels = []string{"llama3.2:latest", "qwen2.5:0.5b", "nomic-embed-text:latest"}

// OllamaConfig configures an Ollama fake.
type OllamaConfig struct {
	// APIKeys, when set, require "Authorization: Bearer <key>" (as a proxy in
	// front of Ollama would). Empty: no authentication, like Ollama itself.
	APIKeys []string
	// Models are the model names served, with their tags ("llama3.2:latest");
	// a request may leave out ":latest". DefaultOllamaModels when empty.
	Models []string
	// Dimensions is the embedding size (default 16).
	Dimensions int
	Options
}

// Ollama is a fake of Ollama's native API: /api/chat (NDJSON stream by
// default, one JSON object with "stream": false), /api/embed, /api/tags and
// /api/version.
type Ollama struct {
	*core
	cfg OllamaConfig
}

// NewOllama returns an Ollama fake.
func NewOllama(cfg OllamaConfig) *Ollama {
	if len(cfg.Models) == 0 {
		cfg.Models = DefaultOllamaModels
	}
	if cfg.Dimensions <= 0 {
		cfg.Dimensions = 16
	}
	o := &Ollama{core: newCore(cfg.Options, writeOllamaError), cfg: cfg}
	o.handle("POST /api/chat", o.chat)
	o.handle("POST /api/embed", o.embed)
	o.handle("GET /api/tags", o.tags)
	o.handle("GET /api/version", o.version)
	o.handle("GET /{$}", func(x *exchange) {
		x.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = x.w.Write([]byte("Ollama is running"))
	})
	return o
}

func (o *Ollama) auth(x *exchange) bool {
	if len(o.cfg.APIKeys) == 0 {
		return true
	}
	key, ok := strings.CutPrefix(x.r.Header.Get("Authorization"), "Bearer ")
	if ok && slices.Contains(o.cfg.APIKeys, key) {
		return true
	}
	x.fail(apiError{Status: http.StatusUnauthorized, Kind: errAuth, Message: "unauthorized"})
	return false
}

// resolve finds the served name of a model ("llama3.2" is "llama3.2:latest").
func (o *Ollama) resolve(x *exchange, model string) (string, bool) {
	if model == "" {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "model is required"})
		return "", false
	}
	for _, m := range o.cfg.Models {
		if m == model || m == model+":latest" {
			return m, true
		}
	}
	x.fail(apiError{Status: http.StatusNotFound, Kind: errNotFound, Message: fmt.Sprintf("model %q not found, try pulling it first", model)})
	return "", false
}

func (o *Ollama) decode(x *exchange, v any) bool {
	if err := json.Unmarshal(x.body, v); err != nil {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: err.Error()})
		return false
	}
	return true
}

type ollamaChatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream *bool `json:"stream"`
	Tools  []struct {
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	Options struct {
		NumPredict int `json:"num_predict"`
	} `json:"options"`
}

func (o *Ollama) chat(x *exchange) {
	var req ollamaChatRequest
	if x.injectStatus() || !o.auth(x) || !o.decode(x, &req) {
		return
	}
	model, ok := o.resolve(x, req.Model)
	if !ok {
		return
	}
	prompt := 0
	var lastUser string
	for _, m := range req.Messages {
		prompt += Tokens(m.Content) + messageOverhead
		if m.Role == "user" {
			lastUser = m.Content
		}
	}
	afterTool := len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role == "tool"
	var tools []toolSpec
	for _, t := range req.Tools {
		tools = append(tools, toolSpec{Name: t.Function.Name, Schema: t.Function.Parameters})
	}
	tool, useTool := pickTool(tools, "", false, lastUser, afterTool)
	text := replyText(lastUser)
	if afterTool {
		text = toolResultText(req.Messages[len(req.Messages)-1].Content)
	}
	text, cut := truncate(text, req.Options.NumPredict)
	reason := "stop"
	if cut {
		reason = "length"
	}
	var calls []any
	eval := Tokens(text)
	if useTool {
		args := toolArguments(tool.Schema)
		calls = []any{map[string]any{"function": map[string]any{"name": tool.Name, "arguments": json.RawMessage(args)}}}
		text, eval = "", Tokens(tool.Name)+Tokens(args)
	}
	created := x.now().UTC().Format(time.RFC3339Nano)
	final := func(content string, withCalls bool) map[string]any {
		msg := map[string]any{"role": "assistant", "content": content}
		if withCalls && calls != nil {
			msg["tool_calls"] = calls
		}
		return map[string]any{"model": model, "created_at": created, "message": msg, "done": true, "done_reason": reason,
			"total_duration": 1_000_000 * (prompt + eval), "load_duration": 1_000_000, "prompt_eval_count": prompt,
			"prompt_eval_duration": 100_000 * prompt, "eval_count": eval, "eval_duration": 1_000_000 * eval}
	}
	if req.Stream != nil && !*req.Stream {
		x.reply(final(text, true))
		return
	}
	s := x.stream(ndjson)
	if useTool {
		s.send("", map[string]any{"model": model, "created_at": created, "done": false,
			"message": map[string]any{"role": "assistant", "content": "", "tool_calls": calls}})
	} else {
		for _, piece := range chunks(text) {
			s.send("", map[string]any{"model": model, "created_at": created, "done": false,
				"message": map[string]any{"role": "assistant", "content": piece}})
		}
	}
	s.send("", final("", false))
}

func (o *Ollama) embed(x *exchange) {
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if x.injectStatus() || !o.auth(x) || !o.decode(x, &req) {
		return
	}
	model, ok := o.resolve(x, req.Model)
	if !ok {
		return
	}
	inputs, ok := embeddingInputs(req.Input)
	if !ok {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "invalid input type"})
		return
	}
	vecs := make([][]float32, len(inputs))
	tokens := 0
	for i, in := range inputs {
		vecs[i], tokens = vector(in, o.cfg.Dimensions), tokens+Tokens(in)
	}
	x.reply(map[string]any{"model": model, "embeddings": vecs, "total_duration": 1_000_000 * tokens,
		"load_duration": 1_000_000, "prompt_eval_count": tokens})
}

func (o *Ollama) tags(x *exchange) {
	if x.injectStatus() || !o.auth(x) {
		return
	}
	models := make([]any, len(o.cfg.Models))
	for i, m := range o.cfg.Models {
		family, _, _ := strings.Cut(m, ":")
		models[i] = map[string]any{"name": m, "model": m, "modified_at": time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano),
			"size": 1 << 30, "digest": fmt.Sprintf("%064x", i+1),
			"details": map[string]any{"parent_model": "", "format": "gguf", "family": family, "families": []string{family},
				"parameter_size": "1B", "quantization_level": "Q4_K_M"}}
	}
	x.reply(map[string]any{"models": models})
}

func (o *Ollama) version(x *exchange) {
	if !x.injectStatus() {
		x.reply(map[string]any{"version": "0.12.0"})
	}
}

// writeOllamaError writes Ollama's {"error": "..."}.
func writeOllamaError(w http.ResponseWriter, e apiError) {
	writeJSON(w, e.Status, map[string]any{"error": e.Message})
}
