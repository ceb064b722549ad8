// Package ollama implements provider.Adapter for Ollama's native API:
// POST {base}/api/chat (NDJSON stream, or one JSON object with
// "stream": false), POST {base}/api/embed and GET {base}/api/tags. The base
// URL is the server's root ("http://127.0.0.1:11434"), without /api or /v1.
//
// Translation: message text is joined into Ollama's string content; images
// go as base64 in "images" (Ollama takes no remote URLs, so an image given
// only by URL is refused); tool calls carry their arguments as a JSON
// object; a tool result names its tool in "tool_name" (taken from the
// message's Name, or from the assistant call it answers). Ollama has no tool
// call ids: answers get "call_<n>" ids in order. Ollama has no tool_choice:
// "none" leaves the tools out and the other choices are not expressible, so
// they are dropped. Temperature, top_p, max tokens (num_predict) and stop go
// in "options"; JSON output is format "json", or the schema itself. The end
// user is not sent (Ollama takes none).
//
// Usage is prompt_eval_count (input) and eval_count (output). Ping lists
// the models (GET /api/tags): unlike /api/version it passes through the
// authentication of a proxy in front of Ollama.
package ollama

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/provider"
)

// Adapter speaks Ollama's native API.
type Adapter struct {
	client *provider.Client
}

// New returns the adapter of an ollama provider. A key, when the credential
// has one, goes as a bearer token (for a proxy in front of Ollama).
func New(cfg provider.Config) (provider.Adapter, error) {
	cfg.HTTP = noRedirects(cfg.HTTP)
	c, err := cfg.Client(provider.BearerPlacement, ParseError)
	if err != nil {
		return nil, err
	}
	return &Adapter{client: c}, nil
}

func noRedirects(d provider.Doer) provider.Doer {
	if c, ok := d.(*http.Client); ok && c != nil && c.CheckRedirect == nil {
		cp := *c
		cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &cp
	}
	return d
}

type chatRequest struct {
	Model    string          `json:"model"`
	Messages []message       `json:"messages"`
	Tools    []tool          `json:"tools,omitempty"`
	Format   json.RawMessage `json:"format,omitempty"`
	Options  *options        `json:"options,omitempty"`
	Stream   bool            `json:"stream"`
}

type message struct {
	Role      string     `json:"role"`
	Content   string     `json:"content"`
	Images    []string   `json:"images,omitempty"`
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
	ToolName  string     `json:"tool_name,omitempty"`
}

type toolCall struct {
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	} `json:"function"`
}

type options struct {
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	NumPredict  int      `json:"num_predict,omitempty"`
	Stop        []string `json:"stop,omitempty"`
}

