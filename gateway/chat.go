package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
)

// chat serves POST /v1/chat/completions.
func (g *Gateway) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	c := g.begin(w, r, &req)
	if c == nil {
		return
	}
	start, snap, conn, u := c.start, c.snap, c.conn, c.u
	u.Model, u.Stream = req.Model, req.Stream
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_model", "model", "model is required")
		g.finish(u, start, switchyard.UsageError, "invalid_request", http.StatusBadRequest)
		return
	}
	routes, err := routesFor(snap, conn, req.Model)
	if err != nil {
		g.clientError(w, u, start, err)
		return
	}
	ireq, err := req.toInternal(routes[0].Model.UpstreamID)
	if err != nil {
		g.clientError(w, u, start, err)
		return
	}
	w.Header().Set("X-Request-Id", u.RequestID)
	if req.Stream {
		g.stream(w, r, u, start, ireq, routes, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	g.complete(w, r, u, start, ireq, routes)
}

// call is a gateway request under way.
type call struct {
	start time.Time
	snap  *registry.Snapshot
	conn  *switchyard.Connection
	u     *switchyard.UsageEvent
}

// begin authenticates a request against the snapshot in force, applies its
// connection's limits and reads its JSON body into v. When one of these
// fails it has answered (and recorded the usage) and returns nil.
func (g *Gateway) begin(w http.ResponseWriter, r *http.Request, v any) *call {
	start := g.cfg.Now()
	snap := g.cfg.Registry.Current()
	conn, ok := g.authenticate(w, r, snap)
	if !ok {
		return nil
	}
	u := &switchyard.UsageEvent{At: start, RequestID: newID("req_"), ConnectionID: conn.ID, UserID: conn.OwnerID}
	if !g.rateLimit(w, conn) {
		g.finish(u, start, switchyard.UsageError, "rate_limit_exceeded", http.StatusTooManyRequests)
		return nil
	}
	if !g.withinBudget(w, conn, start) {
		g.finish(u, start, switchyard.UsageError, "budget_exceeded", http.StatusTooManyRequests)
		return nil
	}
	if !g.readBody(w, r, v) {
		g.finish(u, start, switchyard.UsageError, "invalid_request", http.StatusBadRequest)
		return nil
	}
	return &call{start: start, snap: snap, conn: conn, u: u}
}

// clientError answers a request the client got wrong.
func (g *Gateway) clientError(w http.ResponseWriter, u *switchyard.UsageEvent, start time.Time, err error) {
	var br *badRequest
	if !errors.As(err, &br) {
		writeError(w, http.StatusInternalServerError, "api_error", "internal", "", "internal error")
		g.finish(u, start, switchyard.UsageError, "internal", http.StatusInternalServerError)
		return
	}
	status, code := br.status, br.code
	if status == 0 {
		status, code = http.StatusBadRequest, "invalid_request"
	}
	writeError(w, status, "invalid_request_error", code, br.param, br.msg)
	g.finish(u, start, switchyard.UsageError, code, status)
}

// attempt runs fn over the candidates until one succeeds, the error is not
// retryable, or the attempts or the retry budget run out. fn returns
// whether it has started answering the client (after which nothing is
// retried).
func (g *Gateway) attempt(ctx context.Context, u *switchyard.UsageEvent, routes []registry.Route, fn func(c candidate) (started bool, err error)) error {
	deadline := g.cfg.Now().Add(g.cfg.RetryBudget)
	var last error
	var lastCand *candidate
	try := func(c candidate) (done bool, err error) {
		b := g.breaker(c.route.Provider.ID)
		report, berr := b.Allow()
		if berr != nil {
			if last == nil {
				last = &provider.Error{Code: provider.CodeUnavailable, Message: "the provider's circuit breaker is open after repeated failures"}
			}
			return false, nil
		}
		u.Attempts++
		u.ProviderID, u.ModelID, u.UpstreamModel = c.route.Provider.ID, c.route.Model.ID, c.route.Model.UpstreamID
		began := g.cfg.Now()
		started, err := fn(c)
		outcome := breakerOutcome(err)
		report(outcome)
		if g.cfg.Health != nil && ctx.Err() == nil {
			g.cfg.Health.Observe(c.route.Provider.ID, outcome != nil, g.cfg.Now().Sub(began))
		}
		if err == nil || started || !retryable(err) {
			return true, err
		}
		last, lastCand = err, &c
		g.cool(c.key, err)
		return false, nil
	}
	// First every candidate once, in order: another key or provider may
	// answer now, without waiting.
	for _, c := range g.candidates(routes) {
		if u.Attempts >= g.cfg.MaxAttempts || ctx.Err() != nil || g.cfg.Now().After(deadline) {
			break
		}
		if done, err := try(c); done {
			return err
		}
	}
	// Then the last one again, after its Retry-After or a short backoff,
	// while attempts and the retry budget allow.
	for backoff := 250 * time.Millisecond; lastCand != nil && u.Attempts < g.cfg.MaxAttempts; backoff *= 2 {
		wait := backoff
		if e, ok := provider.AsError(last); ok && e.RetryAfter > 0 {
			wait = e.RetryAfter
		}
		if g.cfg.Now().Add(wait).After(deadline) {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return last
		case <-t.C:
		}
		if done, err := try(*lastCand); done {
			return err
		}
	}
	if last == nil {
		last = &provider.Error{Code: provider.CodeUnavailable, Message: "no provider serving this model can take requests now"}
	}
	return last
}

// complete answers a non-streaming request.
func (g *Gateway) complete(w http.ResponseWriter, r *http.Request, u *switchyard.UsageEvent, start time.Time, ireq *provider.ChatRequest, routes []registry.Route) {
	var res *provider.ChatResponse
	var used registry.Route
	err := g.attempt(r.Context(), u, routes, func(c candidate) (bool, error) {
		ireq.Model = c.route.Model.UpstreamID
		actx, cancel := context.WithTimeout(r.Context(), timeoutOf(c.route.Provider))
		defer cancel()
		var err error
		res, err = c.key.Adapter.Chat(actx, ireq)
		used = c.route
		return false, err
	})
	if err != nil {
		g.failed(w, r, u, start, err)
		return
	}
	u.InputTokens, u.OutputTokens, u.CachedInputTokens = res.Usage.InputTokens, res.Usage.OutputTokens, res.Usage.CachedInputTokens
	u.CostUSD = cost(used.Model.Pricing, res.Usage)
	body, err := json.Marshal(responseOut(res, "chatcmpl-"+u.RequestID[4:], u.Model, start.Unix()))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "api_error", "internal", "", "internal error")
		g.finish(u, start, switchyard.UsageError, "internal", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	g.finish(u, start, switchyard.UsageOK, "", http.StatusOK)
}

// failed answers an upstream failure before any byte went out.
func (g *Gateway) failed(w http.ResponseWriter, r *http.Request, u *switchyard.UsageEvent, start time.Time, err error) {
	if r.Context().Err() != nil {
		g.finish(u, start, switchyard.UsageCancelled, "client_closed", 499)
		return
	}
	status, class := upstreamError(w, err)
	g.finish(u, start, switchyard.UsageError, class, status)
}

// stream answers a streaming request as server-sent events, each chunk
// written as it comes and flushed before the upstream is waited on again.
func (g *Gateway) stream(w http.ResponseWriter, r *http.Request, u *switchyard.UsageEvent, start time.Time, ireq *provider.ChatRequest, routes []registry.Route, includeUsage bool) {
	rc := http.NewResponseController(w)
	ctx := r.Context()
	id := "chatcmpl-" + u.RequestID[4:]
	var used registry.Route
	var st provider.ChatStream
	var first *provider.ChatChunk
	var dog *watchdog
	err := g.attempt(ctx, u, routes, func(c candidate) (bool, error) {
		ireq.Model = c.route.Model.UpstreamID
		// A stream may last long, but the provider must not go silent
		// for longer than its timeout, before the first chunk or between
		// two.
		d := newWatchdog(ctx, timeoutOf(c.route.Provider))
		s, err := c.key.Adapter.ChatStream(d.ctx, ireq)
		if err != nil {
			d.stop()
			return false, d.explain(err)
		}
		// Nothing has gone to the client until the first chunk arrives, so
		// a failure up to here may still be retried elsewhere.
		ch, err := s.Recv()
		if err != nil && err != io.EOF {
			s.Close()
			d.stop()
			return false, d.explain(err)
		}
		d.reset()
		st, first, used, dog = s, ch, c.route, d
		return false, nil
	})
	if err != nil {
		g.failed(w, r, u, start, err)
		return
	}
	defer st.Close()
	defer dog.stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	enc := &chunkWriter{w: w, rc: rc, id: id, model: u.Model, created: start.Unix()}
	if n, ok := st.(provider.ReadNotifier); ok {
		// Events that arrived together are written together and flushed
		// once, just before the stream waits on the network again; a
		// stream that cannot say when it waits is flushed per event.
		enc.coalesce = true
		n.BeforeRead(enc.flush)
	}
	var total provider.Usage
	var finish provider.FinishReason
	roleSent := false
	handle := func(c *provider.ChatChunk) {
		if c == nil {
			return
		}
		if u.TTFTMS == 0 && (c.Text != "" || len(c.ToolCalls) > 0) {
			u.TTFTMS = g.cfg.Now().Sub(start).Milliseconds()
		}
		if c.Usage != nil {
			total = *c.Usage
		}
		if c.FinishReason != "" {
			finish = c.FinishReason
		}
		if c.Text != "" || len(c.ToolCalls) > 0 || !roleSent {
			enc.delta(c, !roleSent)
			roleSent = true
		}
	}
	handle(first)
	enc.flush() // the first chunk goes out at once, whatever follows it
	var streamErr error
	for first != nil {
		c, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			streamErr = dog.explain(err)
			break
		}
		dog.reset()
		handle(c)
	}
	u.InputTokens, u.OutputTokens, u.CachedInputTokens = total.InputTokens, total.OutputTokens, total.CachedInputTokens
	u.CostUSD = cost(used.Model.Pricing, total)
	if streamErr != nil {
		if ctx.Err() != nil {
			g.finish(u, start, switchyard.UsageCancelled, "client_closed", 499)
			return
		}
		// The answer has begun: no retry. Tell the client in the stream.
		e, _ := provider.AsError(streamErr)
		class, msg := provider.CodeNetwork, "the upstream stream failed"
		if e != nil {
			class, msg = e.Code, "upstream: "+e.Message
		}
		enc.error(class, msg)
		enc.flush()
		g.finish(u, start, switchyard.UsageError, class, http.StatusOK)
		return
	}
	if finish == "" {
		finish = provider.FinishStop
	}
	enc.finish(finish)
	if includeUsage {
		enc.usage(total)
	}
	enc.done()
	g.finish(u, start, switchyard.UsageOK, "", http.StatusOK)
}

