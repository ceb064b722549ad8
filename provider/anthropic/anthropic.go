// Package anthropic speaks the Anthropic Messages API: chat (JSON and
// server-sent events), the model list, and a ping. The protocol has no
// embeddings.
//
// Requests go to {base}/v1/messages with the key in x-api-key (unless the
// credential says otherwise) and an anthropic-version header: the
// provider's own when its headers set one, else DefaultVersion.
//
// Translation: system messages become the top-level system prompt;
// consecutive messages of one role are merged (the API wants user and
// assistant turns to alternate), tool results being user messages. JSON
// output, for which the API has no flag, is a forced call of an extra tool
// whose input schema is the requested schema; its input is returned as the
// message text (see jsonOutput).
//
// Usage: InputTokens counts the whole prompt, that is Anthropic's
// input_tokens plus cache_read_input_tokens and cache_creation_input_tokens,
// so that CachedInputTokens (cache reads) and CacheWriteTokens (cache
// writes) are parts of it, as with the other protocols.
package anthropic

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/provider"
)

const (
	// DefaultBaseURL is the Anthropic API.
	DefaultBaseURL = "https://api.anthropic.com"
	// DefaultVersion is the anthropic-version sent when the provider's
	// headers set none.
	DefaultVersion = "2023-06-01"
	// VersionHeader is the header naming the API version.
	VersionHeader = "anthropic-version"
)

// maxModelPages bounds how many pages of the model list are followed.
const maxModelPages = 20

// modelPageSize is the page size asked of the model list (the API's
// maximum).
const modelPageSize = 1000

// Adapter is the Anthropic protocol for one provider and credential.
type Adapter struct {
	c *provider.Client
}

var _ provider.Adapter = (*Adapter)(nil)

// New builds the adapter of a provider. An empty base URL is the Anthropic
// API; a base URL ending in /v1 is taken without it, since every path
// starts with /v1.
func New(cfg provider.Config) (provider.Adapter, error) {
	c, err := cfg.Client(provider.AnthropicPlacement, parseError)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	c.BaseURL = strings.TrimSuffix(base, "/v1")
	if c.Header.Get(VersionHeader) == "" {
		c.Header.Set(VersionHeader, DefaultVersion)
	}
	return &Adapter{c: c}, nil
}

// apiError is the body of an error answer, and the data of an error event.
type apiError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// parseError reads {"type":"error","error":{"type","message"}}.
func parseError(_ int, body []byte) (typ, message string) {
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return e.Error.Type, e.Error.Message
}

// codeForType maps Anthropic's error types to stable codes, for errors
// that arrive without a status (in a stream).
func codeForType(typ string) string {
	switch typ {
	case "invalid_request_error":
		return provider.CodeBadRequest
	case "authentication_error":
		return provider.CodeAuth
	case "permission_error", "billing_error":
		return provider.CodeForbidden
	case "not_found_error":
		return provider.CodeNotFound
	case "request_too_large":
		return provider.CodeTooLarge
	case "rate_limit_error":
		return provider.CodeRateLimited
	case "overloaded_error":
		return provider.CodeUnavailable
	case "timeout_error":
		return provider.CodeTimeout
	}
	return provider.CodeUpstream
}

// do sends a request, and refines the code of an error answer where
// Anthropic's type says more than the status (a prompt too long is a 400).
func (a *Adapter) do(ctx context.Context, r provider.Request) (*http.Response, error) {
	res, err := a.c.Do(ctx, r)
	if e, ok := provider.AsError(err); ok && e.Status != 0 {
		if e.Type == "request_too_large" || strings.Contains(e.Message, "prompt is too long") {
			e.Code = provider.CodeTooLarge
		}
	}
	return res, err
}

// readError classifies a failure to read an answer's body.
func readError(ctx context.Context, err error) *provider.Error {
	return provider.ReadError(ctx, err, "the answer")
}

// getJSON sends a GET and decodes the answer into out.
func (a *Adapter) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	res, err := a.do(ctx, provider.Request{Method: http.MethodGet, Path: path, Query: q})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return decode(ctx, res.Body, out)
}