// EncodeChat returns the /api/chat body of req.
func EncodeChat(req *provider.ChatRequest, stream bool) ([]byte, error) {
	w := chatRequest{Model: req.Model, Stream: stream, Messages: make([]message, 0, len(req.Messages))}
	callNames := map[string]string{}
	for i, m := range req.Messages {
		wm := message{Role: string(m.Role), Content: m.Text()}
		switch m.Role {
		case provider.RoleSystem, provider.RoleUser, provider.RoleAssistant, provider.RoleTool:
		default:
			return nil, fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
		for _, p := range m.Content {
			switch p.Type {
			case provider.PartText:
			case provider.PartImage:
				if p.Image == nil || len(p.Image.Data) == 0 {
					return nil, fmt.Errorf("message %d: Ollama takes images as data only, not by URL", i)
				}
				wm.Images = append(wm.Images, base64.StdEncoding.EncodeToString(p.Image.Data))
			default:
				return nil, fmt.Errorf("message %d: unknown part type %q", i, p.Type)
			}
		}
		for _, c := range m.ToolCalls {
			var tc toolCall
			tc.Function.Name = c.Name
			args := strings.TrimSpace(c.Arguments)
			if args == "" {
				args = "{}"
			}
			if !json.Valid([]byte(args)) {
				return nil, fmt.Errorf("message %d: the arguments of tool call %s are not JSON", i, c.Name)
			}
			tc.Function.Arguments = json.RawMessage(args)
			wm.ToolCalls = append(wm.ToolCalls, tc)
			callNames[c.ID] = c.Name
		}
		if m.Role == provider.RoleTool {
			wm.ToolName = m.Name
			if wm.ToolName == "" {
				wm.ToolName = callNames[m.ToolCallID]
			}
		}
		w.Messages = append(w.Messages, wm)
	}
	if req.ToolChoice != "none" {
		for _, t := range req.Tools {
			wt := tool{Type: "function"}
			wt.Function.Name, wt.Function.Description, wt.Function.Parameters = t.Name, t.Description, t.Parameters
			w.Tools = append(w.Tools, wt)
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch {
		case rf.Type == "json_object" || (rf.Type == "json_schema" && len(rf.Schema) == 0):
			w.Format = json.RawMessage(`"json"`)
		case rf.Type == "json_schema":
			if !json.Valid(rf.Schema) {
				return nil, fmt.Errorf("the response schema is not JSON")
			}
			w.Format = rf.Schema
		default:
			return nil, fmt.Errorf("unknown response format %q", rf.Type)
		}
	}
	if req.Temperature != nil || req.TopP != nil || req.MaxTokens > 0 || len(req.Stop) > 0 {
		w.Options = &options{Temperature: req.Temperature, TopP: req.TopP, NumPredict: req.MaxTokens, Stop: req.Stop}
	}
	return json.Marshal(w)
}

type chatResponse struct {
	Model     string `json:"model"`
	CreatedAt string `json:"created_at"`
	Message   struct {
		Role      string `json:"role"`
		Content   string `json:"content"`
		ToolCalls []struct {
			ID       string `json:"id"`
			Function struct {
				Index     *int            `json:"index"`
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

func (r *chatResponse) usage() provider.Usage {
	return provider.Usage{InputTokens: r.PromptEvalCount, OutputTokens: r.EvalCount}
}

func finish(reason string, calls bool) provider.FinishReason {
	switch {
	case calls:
		return provider.FinishToolCalls
	case reason == "length":
		return provider.FinishLength
	case reason == "stop" || reason == "":
		return provider.FinishStop
	}
	return provider.FinishReason(reason)
}

// arguments gives tool arguments as a JSON string whether Ollama sent an
// object or (as some versions do) a string.
func arguments(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	return string(raw)
}

func callID(id string, n int) string {
	if id != "" {
		return id
	}
	return "call_" + strconv.Itoa(n)
}

// DecodeChat reads a whole /api/chat answer.
func DecodeChat(body []byte) (*provider.ChatResponse, error) {
	var r chatResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	if r.Error != "" {
		return nil, &provider.Error{Code: provider.CodeUpstream, Message: provider.Truncate(r.Error, 512)}
	}
	out := &provider.ChatResponse{Model: r.Model, Message: provider.Message{Role: provider.RoleAssistant},
		FinishReason: finish(r.DoneReason, len(r.Message.ToolCalls) > 0), Usage: r.usage()}
	if t, err := time.Parse(time.RFC3339Nano, r.CreatedAt); err == nil {
		out.Created = t
	}
	if r.Message.Content != "" {
		out.Message.Content = []provider.Part{{Type: provider.PartText, Text: r.Message.Content}}
	}
	for i, c := range r.Message.ToolCalls {
		out.Message.ToolCalls = append(out.Message.ToolCalls, provider.ToolCall{ID: callID(c.ID, i), Name: c.Function.Name, Arguments: arguments(c.Function.Arguments)})
	}
	return out, nil
}

func (a *Adapter) chat(ctx context.Context, req *provider.ChatRequest, stream bool) (*http.Response, error) {
	body, err := EncodeChat(req, stream)
	if err != nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	return a.client.Do(ctx, provider.Request{Method: http.MethodPost, Path: "/api/chat", Body: body})
}

func (a *Adapter) get(ctx context.Context, r provider.Request) ([]byte, error) {
	res, err := a.client.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, provider.TransportError(ctx, err)
	}
	return body, nil
}

// Chat sends a chat request with "stream": false.
func (a *Adapter) Chat(ctx context.Context, req *provider.ChatRequest) (*provider.ChatResponse, error) {
	res, err := a.chat(ctx, req, false)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, provider.TransportError(ctx, err)
	}
	return DecodeChat(body)
}

// ChatStream sends a chat request and reads the NDJSON stream.
func (a *Adapter) ChatStream(ctx context.Context, req *provider.ChatRequest) (provider.ChatStream, error) {
	res, err := a.chat(ctx, req, true)
	if err != nil {
		return nil, err
	}
	return &stream{ctx: ctx, body: res.Body, r: bufio.NewReaderSize(res.Body, 64<<10)}, nil
}

// maxLine bounds one line of a stream.
const maxLine = 4 << 20

type stream struct {
	ctx   context.Context
	body  io.ReadCloser
	r     *bufio.Reader
	meta  bool
	calls int
	err   error
	close sync.Once
}

// Recv returns the next chunk; io.EOF after the "done" object. A stream
// that ends before it is an error with code provider.CodeNetwork.
func (s *stream) Recv() (*provider.ChatChunk, error) {
	for s.err == nil {
		c, err := s.next()
		if err != nil {
			s.err = err
			_ = s.Close()
			break
		}
		if c != nil {
			return c, nil
		}
	}
	return nil, s.err
}

// readLine returns one whole line; a last line without its newline is a
// stream cut short (io.ErrUnexpectedEOF).
func (s *stream) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, provider.Errorf(provider.CodeBadResponse, nil, "a stream line is longer than %d bytes", maxLine)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
}

func (s *stream) next() (*provider.ChatChunk, error) {
	line, err := s.readLine()
	if err != nil {
		return nil, provider.ReadError(s.ctx, err, "stream")
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil
	}
	var r chatResponse
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "a stream line is not the JSON expected: %v", err)
	}
	if r.Error != "" {
		return nil, &provider.Error{Code: provider.CodeUpstream, Message: provider.Truncate(r.Error, 512)}
	}
	c := &provider.ChatChunk{Text: r.Message.Content}
	if !s.meta {
		c.Model, s.meta = r.Model, true
	}
	for _, tc := range r.Message.ToolCalls {
		c.ToolCalls = append(c.ToolCalls, provider.ToolCallDelta{Index: s.calls, ID: callID(tc.ID, s.calls), Name: tc.Function.Name, Arguments: arguments(tc.Function.Arguments)})
		s.calls++
	}
	if r.Done {
		c.FinishReason = finish(r.DoneReason, s.calls > 0)
		u := r.usage()
		c.Usage = &u
		s.err = io.EOF
		_ = s.Close()
	}
	return c, nil
}

func (s *stream) Close() error {
	s.close.Do(func() { _ = s.body.Close() })
	return nil
}

// Embed calls /api/embed.
func (a *Adapter) Embed(ctx context.Context, req *provider.EmbedRequest) (*provider.EmbedResponse, error) {
	in := req.Input
	if in == nil {
		in = []string{}
	}
	body, err := json.Marshal(struct {
		Model      string   `json:"model"`
		Input      []string `json:"input"`
		Dimensions int      `json:"dimensions,omitempty"`
	}{req.Model, in, req.Dimensions})
	if err != nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	b, err := a.get(ctx, provider.Request{Method: http.MethodPost, Path: "/api/embed", Body: body})
	if err != nil {
		return nil, err
	}
	var r struct {
		Model           string      `json:"model"`
		Embeddings      [][]float32 `json:"embeddings"`
		PromptEvalCount int         `json:"prompt_eval_count"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	if len(r.Embeddings) != len(req.Input) {
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the provider returned %d vectors for %d inputs", len(r.Embeddings), len(req.Input))
	}
	return &provider.EmbedResponse{Model: r.Model, Vectors: r.Embeddings, Usage: provider.Usage{InputTokens: r.PromptEvalCount}}, nil
}

// ListModels lists the local models (GET /api/tags). DisplayName says the
// family, parameter size and size on disk ("llama3.2:latest (llama, 3.2B,
// 2.0 GB)").
func (a *Adapter) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	b, err := a.get(ctx, provider.Request{Method: http.MethodGet, Path: "/api/tags"})
	if err != nil {
		return nil, err
	}
	var r struct {
		Models []struct {
			Name       string `json:"name"`
			Model      string `json:"model"`
			ModifiedAt string `json:"modified_at"`
			Size       int64  `json:"size"`
			Details    struct {
				Family        string   `json:"family"`
				Families      []string `json:"families"`
				ParameterSize string   `json:"parameter_size"`
			} `json:"details"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the model list is not the JSON expected: %v", err)
	}
	out := make([]provider.ModelInfo, 0, len(r.Models))
	for _, m := range r.Models {
		id := m.Name
		if id == "" {
			id = m.Model
		}
		if id == "" {
			continue
		}
		mi := provider.ModelInfo{ID: id, DisplayName: displayName(id, m.Details.Family, m.Details.ParameterSize, m.Size), OwnedBy: "ollama",
			Embeddings: strings.Contains(strings.ToLower(id), "embed") || strings.Contains(strings.ToLower(m.Details.Family), "bert")}
		if t, err := time.Parse(time.RFC3339Nano, m.ModifiedAt); err == nil {
			mi.Created = t
		}
		out = append(out, mi)
	}
	return out, nil
}

func displayName(id, family, params string, size int64) string {
	var about []string
	sz := ""
	if size > 0 {
		sz = fmt.Sprintf("%.1f GB", float64(size)/1e9)
	}
	for _, s := range []string{family, params, sz} {
		if s != "" {
			about = append(about, s)
		}
	}
	if len(about) == 0 {
		return id
	}
	return id + " (" + strings.Join(about, ", ") + ")"
}

// Ping lists the models.
func (a *Adapter) Ping(ctx context.Context) error {
	_, err := a.ListModels(ctx)
	return err
}

// ParseError reads Ollama's {"error": "…"}.
func ParseError(_ int, body []byte) (typ, message string) {
	var r struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil {
		return "", ""
	}
	switch e := r.Error.(type) {
	case string:
		return "", e
	case map[string]any:
		m, _ := e["message"].(string)
		t, _ := e["type"].(string)
		return t, m
	}
	return "", ""
}
