package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Options are the settings every fake shares. The zero value is usable.
type Options struct {
	// Faults to apply; nil gives the fake its own. Pass one value to several
	// fakes to fail them together.
	Faults *Faults
	// Recorder to record into; nil gives the fake its own.
	Recorder *Recorder
	// DisableFaultHeader ignores X-Fake-Fault (for a demo open to others).
	DisableFaultHeader bool
	// ChunkDelay is waited before each stream event, for realistic pacing.
	ChunkDelay time.Duration
	// StallLimit bounds a stalled response when the client never gives up
	// (default 30 s); the connection is then closed.
	StallLimit time.Duration
	// MaxBodyBytes bounds the request body (default 8 MiB); more is a 413.
	MaxBodyBytes int64
	// Now is the clock for "created" timestamps (default time.Now).
	Now func() time.Time
}

// core is the pipeline every fake shares: read and record the request, pick
// the fault, delay, route, inject status faults, and write responses that the
// fault may break.
type core struct {
	*Faults
	*Recorder
	opts Options
	seq  atomic.Uint64
	mux  *http.ServeMux
	// errorf writes an error in the protocol's shape.
	errorf func(w http.ResponseWriter, e apiError)
}

func newCore(opts Options, errorf func(http.ResponseWriter, apiError)) *core {
	if opts.Faults == nil {
		opts.Faults = &Faults{}
	}
	if opts.Recorder == nil {
		opts.Recorder = &Recorder{}
	}
	if opts.StallLimit <= 0 {
		opts.StallLimit = 30 * time.Second
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &core{Faults: opts.Faults, Recorder: opts.Recorder, opts: opts, mux: http.NewServeMux(), errorf: errorf}
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.errorf(w, apiError{Status: http.StatusNotFound, Kind: errNotFound, Message: "Not found: " + r.Method + " " + r.URL.Path})
	})
	return c
}

// handle registers a route ("POST /v1/chat/completions").
func (c *core) handle(pattern string, h func(*exchange)) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		x := r.Context().Value(exchangeKey{}).(*exchange)
		x.r = r // the routed request carries the path values
		h(x)
	})
}

type exchangeKey struct{}

// ServeHTTP runs the pipeline: record, fault, latency, route.
func (c *core) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, c.opts.MaxBodyBytes+1))
	c.record(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body, Time: c.opts.Now()})
	if err != nil {
		c.errorf(w, apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: "could not read the request body"})
		return
	}
	if int64(len(body)) > c.opts.MaxBodyBytes {
		c.errorf(w, apiError{Status: http.StatusRequestEntityTooLarge, Kind: errTooLarge, Message: "request body too large"})
		return
	}
	fault := c.next(r.URL.Path)
	if h := r.Header.Get(FaultHeader); h != "" && !c.opts.DisableFaultHeader {
		if fault, err = ParseFault(h); err != nil {
			c.errorf(w, apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: err.Error()})
			return
		}
	}
	if fault.Latency > 0 && !sleep(r.Context(), fault.Latency) {
		return
	}
	x := &exchange{w: w, r: r, body: body, fault: fault, c: c}
	c.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
}

// injectStatus answers a status fault and reports whether it did. Fakes call
// it after routing and before authentication: an injected failure fires
// whatever the request carries, like an upstream that is down.
func (x *exchange) injectStatus() bool {
	f := x.fault
	if f.Kind != FaultStatus {
		return false
	}
	retry := f.RetryAfter
	if retry <= 0 && f.Status == http.StatusTooManyRequests {
		retry = time.Second
	}
	if retry > 0 {
		x.w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	}
	e := apiError{Status: f.Status, Kind: kindForStatus(f.Status), Message: f.Message, Injected: true}
	if e.Message == "" {
		e.Message = defaultMessage(e.Kind)
	}
	x.c.errorf(x.w, e)
	return true
}

// errKind is the meaning of an error; each protocol renders it in its shape.
type errKind int

const (
	errInvalid errKind = iota
	errAuth
	errPermission
	errNotFound
	errModelNotFound
	errTooLarge
	errRateLimit
	errServer
	errOverloaded
)

type apiError struct {
	Status  int
	Kind    errKind
	Message string
	// Param names the offending field (OpenAI's "param").
	Param string
	// Code overrides the protocol's code for the kind.
	Code string
	// Injected marks a fault injected on purpose.
	Injected bool
}

