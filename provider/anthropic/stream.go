package anthropic

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/switchyard/switchyard/provider"
)

// ChatStream sends a request with stream: true and returns its events as
// chunks: the first carries the ID and model, then text and tool call
// deltas, and the last the finish reason and usage (at message_stop).
func (a *Adapter) ChatStream(ctx context.Context, req *provider.ChatRequest) (provider.ChatStream, error) {
	tr, err := translate(req)
	if err != nil {
		return nil, err
	}
	body, err := tr.body(true)
	if err != nil {
		return nil, err
	}
	res, err := a.do(ctx, provider.Request{Method: http.MethodPost, Path: "/v1/messages", Body: body})
	if err != nil {
		return nil, err
	}
	hb := &provider.HookedBody{ReadCloser: res.Body}
	return &stream{ctx: ctx, body: hb, sse: provider.NewSSEReader(hb),
		jsonTool: tr.jsonTool, blocks: map[int]*blockState{}}, nil
}

// blockKind is what a content block of the stream becomes.
type blockKind int

const (
	blockIgnored blockKind = iota // thinking and the other blocks not carried
	blockText
	blockTool // a call of one of the request's tools
	blockJSON // the call of the JSON answer tool: its input is the text
)

type blockState struct {
	kind blockKind
	// tool is the call's index among the tool calls of the answer.
	tool int
	// sent says whether any argument fragment was passed on.
	sent bool
}

type stream struct {
	ctx      context.Context
	body     *provider.HookedBody
	sse      *provider.SSEReader
	jsonTool string
	closed   atomic.Bool

	blocks   map[int]*blockState
	tools    int
	answered bool            // the JSON answer tool was called
	held     strings.Builder // text held back while JSON output is asked for
	stop     string
	usage    usage
	err      error
}

// event is one Messages API stream event.
type event struct {
	Type         string         `json:"type"`
	Message      *response      `json:"message"`
	Index        int            `json:"index"`
	ContentBlock *responseBlock `json:"content_block"`
	Delta        struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *usage `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// Recv returns the next chunk; io.EOF after message_stop.
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
		chunk, done, err := s.handle(ev)
		if err != nil {
			return nil, s.fail(err)
		}
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

func (s *stream) fail(err error) error {
	s.err = err
	s.Close()
	return err
}

func (s *stream) readError(err error) error {
	if s.closed.Load() && s.ctx.Err() == nil {
		return provider.Errorf(provider.CodeNetwork, err, "the stream was closed")
	}
	return provider.ReadError(s.ctx, err, "stream")
}

// handle turns one event into a chunk (nil when it carries nothing to pass
// on); done is set at message_stop.
func (s *stream) handle(raw provider.Event) (chunk *provider.ChatChunk, done bool, err error) {
	var ev event
	if err := json.Unmarshal(raw.Data, &ev); err != nil {
		return nil, false, provider.Errorf(provider.CodeBadResponse, err, "a stream event is not the JSON expected: %v", err)
	}
	if ev.Type == "" {
		ev.Type = raw.Name
	}
	switch ev.Type {
	case "message_start":
		if ev.Message == nil {
			return nil, false, nil
		}
		s.usage.merge(ev.Message.Usage)
		return &provider.ChatChunk{ID: ev.Message.ID, Model: ev.Message.Model}, false, nil

	case "content_block_start":
		b := ev.ContentBlock
		if b == nil {
			return nil, false, nil
		}
		st := &blockState{}
		s.blocks[ev.Index] = st
		switch {
		case b.Type == "text":
			st.kind = blockText
			return s.text(b.Text), false, nil
		case b.Type == "tool_use" && s.jsonTool != "" && b.Name == s.jsonTool:
			st.kind = blockJSON
			s.answered = true
		case b.Type == "tool_use":
			st.kind, st.tool = blockTool, s.tools
			s.tools++
			return &provider.ChatChunk{ToolCalls: []provider.ToolCallDelta{{Index: st.tool, ID: b.ID, Name: b.Name}}}, false, nil
		}
		return nil, false, nil

	case "content_block_delta":
		st := s.blocks[ev.Index]
		if st == nil {
			return nil, false, nil
		}
		switch {
		case ev.Delta.Type == "text_delta" && st.kind == blockText:
			return s.text(ev.Delta.Text), false, nil
		case ev.Delta.Type == "input_json_delta" && ev.Delta.PartialJSON != "":
			switch st.kind {
			case blockTool:
				st.sent = true
				return &provider.ChatChunk{ToolCalls: []provider.ToolCallDelta{{Index: st.tool, Arguments: ev.Delta.PartialJSON}}}, false, nil
			case blockJSON:
				st.sent = true
				return &provider.ChatChunk{Text: ev.Delta.PartialJSON}, false, nil
			}
		}
		return nil, false, nil // thinking_delta, signature_delta, citations_delta

	case "content_block_stop":
		// A call without arguments has the empty object as its input.
		st := s.blocks[ev.Index]
		if st == nil || st.sent {
			return nil, false, nil
		}
		switch st.kind {
		case blockTool:
			return &provider.ChatChunk{ToolCalls: []provider.ToolCallDelta{{Index: st.tool, Arguments: "{}"}}}, false, nil
		case blockJSON:
			return &provider.ChatChunk{Text: "{}"}, false, nil
		}
		return nil, false, nil

	case "message_delta":
		if ev.Delta.StopReason != "" {
			s.stop = ev.Delta.StopReason
		}
		if ev.Usage != nil {
			s.usage.merge(*ev.Usage)
		}
		return nil, false, nil

	case "message_stop":
		u := s.usage.internal()
		last := &provider.ChatChunk{FinishReason: finishReason(s.stop, s.tools > 0), Usage: &u}
		if !s.answered && s.tools == 0 {
			last.Text = s.held.String() // JSON output asked for, but the model only wrote
		}
		return last, true, nil

	case "error":
		return nil, false, &provider.Error{Code: codeForType(ev.Error.Type), Type: ev.Error.Type,
			Message: provider.Truncate(ev.Error.Message, 512)}
	}
	return nil, false, nil // ping, and events this adapter does not know
}

// text passes text on; with JSON output it is held back (the answer is the
// answer tool's input, and text before it is the model's preamble).
func (s *stream) text(t string) *provider.ChatChunk {
	if t == "" {
		return nil
	}
	if s.jsonTool != "" {
		s.held.WriteString(t)
		return nil
	}
	return &provider.ChatChunk{Text: t}
}
