// Package bedrock speaks Amazon Bedrock's Converse API: Converse,
// ConverseStream (the binary AWS event stream, decoded here) and the
// control plane's ListFoundationModels. Requests are signed by the
// credential's authenticator (aws_sigv4, service "bedrock"), which this
// package does not implement.
package bedrock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard/switchyard/provider"
)

// errorTypeLine carries the x-amzn-ErrorType header to the error parser,
// which sees the body alone (see withErrorType).
const errorTypeLine = "x-amzn-ErrorType: "

type adapter struct {
	rt  *provider.Client // bedrock-runtime
	ctl *provider.Client // the bedrock control plane
	now func() time.Time
}

// New builds a Bedrock adapter. The base URL is the provider's runtime
// endpoint (https://bedrock-runtime.{region}.amazonaws.com, made from the
// "region" parameter when the provider has none); the control plane's is
// derived from it.
func New(cfg provider.Config) (provider.Adapter, error) {
	if cfg.Provider == nil {
		return nil, errors.New("bedrock: no provider given")
	}
	p := *cfg.Provider
	if p.BaseURL == "" {
		region := cfg.Param("region", cfg.Credential.Config["region"])
		if region == "" {
			return nil, errors.New("bedrock: the provider has neither a base URL nor a region")
		}
		p.BaseURL = "https://bedrock-runtime." + region + ".amazonaws.com"
	}
	cfg.Provider = &p
	ctlURL, err := controlURL(p.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.HTTP != nil {
		cfg.HTTP = withErrorType{cfg.HTTP}
	}
	rt, err := cfg.Client(provider.KeyPlacement{Header: "Authorization", Prefix: "Bearer "}, parseError)
	if err != nil {
		return nil, err
	}
	ctl := *rt
	ctl.BaseURL = ctlURL
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &adapter{rt: rt, ctl: &ctl, now: now}, nil
}

// controlURL derives the control plane's base URL from the runtime's:
// bedrock-runtime.{region}.amazonaws.com becomes bedrock.{region}…, the
// FIPS and VPC endpoint names alike. A host without "bedrock-runtime" (a
// proxy, a fake) serves both.
func controlURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", errors.New("bedrock: the base URL is not an absolute URL")
	}
	if i := strings.Index(u.Host, "bedrock-runtime"); i >= 0 {
		u.Host = u.Host[:i] + "bedrock" + u.Host[i+len("bedrock-runtime"):]
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// withErrorType passes error answers' x-amzn-ErrorType header to the error
// parser as a first line of the body, since provider.ErrorParser sees the
// body alone and AWS puts the error type in the header.
type withErrorType struct{ provider.Doer }

func (d withErrorType) Do(req *http.Request) (*http.Response, error) {
	res, err := d.Doer.Do(req)
	if err != nil || res.StatusCode < 300 {
		return res, err
	}
	if typ := res.Header.Get("X-Amzn-Errortype"); typ != "" {
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(strings.NewReader(errorTypeLine+typ+"\n"), res.Body), res.Body}
	}
	return res, nil
}

// parseError reads an AWS JSON error: the type from x-amzn-ErrorType (or
// the body's "__type"/"code"), without its namespace, and the message.
func parseError(_ int, body []byte) (typ, message string) {
	if rest, ok := bytes.CutPrefix(body, []byte(errorTypeLine)); ok {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		typ, body = string(line), after
	}
	var e struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	if typ == "" {
		typ = e.Type
		if typ == "" {
			typ = e.Code
		}
	}
	message = e.Message
	if message == "" {
		message = e.Message2
	}
	return cleanType(typ), message
}

// cleanType strips "…:http://internal.amazon.com/coral/…" and
// "com.amazon.coral.service#" from an error type.
func cleanType(t string) string {
	t, _, _ = strings.Cut(t, ":")
	if i := strings.LastIndex(t, "#"); i >= 0 {
		t = t[i+1:]
	}
	return strings.TrimSpace(t)
}