// chunkWriter writes chat.completion.chunk events.
type chunkWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	id      string
	model   string
	created int64
	// coalesce leaves flushing to the stream's BeforeRead hook and the
	// end of the answer; pending says something is written, not flushed.
	coalesce, pending bool
	// buf and json are reused for every event of the stream.
	buf  bytes.Buffer
	json *json.Encoder
}

func (c *chunkWriter) event(v any) {
	c.buf.Reset()
	c.buf.WriteString("data: ")
	if c.json == nil {
		c.json = json.NewEncoder(&c.buf)
	}
	_ = c.json.Encode(v) // ends the line
	c.buf.WriteByte('\n')
	c.write(c.buf.Bytes())
}

func (c *chunkWriter) write(b []byte) {
	_, _ = c.w.Write(b)
	c.pending = true
	if !c.coalesce {
		c.flush()
	}
}

// flush sends what is written. w may be wrapped by the server's middleware
// (httpapi's status writer has Unwrap but no Flush): ResponseController
// finds the flusher through Unwrap, where a type assertion would find none
// and every chunk would wait in the server's buffer until the end.
func (c *chunkWriter) flush() {
	if c.pending && c.rc != nil {
		_ = c.rc.Flush()
	}
	c.pending = false
}

func (c *chunkWriter) base() chatResponse {
	return chatResponse{ID: c.id, Object: "chat.completion.chunk", Created: c.created, Model: c.model}
}