func kindForStatus(status int) errKind {
	switch status {
	case 400, 422:
		return errInvalid
	case 401:
		return errAuth
	case 403:
		return errPermission
	case 404:
		return errNotFound
	case 413:
		return errTooLarge
	case 429:
		return errRateLimit
	case 503, 529:
		return errOverloaded
	}
	return errServer
}

func defaultMessage(k errKind) string {
	switch k {
	case errAuth:
		return "Authentication failed (injected by fake)."
	case errPermission:
		return "You do not have permission to do this (injected by fake)."
	case errNotFound, errModelNotFound:
		return "Not found (injected by fake)."
	case errRateLimit:
		return "Rate limit reached; please try again later (injected by fake)."
	case errOverloaded:
		return "The service is overloaded; please try again later (injected by fake)."
	case errInvalid, errTooLarge:
		return "Invalid request (injected by fake)."
	}
	return "The server had an error while processing your request (injected by fake)."
}

// writeJSON writes v with status, unbroken (for error bodies).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// exchange is one request being answered.
type exchange struct {
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	fault Fault
	c     *core
}

func (x *exchange) fail(e apiError) { x.c.errorf(x.w, e) }

// decode parses the body as JSON; it answers 400 and reports false when it
// cannot.
func (x *exchange) decode(v any, message string) bool {
	if err := json.Unmarshal(x.body, v); err != nil {
		x.fail(apiError{Status: http.StatusBadRequest, Kind: errInvalid, Message: message})
		return false
	}
	return true
}

// id returns a deterministic identifier: prefix and a sequence number.
func (x *exchange) id(prefix string) string {
	return fmt.Sprintf("%s%024d", prefix, x.c.seq.Add(1))
}

func (x *exchange) now() time.Time { return x.c.opts.Now() }

// reply writes a successful JSON body, broken as the fault says.
func (x *exchange) reply(v any) {
	b, _ := json.Marshal(v)
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	switch x.fault.Kind {
	case FaultMalformed:
		half := b[:len(b)/2]
		h.Set("Content-Length", strconv.Itoa(len(half)))
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write(half)
	case FaultCut, FaultStall:
		h.Set("Content-Length", strconv.Itoa(len(b)))
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write(b[:len(b)/2])
		_ = http.NewResponseController(x.w).Flush()
		if x.fault.Kind == FaultStall {
			sleep(x.r.Context(), x.c.opts.StallLimit)
		}
		panic(http.ErrAbortHandler)
	default:
		h.Set("Content-Length", strconv.Itoa(len(b)))
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write(b)
	}
}

// streamFormat is how events are framed on the wire.
type streamFormat int

const (
	sseData  streamFormat = iota // "data: {json}\n\n" (OpenAI)
	sseNamed                     // "event: name\ndata: {json}\n\n" (Anthropic)
	ndjson                       // "{json}\n" (Ollama)
)

type stream struct {
	x      *exchange
	format streamFormat
	rc     *http.ResponseController
	n      int
}

func (x *exchange) stream(format streamFormat) *stream {
	h := x.w.Header()
	if format == ndjson {
		h.Set("Content-Type", "application/x-ndjson")
	} else {
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("Connection", "keep-alive")
	}
	x.w.WriteHeader(http.StatusOK)
	s := &stream{x: x, format: format, rc: http.NewResponseController(x.w)}
	_ = s.rc.Flush()
	return s
}

// send writes one event; name is used by sseNamed only. A cut or stall fault
// ends the response before event number Fault.After.
func (s *stream) send(name string, v any) {
	b, _ := json.Marshal(v)
	s.write(name, b)
}

// raw writes one event whose data is not JSON ("[DONE]").
func (s *stream) raw(data string) { s.write("", []byte(data)) }

func (s *stream) write(name string, data []byte) {
	x := s.x
	if d := x.c.opts.ChunkDelay; d > 0 && !sleep(x.r.Context(), d) {
		panic(http.ErrAbortHandler)
	}
	if s.n == x.fault.After {
		switch x.fault.Kind {
		case FaultCut:
			panic(http.ErrAbortHandler)
		case FaultStall:
			sleep(x.r.Context(), x.c.opts.StallLimit)
			panic(http.ErrAbortHandler)
		case FaultMalformed:
			data = data[:len(data)/2]
		}
	}
	s.n++
	var buf bytes.Buffer
	switch s.format {
	case sseData:
		buf.WriteString("data: ")
		buf.Write(data)
		buf.WriteString("\n\n")
	case sseNamed:
		buf.WriteString("event: " + name + "\ndata: ")
		buf.Write(data)
		buf.WriteString("\n\n")
	case ndjson:
		buf.Write(data)
		buf.WriteByte('\n')
	}
	if _, err := x.w.Write(buf.Bytes()); err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = s.rc.Flush()
}