func (a *adapter) Chat(ctx context.Context, req *provider.ChatRequest) (*provider.ChatResponse, error) {
	body, err := a.encode(req)
	if err != nil {
		return nil, err
	}
	res, err := a.rt.Do(ctx, provider.Request{Method: http.MethodPost, Path: "/model/" + escapeModel(req.Model) + "/converse", Body: body})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out converseResponse
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		if ctx.Err() != nil {
			return nil, provider.TransportError(ctx, err)
		}
		return nil, provider.Errorf(provider.CodeBadResponse, err, "the provider's answer is not the JSON expected: %v", err)
	}
	r, err := fromConverse(&out, req.Model, res.Header.Get("X-Amzn-Requestid"))
	if err != nil {
		return nil, err
	}
	r.Created = a.now()
	return r, nil
}

func (a *adapter) encode(req *provider.ChatRequest) ([]byte, error) {
	if req.Model == "" {
		return nil, invalid("no model given")
	}
	cr, err := toConverse(req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(cr)
}

func (a *adapter) ChatStream(ctx context.Context, req *provider.ChatRequest) (provider.ChatStream, error) {
	body, err := a.encode(req)
	if err != nil {
		return nil, err
	}
	res, err := a.rt.Do(ctx, provider.Request{Method: http.MethodPost, Path: "/model/" + escapeModel(req.Model) + "/converse-stream",
		Body: body, Header: http.Header{"Accept": {"application/vnd.amazon.eventstream"}}})
	if err != nil {
		return nil, err
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.amazon.eventstream") {
		res.Body.Close()
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the stream's content type is %q, not the AWS event stream", ct)
	}
	return &stream{ctx: ctx, body: res.Body, events: newEventReader(res.Body), id: res.Header.Get("X-Amzn-Requestid"),
		model: req.Model, tools: map[int]int{}}, nil
}

// Embed is not offered: Bedrock embeds through InvokeModel with a body per
// model family (Titan, Cohere), which this adapter does not speak.
func (a *adapter) Embed(context.Context, *provider.EmbedRequest) (*provider.EmbedResponse, error) {
	return nil, provider.ErrUnsupported
}

type foundationModels struct {
	ModelSummaries []struct {
		ModelID          string   `json:"modelId"`
		ModelName        string   `json:"modelName"`
		ProviderName     string   `json:"providerName"`
		InputModalities  []string `json:"inputModalities"`
		OutputModalities []string `json:"outputModalities"`
	} `json:"modelSummaries"`
}

// ListModels calls the control plane's ListFoundationModels.
func (a *adapter) ListModels(ctx context.Context) ([]provider.ModelInfo, error) {
	var out foundationModels
	if err := a.ctl.JSON(ctx, http.MethodGet, "/foundation-models", nil, &out); err != nil {
		return nil, err
	}
	models := make([]provider.ModelInfo, 0, len(out.ModelSummaries))
	for _, m := range out.ModelSummaries {
		info := provider.ModelInfo{ID: m.ModelID, DisplayName: m.ModelName, OwnedBy: m.ProviderName,
			InputModalities: lower(m.InputModalities), OutputModalities: lower(m.OutputModalities)}
		for _, o := range m.OutputModalities {
			if o == "EMBEDDING" {
				info.Embeddings = true
			}
		}
		models = append(models, info)
	}
	return models, nil
}

func lower(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

// Ping lists Amazon's embedding models, a short signed answer. It needs
// bedrock:ListFoundationModels; the runtime has no call that is free.
func (a *adapter) Ping(ctx context.Context) error {
	return a.ctl.JSON(ctx, http.MethodGet, "/foundation-models?byProvider=Amazon&byOutputModality=EMBEDDING", nil, nil)
}

// stream turns ConverseStream events into chunks.
type stream struct {
	ctx    context.Context
	body   io.ReadCloser
	events *eventReader
	id     string
	model  string
	// tools maps content block indexes to tool call indexes.
	tools   map[int]int
	started bool
	stop    string
	done    bool
}

type streamEvent struct {
	Role              string `json:"role"`
	ContentBlockIndex int    `json:"contentBlockIndex"`
	Start             *struct {
		ToolUse *struct {
			ToolUseID string `json:"toolUseId"`
			Name      string `json:"name"`
		} `json:"toolUse"`
	} `json:"start"`
	Delta *struct {
		Text    *string `json:"text"`
		ToolUse *struct {
			Input string `json:"input"`
		} `json:"toolUse"`
	} `json:"delta"`
	StopReason string     `json:"stopReason"`
	Usage      *wireUsage `json:"usage"`
}

// Recv returns the next chunk. The first carries the id and model; the one
// made of messageStop and metadata (Bedrock's usage comes after the stop)
// carries the finish reason and usage.
func (s *stream) Recv() (*provider.ChatChunk, error) {
	for {
		if s.done {
			return nil, io.EOF
		}
		msg, err := s.events.Next()
		if err == io.EOF && s.stop != "" {
			// No metadata event: the finish comes without usage.
			s.done = true
			return &provider.ChatChunk{FinishReason: finishReason(s.stop)}, nil
		}
		if err != nil {
			return nil, s.readError(err)
		}
		switch msg.Headers[":message-type"] {
		case "event":
		case "exception":
			s.done = true
			return nil, streamException(msg)
		case "error":
			s.done = true
			return nil, &provider.Error{Code: provider.CodeUpstream, Type: msg.Headers[":error-code"],
				Message: provider.Truncate(msg.Headers[":error-message"], 512)}
		default:
			continue
		}
		var ev streamEvent
		if err := json.Unmarshal(msg.Payload, &ev); err != nil {
			s.done = true
			return nil, provider.Errorf(provider.CodeBadResponse, err, "the %s event is not the JSON expected: %v", msg.Headers[":event-type"], err)
		}
		chunk := &provider.ChatChunk{}
		if !s.started {
			s.started = true
			chunk.ID, chunk.Model = s.id, s.model
		}
		switch msg.Headers[":event-type"] {
		case "messageStart":
			return chunk, nil
		case "contentBlockStart":
			if ev.Start != nil && ev.Start.ToolUse != nil {
				i := len(s.tools)
				s.tools[ev.ContentBlockIndex] = i
				chunk.ToolCalls = []provider.ToolCallDelta{{Index: i, ID: ev.Start.ToolUse.ToolUseID, Name: ev.Start.ToolUse.Name}}
				return chunk, nil
			}
		case "contentBlockDelta":
			if ev.Delta == nil {
				break
			}
			if ev.Delta.Text != nil && *ev.Delta.Text != "" {
				chunk.Text = *ev.Delta.Text
				return chunk, nil
			}
			if ev.Delta.ToolUse != nil && ev.Delta.ToolUse.Input != "" {
				i, ok := s.tools[ev.ContentBlockIndex]
				if !ok {
					s.done = true
					return nil, provider.Errorf(provider.CodeBadResponse, nil, "tool input for content block %d, which started no tool use", ev.ContentBlockIndex)
				}
				chunk.ToolCalls = []provider.ToolCallDelta{{Index: i, Arguments: ev.Delta.ToolUse.Input}}
				return chunk, nil
			}
		case "messageStop":
			s.stop = ev.StopReason
			if s.stop == "" {
				s.stop = "end_turn"
			}
		case "metadata":
			if s.stop == "" {
				break // usage before the stop: not Bedrock's order, keep reading
			}
			s.done = true
			u := ev.Usage.usage()
			chunk.FinishReason, chunk.Usage = finishReason(s.stop), &u
			return chunk, nil
		}
		if chunk.ID != "" {
			return chunk, nil
		}
	}
}

// readError classifies a failure to read the next message. The body ending
// before messageStop, between messages or inside one, is a cut.
func (s *stream) readError(err error) error {
	s.done = true
	switch {
	case errors.Is(err, errFraming):
		return provider.Errorf(provider.CodeBadResponse, err, "the event stream is corrupt: %v", err)
	}
	return provider.ReadError(s.ctx, err, "stream")
}

// streamException turns an exception message into an error: its
// :exception-type names the kind, the payload holds the message.
func streamException(msg message) *provider.Error {
	typ := msg.Headers[":exception-type"]
	var body struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(msg.Payload, &body)
	if body.Message == "" {
		body.Message = body.Message2
	}
	code := provider.CodeUpstream
	switch strings.ToLower(typ) {
	case "throttlingexception":
		code = provider.CodeRateLimited
	case "validationexception":
		code = provider.CodeBadRequest
	case "serviceunavailableexception":
		code = provider.CodeUnavailable
	case "modeltimeoutexception":
		code = provider.CodeTimeout
	case "accessdeniedexception":
		code = provider.CodeForbidden
	}
	if body.Message == "" {
		body.Message = "the stream failed with " + typ
	}
	return &provider.Error{Code: code, Type: typ, Message: provider.Truncate(body.Message, 512)}
}

func (s *stream) Close() error {
	s.done = true
	return s.body.Close()
}
