package openai

import (
	"bytes"
	"context"
	"io"
	"sync"

	json "github.com/goccy/go-json"

	"github.com/switchyard/switchyard/provider"
)

// ChatStream reads a Chat Completions event stream. The chunk that carries
// the finish reason is held back until the next event, so that the usage
// OpenAI sends in a separate last chunk (stream_options.include_usage)
// arrives with it.
type ChatStream struct {
	ctx  context.Context
	body *provider.HookedBody
	sse  *provider.SSEReader

	meta  bool // the ID and Model were given
	held  *provider.ChatChunk
	ready []*provider.ChatChunk
	err   error
	close sync.Once
}

// NewChatStream reads the event stream in body; ctx is the request's
// context, used to tell a deadline or a cancellation from a dropped
// connection.
func NewChatStream(ctx context.Context, body io.ReadCloser) *ChatStream {
	b := &provider.HookedBody{ReadCloser: body}
	return &ChatStream{ctx: ctx, body: b, sse: provider.NewSSEReader(b)}
}

// Recv returns the next chunk; io.EOF after [DONE]. A stream that ends
// without [DONE] is an error with code provider.CodeNetwork.
func (s *ChatStream) Recv() (*provider.ChatChunk, error) {
	for {
		if len(s.ready) > 0 {
			c := s.ready[0]
			s.ready = s.ready[1:]
			return c, nil
		}
		if s.err != nil {
			if c := s.held; c != nil {
				s.held = nil
				return c, nil
			}
			return nil, s.err
		}
		c, err := s.next()
		switch {
		case err != nil:
			s.err = err
			_ = s.Close()
		case c == nil:
		case s.held != nil && c.Usage != nil && c.Text == "" && len(c.ToolCalls) == 0 && c.FinishReason == "":
			// The usage chunk that follows the finish reason.
			h := s.held
			s.held, h.Usage = nil, c.Usage
			return h, nil
		default:
			if s.held != nil {
				s.ready, s.held = append(s.ready, s.held), nil
			}
			if c.FinishReason != "" && c.Usage == nil {
				s.held = c
			} else {
				s.ready = append(s.ready, c)
			}
		}
	}
}

// BeforeRead makes the stream call fn before each read from the network
// (provider.ReadNotifier).
func (s *ChatStream) BeforeRead(fn func()) { s.body.Hook = fn }

// next reads one event: a chunk, nil for an event with nothing in it, or a
// terminal error (io.EOF after [DONE]).
func (s *ChatStream) next() (*provider.ChatChunk, error) {
	ev, err := s.sse.Next()
	if err != nil {
		s.sse.Release()
		return nil, provider.ReadError(s.ctx, err, "stream")
	}
	data := bytes.TrimSpace(ev.Data)
	if string(data) == "[DONE]" {
		s.sse.Release()
		return nil, io.EOF
	}
	if len(data) == 0 {
		return nil, nil
	}
	var r chatResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, provider.Errorf(provider.CodeBadResponse, err, "a stream event is not the JSON expected: %v", err)
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		typ, msg := ParseError(0, data)
		return nil, &provider.Error{Code: provider.CodeUpstream, Type: typ, Message: provider.Truncate(msg, 512)}
	}
	c := &provider.ChatChunk{}
	if len(r.Choices) > 0 {
		ch := r.Choices[0]
		if ch.Delta.Content != nil {
			c.Text = *ch.Delta.Content
		}
		for i, tc := range ch.Delta.ToolCalls {
			idx := i
			if tc.Index != nil {
				idx = *tc.Index
			}
			c.ToolCalls = append(c.ToolCalls, provider.ToolCallDelta{Index: idx, ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		if ch.FinishReason != "" {
			c.FinishReason = FinishReason(ch.FinishReason)
		}
	}
	if r.Usage != nil {
		u := r.Usage.internal()
		c.Usage = &u
	}
	if !s.meta {
		c.ID, c.Model, s.meta = r.ID, r.Model, true
		return c, nil
	}
	if c.Text == "" && len(c.ToolCalls) == 0 && c.FinishReason == "" && c.Usage == nil {
		return nil, nil
	}
	return c, nil
}

// Close releases the connection.
func (s *ChatStream) Close() error {
	s.close.Do(func() { _ = s.body.Close() })
	return nil
}