func (c *chunkWriter) delta(ch *provider.ChatChunk, withRole bool) {
	d := &respMessage{}
	if withRole {
		d.Role = "assistant"
	}
	if ch.Text != "" || (withRole && len(ch.ToolCalls) == 0) {
		t := ch.Text
		d.Content = &t
	}
	for _, tc := range ch.ToolCalls {
		i := tc.Index
		wt := wireToolCall{Index: &i, ID: tc.ID}
		if tc.ID != "" {
			wt.Type = "function"
		}
		wt.Function.Name, wt.Function.Arguments = tc.Name, tc.Arguments
		d.ToolCalls = append(d.ToolCalls, wt)
	}
	r := c.base()
	r.Choices = []respChoice{{Delta: d}}
	c.event(r)
}

func (c *chunkWriter) finish(f provider.FinishReason) {
	r := c.base()
	r.Choices = []respChoice{{Delta: &respMessage{}, FinishReason: finishOut(f)}}
	c.event(r)
}

func (c *chunkWriter) usage(u provider.Usage) {
	r := c.base()
	r.Choices = []respChoice{}
	r.Usage = usageOut(u)
	c.event(r)
}

func (c *chunkWriter) error(code, msg string) {
	c.event(wireError{Error: wireErrorBody{Message: msg, Type: "api_error", Code: &code}})
}

