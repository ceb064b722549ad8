package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/switchyard/switchyard/provider"
)

// ChatStream calls :streamGenerateContent?alt=sse, whose events are
// GenerateContentResponse objects: text pieces, whole function calls, and
// a last one with the finish reason and the usage.
func (a *adapter) ChatStream(ctx context.Context, req *provider.ChatRequest) (provider.ChatStream, error) {
	body, err := translate(req)
	if err != nil {
		return nil, err
	}
	res, err := a.post(ctx, req.Model, "streamGenerateContent", url.Values{"alt": {"sse"}}, body)
	if err != nil {
		return nil, err
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		res.Body.Close()
		return nil, provider.Errorf(provider.CodeBadResponse, nil, "the stream's content type is %q, not server-sent events", ct)
	}
	hb := &provider.HookedBody{ReadCloser: res.Body}
	return &stream{ctx: ctx, body: hb, sse: provider.NewSSEReader(hb), model: req.Model}, nil
}

type stream struct {
	ctx    context.Context
	body   *provider.HookedBody
	sse    *provider.SSEReader
	model  string
	closed atomic.Bool

	started bool
	calls   int
	usage   *usageMetadata
	err     error
}

// Recv returns the next chunk; io.EOF after the one with the finish
// reason. A stream that ends without one was cut: network_error.
func (s *stream) Recv() (*provider.ChatChunk, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.closed.Load() {
		s.err = provider.Errorf(provider.CodeNetwork, nil, "the stream was closed")
		return nil, s.err
	}
	for {
		ev, err := s.sse.Next()
		if err != nil {
			s.sse.Release()
			return nil, s.fail(s.readError(err))
		}
		if len(strings.TrimSpace(string(ev.Data))) == 0 {
			continue
		}
		var r response
		if err := json.Unmarshal(ev.Data, &r); err != nil {
			return nil, s.fail(provider.Errorf(provider.CodeBadResponse, err, "a stream event is not the JSON expected: %v", err))
		}
		if e := r.Error; e != nil {
			return nil, s.fail(&provider.Error{Code: codeFor(e.Status, e.Message, provider.CodeUpstream), Type: e.Status,
				Message: provider.Truncate(e.Message, 512)})
		}
		chunk, done := s.handle(&r)
		if done {
			s.err = io.EOF
			s.sse.Release()
			s.Close()
			return chunk, nil
		}
		if chunk != nil {
			return chunk, nil
		}
	}
}

// handle turns one event into a chunk (nil when it carries nothing new);
// done is set by the finish reason.
func (s *stream) handle(r *response) (chunk *provider.ChatChunk, done bool) {
	chunk = &provider.ChatChunk{}
	empty := true
	if !s.started {
		s.started, empty = true, false
		chunk.ID, chunk.Model = r.ResponseID, r.ModelVersion
		if chunk.Model == "" {
			chunk.Model = s.model
		}
	}
	if r.UsageMetadata != nil {
		s.usage = r.UsageMetadata
	}
	finish := ""
	if len(r.Candidates) > 0 {
		c := r.Candidates[0]
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					chunk.ToolCalls = append(chunk.ToolCalls, provider.ToolCallDelta{Index: s.calls, ID: callID(s.calls),
						Name: p.FunctionCall.Name, Arguments: argsString(p.FunctionCall.Args)})
					s.calls++
					empty = false
				case p.Text != nil && !p.Thought && *p.Text != "":
					chunk.Text += *p.Text
					empty = false
				}
			}
		}
		finish = c.FinishReason
	} else if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		finish = "PROHIBITED_CONTENT" // the prompt was blocked: no candidate at all
	}
	if finish != "" {
		u := s.usage.usage()
		chunk.FinishReason, chunk.Usage = finishReason(finish, s.calls > 0), &u
		return chunk, true
	}
	if empty {
		return nil, false
	}
	return chunk, false
}

func (s *stream) readError(err error) error {
	if s.closed.Load() && s.ctx.Err() == nil {
		return provider.Errorf(provider.CodeNetwork, err, "the stream was closed")
	}
	if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && s.ctx.Err() == nil {
		return provider.Errorf(provider.CodeNetwork, err, "stream ended early: the provider closed it before a finish reason")
	}
	return readError(s.ctx, err)
}

func (s *stream) fail(err error) error {
	s.err = err
	s.Close()
	return err
}

// BeforeRead makes the stream call fn before each read from the network
// (provider.ReadNotifier).
func (s *stream) BeforeRead(fn func()) { s.body.Hook = fn }

// Close releases the connection.
func (s *stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.body.Close()
}