func decode(ctx context.Context, r io.Reader, out any) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return readError(ctx, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return provider.Errorf(provider.CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	return nil
}

// response is a Messages API answer.
type response struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Model      string          `json:"model"`
	Content    []responseBlock `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      usage           `json:"usage"`
}

type responseBlock struct {
	Type  string          `json:"type"`
	Text  string          `json:"text"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// usage is Anthropic's usage; the pointers tell a stream's message_delta
// fields that are absent from those that are zero.
type usage struct {
	InputTokens              *int `json:"input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
}

// merge takes the fields o has.
func (u *usage) merge(o usage) {
	for _, f := range []struct{ dst, src **int }{
		{&u.InputTokens, &o.InputTokens}, {&u.OutputTokens, &o.OutputTokens},
		{&u.CacheCreationInputTokens, &o.CacheCreationInputTokens}, {&u.CacheReadInputTokens, &o.CacheReadInputTokens},
	} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
}

func (u usage) internal() provider.Usage {
	n := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	return provider.Usage{
		InputTokens:       n(u.InputTokens) + n(u.CacheReadInputTokens) + n(u.CacheCreationInputTokens),
		OutputTokens:      n(u.OutputTokens),
		CachedInputTokens: n(u.CacheReadInputTokens),
		CacheWriteTokens:  n(u.CacheCreationInputTokens),
	}
}

// finishReason maps stop_reason; toolCalls says whether the answer holds
// calls of the request's own tools (a call of the JSON answer tool is not
// one).
func finishReason(stop string, toolCalls bool) provider.FinishReason {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return provider.FinishLength
	case "tool_use":
		if toolCalls {
			return provider.FinishToolCalls
		}
		return provider.FinishStop
	case "refusal":
		return provider.FinishContentFilter
	}
	return provider.FinishStop // end_turn, stop_sequence, pause_turn
}

// body encodes a translated request.
func (t translation) body(stream bool) ([]byte, error) {
	t.req.Stream = stream
	b, err := json.Marshal(t.req)
	if err != nil {
		return nil, provider.Errorf(provider.CodeBadRequest, err, "cannot encode the request: %v", err)
	}
	return b, nil
}

// Chat sends a request and returns the whole answer.
func (a *Adapter) Chat(ctx context.Context, req *provider.ChatRequest) (*provider.ChatResponse, error) {
	tr, err := translate(req)
	if err != nil {
		return nil, err
	}
	body, err := tr.body(false)
	if err != nil {
		return nil, err
	}
	res, err := a.do(ctx, provider.Request{Method: http.MethodPost, Path: "/v1/messages", Body: body})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var r response
	if err := decode(ctx, res.Body, &r); err != nil {
		return nil, err
	}
	if r.Type != "" && r.Type != "message" {
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the provider answered a %q, not a message", r.Type)
	}
	out := &provider.ChatResponse{ID: r.ID, Model: r.Model, Usage: r.Usage.internal(),
		Message: provider.Message{Role: provider.RoleAssistant}}
	var text strings.Builder
	var answer string
	answered := false
	for _, b := range r.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			args := string(b.Input)
			if len(b.Input) == 0 || args == "null" {
				args = "{}"
			}
			if tr.jsonTool != "" && b.Name == tr.jsonTool {
				answer, answered = args, true
				continue
			}
			out.Message.ToolCalls = append(out.Message.ToolCalls, provider.ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		}
	}
	// With JSON output the answer is the answer tool's input; text around a
	// tool call is the model's preamble and is dropped.
	switch {
	case tr.jsonTool == "":
		if text.Len() > 0 {
			out.Message.Content = []provider.Part{{Type: provider.PartText, Text: text.String()}}
		}
	case answered:
		out.Message.Content = []provider.Part{{Type: provider.PartText, Text: answer}}
	case len(out.Message.ToolCalls) == 0 && text.Len() > 0:
		out.Message.Content = []provider.Part{{Type: provider.PartText, Text: text.String()}}
	}
	out.FinishReason = finishReason(r.StopReason, len(out.Message.ToolCalls) > 0)
	return out, nil
}

// Embed is not offered by the Messages API.
func (a *Adapter) Embed(context.Context, *provider.EmbedRequest) (*provider.EmbedResponse, error) {
	return nil, provider.ErrUnsupported
}

type modelPage struct {
	Data []struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
	} `json:"data"`
	HasMore bool   `json:"has_more"`
	LastID  string `json:"last_id"`
}

// ListModels follows the model list's pages (after_id, has_more), at most
// maxModelPages of them.
func (a *Adapter) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	var out []provider.ModelInfo
	after := ""
	for range maxModelPages {
		q := url.Values{"limit": {strconv.Itoa(modelPageSize)}}
		if after != "" {
			q.Set("after_id", after)
		}
		var page modelPage
		if err := a.getJSON(ctx, "/v1/models", q, &page); err != nil {
			return nil, err
		}
		for _, m := range page.Data {
			info := provider.ModelInfo{ID: m.ID, DisplayName: m.DisplayName}
			if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
				info.Created = t
			}
			out = append(out, info)
		}
		next := page.LastID
		if next == "" && len(page.Data) > 0 {
			next = page.Data[len(page.Data)-1].ID
		}
		if !page.HasMore || next == "" || next == after {
			break
		}
		after = next
	}
	return out, nil
}

// Ping asks for one model: authenticated, and free.
func (a *Adapter) Ping(ctx context.Context) error {
	var page modelPage
	return a.getJSON(ctx, "/v1/models", url.Values{"limit": {"1"}}, &page)
}