func (c *chunkWriter) done() {
	c.write([]byte("data: [DONE]\n\n"))
	c.flush()
}

// cost prices an answer's usage at the model's prices.
func cost(p switchyard.Pricing, u provider.Usage) float64 {
	return switchyard.Cost(p, switchyard.Tokens{Input: u.InputTokens, CachedInput: u.CachedInputTokens,
		CacheWrite: u.CacheWriteTokens, Output: u.OutputTokens})
}

// finish completes and records the usage of a request.
func (g *Gateway) finish(u *switchyard.UsageEvent, start time.Time, status, class string, httpStatus int) {
	u.LatencyMS = g.cfg.Now().Sub(start).Milliseconds()
	u.Status, u.ErrorClass, u.HTTPStatus = status, class, httpStatus
	if n := u.InputTokens + u.OutputTokens; n > 0 {
		if b, ok := g.tokens.Load(u.ConnectionID); ok {
			b.(*tokenBucket).take(g.cfg.Now(), n)
		}
	}
	g.budgets.add(u.ConnectionID, u.CostUSD)
	g.cfg.Record(*u)
}

// timeoutOf is how long a provider may take to answer, or to send the next
// chunk of a stream.
func timeoutOf(p *registry.Provider) time.Duration {
	return time.Duration(p.Settings.WithDefaults().TimeoutMS) * time.Millisecond
}

// watchdog cancels a stream whose provider goes silent for longer than the
// timeout; reset after every chunk.
type watchdog struct {
	ctx     context.Context
	cancel  context.CancelFunc
	timer   *time.Timer
	timeout time.Duration
	fired   atomic.Bool
}

func newWatchdog(parent context.Context, timeout time.Duration) *watchdog {
	d := &watchdog{timeout: timeout}
	d.ctx, d.cancel = context.WithCancel(parent)
	d.timer = time.AfterFunc(timeout, func() {
		d.fired.Store(true)
		d.cancel()
	})
	return d
}

func (d *watchdog) reset() { d.timer.Reset(d.timeout) }

func (d *watchdog) stop() {
	d.timer.Stop()
	d.cancel()
}

// explain turns the error of a read the watchdog cut into a timeout.
func (d *watchdog) explain(err error) error {
	if err != nil && d.fired.Load() {
		return &provider.Error{Code: provider.CodeTimeout, Message: "the provider sent nothing for " + d.timeout.String()}
	}
	return err
}