// sleep waits d or until ctx ends; it reports whether the whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Tokens estimates the token count of text the way every fake reports usage:
// one token per four characters (runes), rounded up. Empty text has none.
func Tokens(text string) int {
	return (utf8.RuneCountInString(strings.TrimSpace(text)) + 3) / 4
}

// messageOverhead is added per message to prompt token counts, like the
// framing tokens of real chat templates.
const messageOverhead = 4

// replyText is the deterministic answer to a prompt: a short summary of it.
func replyText(prompt string) string {
	words := strings.Fields(prompt)
	if len(words) == 0 {
		return "Hello! This is a fake reply."
	}
	if len(words) > 12 {
		words = append(words[:12:12], "…")
	}
	return "You said: " + strings.Join(words, " ")
}

// toolResultText is the answer after a tool result.
func toolResultText(result string) string {
	return "The tool returned: " + strings.TrimPrefix(replyText(result), "You said: ")
}

// truncate cuts text to at most max tokens (whole words); it reports whether
// it cut. max <= 0 means no limit.
func truncate(text string, max int) (string, bool) {
	if max <= 0 || Tokens(text) <= max {
		return text, false
	}
	words := strings.Fields(text)
	for len(words) > 0 && Tokens(strings.Join(words, " ")) > max {
		words = words[:len(words)-1]
	}
	return strings.Join(words, " "), true
}

// chunks splits text into stream pieces: one word each, with its leading
// space.
func chunks(text string) []string {
	var out []string
	for i, w := range strings.Split(text, " ") {
		if i > 0 {
			w = " " + w
		}
		out = append(out, w)
	}
	return out
}

// vector is the deterministic unit-length embedding of text.
func vector(text string, dims int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(text))
	seed := h.Sum64()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	v := make([]float32, dims)
	var norm float64
	raw := make([]float64, dims)
	for i := range raw {
		raw[i] = rng.Float64()*2 - 1
		norm += raw[i] * raw[i]
	}
	norm = math.Sqrt(norm)
	for i := range raw {
		v[i] = float32(raw[i] / norm)
	}
	return v
}

// toolSpec is a tool offered to the model, whatever the protocol.
type toolSpec struct {
	Name   string
	Schema json.RawMessage
}

// pickTool decides whether the reply calls a tool: not after a tool result;
// the forced one if the tool choice names one; else the first tool the prompt
// names; else the first tool when the choice requires one.
func pickTool(tools []toolSpec, forced string, required bool, prompt string, afterToolResult bool) (toolSpec, bool) {
	if len(tools) == 0 || afterToolResult {
		return toolSpec{}, false
	}
	if forced != "" {
		i := slices.IndexFunc(tools, func(t toolSpec) bool { return t.Name == forced })
		if i >= 0 {
			return tools[i], true
		}
	}
	lower := strings.ToLower(prompt)
	for _, t := range tools {
		if t.Name != "" && strings.Contains(lower, strings.ToLower(t.Name)) {
			return t, true
		}
	}
	if required {
		return tools[0], true
	}
	return toolSpec{}, false
}

// toolArguments builds arguments that satisfy the tool's JSON schema: every
// required property gets a placeholder of its type (the first enum value when
// there is one).
func toolArguments(schema json.RawMessage) string {
	var s struct {
		Properties map[string]struct {
			Type any   `json:"type"`
			Enum []any `json:"enum"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	_ = json.Unmarshal(schema, &s)
	args := map[string]any{}
	for _, name := range s.Required {
		p := s.Properties[name]
		if len(p.Enum) > 0 {
			args[name] = p.Enum[0]
			continue
		}
		typ, _ := p.Type.(string)
		if list, ok := p.Type.([]any); ok {
			for _, t := range list {
				if t, ok := t.(string); ok && t != "null" {
					typ = t
					break
				}
			}
		}
		switch typ {
		case "number", "integer":
			args[name] = 1
		case "boolean":
			args[name] = true
		case "array":
			args[name] = []any{}
		case "object":
			args[name] = map[string]any{}
		case "null":
			args[name] = nil
		default:
			args[name] = "fake"
		}
	}
	b, _ := json.Marshal(args)
	return string(b)
}

// allowed reports whether list holds s; an empty list allows everything.
func allowed(list []string, s string) bool { return len(list) == 0 || slices.Contains(list, s) }
