// Package gateway serves the OpenAI-compatible API under /v1 that apps
// use: chat completions (JSON and server-sent events), the model list and
// embeddings. A request is authenticated by its connection's gateway key,
// its model name resolved through the registry snapshot, and sent through
// the adapter of one of the providers serving it, with fallback to the next
// provider or credential on a retryable failure before the first byte of
// the answer has gone out. Every request yields one usage record, handed to
// a sink that must not block.
package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
)

// Config holds the gateway's dependencies and limits.
type Config struct {
	Registry *registry.Registry
	// Record receives every request's usage; it must not block.
	Record func(switchyard.UsageEvent)
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default 16 MiB: images).
	MaxBodyBytes int64
	// MaxAttempts bounds the upstream tries of one request (default 3).
	MaxAttempts int
	// RetryBudget bounds the time spent before giving up on retries
	// (default 30 s); a Retry-After longer than what is left is not waited.
	RetryBudget time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Spend tells what connections have spent this month, for their
	// monthly budgets; nil counts only this process's requests.
	Spend SpendSource
	// BudgetRefresh is how often what budgeted connections spent is read
	// again from Spend, to see other replicas' requests (default 30 s).
	BudgetRefresh time.Duration
	// Health is told every upstream call's outcome and orders the tries
	// by provider status (down providers last); nil leaves both out.
	Health Health
}

// Health is the provider status machine as the gateway uses it
// (*health.Machine). Both methods run on every request: they must not
// block and should not allocate.
type Health interface {
	// Observe counts an upstream call: failed when the provider itself
	// failed (not a client's bad request), and how long it took to answer
	// (for a stream, to its first chunk).
	Observe(providerID string, failed bool, latency time.Duration)
	Status(providerID string) switchyard.ProviderStatus
}

// Gateway is the /v1 handler.
type Gateway struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	breakers sync.Map // provider id → *gobreaker.TwoStepCircuitBreaker[struct{}]
	limiters sync.Map // connection id → *limiter
	tokens   sync.Map // connection id → *tokenBucket
	cooling  sync.Map // credential id → time.Time until which it is skipped
	budgets  *budgets
}

// New returns the gateway.
func New(cfg Config) *Gateway {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Record == nil {
		cfg.Record = func(switchyard.UsageEvent) {}
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.RetryBudget <= 0 {
		cfg.RetryBudget = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BudgetRefresh <= 0 {
		cfg.BudgetRefresh = 30 * time.Second
	}
	g := &Gateway{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(),
		budgets: newBudgets(cfg.Spend, cfg.BudgetRefresh, cfg.Logger)}
	g.mux.HandleFunc("POST /v1/chat/completions", g.chat)
	g.mux.HandleFunc("GET /v1/models", g.models)
	g.mux.HandleFunc("POST /v1/embeddings", g.embeddings)
	g.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found", "", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return g
}

// ServeHTTP serves /v1.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

// authenticate finds the connection of the request's gateway key.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request, snap *registry.Snapshot) (*switchyard.Connection, bool) {
	h := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || key == "" {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "",
			"missing gateway key: send Authorization: Bearer <key> (create a connection to get one)")
		return nil, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	c, found := snap.Connection(hex.EncodeToString(sum[:]))
	if !found {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "",
			"the gateway key is not valid: it is unknown, was rotated, or its connection is disabled")
		return nil, false
	}
	return c, true
}

// withinBudget refuses a request of a connection that has spent its
// monthly budget, as OpenAI answers an exhausted quota: 429 with the type
// insufficient_quota (clients do not wait for a Retry-After that would be
// weeks).
func (g *Gateway) withinBudget(w http.ResponseWriter, c *switchyard.Connection, now time.Time) bool {
	if c.BudgetUSD <= 0 {
		return true
	}
	spent := g.budgets.spentBy(c.ID, now)
	if spent < c.BudgetUSD {
		return true
	}
	next := monthOf(now).AddDate(0, 1, 0)
	writeError(w, http.StatusTooManyRequests, "insufficient_quota", "budget_exceeded", "",
		fmt.Sprintf("this connection has spent $%.2f of its monthly budget of $%.2f; it resets on %s (UTC), or an admin can raise the budget",
			spent, c.BudgetUSD, next.Format("2006-01-02")))
	return false
}

// limiter is a connection's request rate limit.
type limiter struct {
	rpm int
	l   *rate.Limiter
}

// rateLimit applies the connection's requests- and tokens-per-minute
// limits and sets the x-ratelimit-* headers; false means the request was
// refused.
func (g *Gateway) rateLimit(w http.ResponseWriter, c *switchyard.Connection) bool {
	if b := g.tokenBucket(c.ID, c.TokenLimitTPM); b != nil {
		ok, wait, left := b.allow(g.cfg.Now())
		h := w.Header()
		h.Set("X-Ratelimit-Limit-Tokens", strconv.Itoa(c.TokenLimitTPM))
		h.Set("X-Ratelimit-Remaining-Tokens", strconv.Itoa(left))
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			h.Set("X-Ratelimit-Reset-Tokens", strconv.Itoa(secs)+"s")
			h.Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", "",
				"this connection is limited to "+strconv.Itoa(c.TokenLimitTPM)+" tokens per minute; retry after "+strconv.Itoa(secs)+" s")
			return false
		}
	}
	if c.RateLimitRPM <= 0 {
		return true
	}
	v, _ := g.limiters.Load(c.ID)
	lim, _ := v.(*limiter)
	if lim == nil || lim.rpm != c.RateLimitRPM {
		lim = &limiter{rpm: c.RateLimitRPM, l: rate.NewLimiter(rate.Limit(float64(c.RateLimitRPM)/60), c.RateLimitRPM)}
		g.limiters.Store(c.ID, lim)
	}
	now := g.cfg.Now()
	res := lim.l.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	h := w.Header()
	h.Set("X-Ratelimit-Limit-Requests", strconv.Itoa(c.RateLimitRPM))
	if delay > 0 {
		res.CancelAt(now)
		secs := int(math.Ceil(delay.Seconds()))
		h.Set("X-Ratelimit-Remaining-Requests", "0")
		h.Set("X-Ratelimit-Reset-Requests", strconv.Itoa(secs)+"s")
		h.Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", "",
			"this connection is limited to "+strconv.Itoa(c.RateLimitRPM)+" requests per minute; retry after "+strconv.Itoa(secs)+" s")
		return false
	}
	h.Set("X-Ratelimit-Remaining-Requests", strconv.Itoa(int(lim.l.TokensAt(now))))
	return true
}

// readBody reads a JSON body within the limit.
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large", "",
				"the request body is over "+strconv.FormatInt(g.cfg.MaxBodyBytes>>20, 10)+" MiB")
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "", "cannot read the request body")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "", "the body is not valid JSON for this endpoint: "+jsonProblem(err))
		return false
	}
	return true
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field + " has the wrong type"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	return "cannot decode it"
}

// candidate is one upstream try: a route and one of its provider's keys.
type candidate struct {
	route registry.Route
	key   registry.Key
}

// routesFor resolves a model name to the routes the connection may use.
// Routes serving different models under one name are an error that lists
// the choices; routes serving the same model are fallbacks.
func routesFor(snap *registry.Snapshot, c *switchyard.Connection, name string) ([]registry.Route, error) {
	all := snap.Resolve(name)
	var out []registry.Route
	for _, rt := range all {
		if allowed(snap, c, rt, name) {
			out = append(out, rt)
		}
	}
	if len(out) == 0 {
		return nil, &badRequest{param: "model", status: http.StatusNotFound, code: "model_not_found",
			msg: "model " + strconv.Quote(name) + " does not exist or this key may not use it; GET /v1/models lists the models you can use"}
	}
	first := out[0].Model.UpstreamID
	for _, rt := range out[1:] {
		if rt.Model.UpstreamID != first {
			var choices []string
			for _, x := range out {
				choices = append(choices, x.Provider.Slug+"/"+x.Model.UpstreamID)
			}
			return nil, &badRequest{param: "model", status: http.StatusBadRequest, code: "model_ambiguous",
				msg: "model " + strconv.Quote(name) + " is ambiguous: it names " + strings.Join(choices, ", ") + "; use one of these names"}
		}
	}
	return out, nil
}

// allowed reports whether the connection may use the route.
func allowed(snap *registry.Snapshot, c *switchyard.Connection, rt registry.Route, name string) bool {
	switch {
	case c.ProviderID != "":
		if rt.Provider.ID != c.ProviderID {
			return false
		}
	case c.ProviderType != "":
		sp, ok := snap.System(c.ProviderType)
		if !ok || rt.Provider.ID != sp.ID {
			return false
		}
	}
	if len(c.Models) == 0 {
		return true
	}
	for _, m := range c.Models {
		if m == name || m == rt.Model.UpstreamID || m == rt.Provider.Slug+"/"+rt.Model.UpstreamID {
			return true
		}
	}
	return false
}

// candidates orders the tries: routes in order, providers the monitor sees
// down after the others, and within a provider its active keys by weighted
// random order, skipping keys cooling down after a rate limit and keys
// restricted to other models.
func (g *Gateway) candidates(routes []registry.Route) []candidate {
	now := g.cfg.Now()
	var out []candidate
	anyDown := false
	if g.cfg.Health != nil {
		for _, rt := range routes {
			if g.cfg.Health.Status(rt.Provider.ID) == switchyard.StatusDown {
				anyDown = true
				break
			}
		}
	}
	if !anyDown {
		return g.appendCandidates(out, routes, now, nil)
	}
	out = g.appendCandidates(out, routes, now, func(rt registry.Route) bool {
		return g.cfg.Health.Status(rt.Provider.ID) != switchyard.StatusDown
	})
	return g.appendCandidates(out, routes, now, func(rt registry.Route) bool {
		return g.cfg.Health.Status(rt.Provider.ID) == switchyard.StatusDown
	})
}

// appendCandidates appends the tries of the routes that keep selects (all
// when keep is nil).
func (g *Gateway) appendCandidates(out []candidate, routes []registry.Route, now time.Time, keep func(registry.Route) bool) []candidate {
	for _, rt := range routes {
		if keep != nil && !keep(rt) {
			continue
		}
		keys := make([]registry.Key, 0, len(rt.Provider.Keys))
		for _, k := range rt.Provider.Keys {
			if until, ok := g.cooling.Load(k.Credential.ID); ok && now.Before(until.(time.Time)) {
				continue
			}
			if len(k.Credential.Models) > 0 && !slices.Contains(k.Credential.Models, rt.Model.UpstreamID) {
				continue
			}
			keys = append(keys, k)
		}
		for _, k := range weightedOrder(keys) {
			out = append(out, candidate{route: rt, key: k})
		}
	}
	return out
}

// HealthChanged is told of a provider's status changes. A provider that
// recovers gets a fresh breaker, so that traffic returns at once rather
// than after the breaker's own wait.
func (g *Gateway) HealthChanged(providerID string, from, to switchyard.ProviderStatus) {
	if from == switchyard.StatusDown && to != switchyard.StatusDown {
		g.breakers.Delete(providerID)
	}
}

// weightedOrder shuffles keys so that each comes first with a probability
// proportional to its weight.
func weightedOrder(keys []registry.Key) []registry.Key {
	if len(keys) < 2 {
		return keys
	}
	type wk struct {
		k     registry.Key
		score float64
	}
	ws := make([]wk, len(keys))
	for i, k := range keys {
		w := float64(k.Credential.Weight)
		if w <= 0 {
			w = 1
		}
		// Efraimidis–Spirakis: order by u^(1/w).
		ws[i] = wk{k, math.Pow(mrand.Float64(), 1/w)}
	}
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && ws[j].score > ws[j-1].score; j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
	out := make([]registry.Key, len(ws))
	for i, w := range ws {
		out[i] = w.k
	}
	return out
}

// breaker returns the provider's circuit breaker: it opens after 5
// consecutive upstream failures (or half the requests failing once there
// are 20) and lets one request through after 30 s.
func (g *Gateway) breaker(id string) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	if b, ok := g.breakers.Load(id); ok {
		return b.(*gobreaker.TwoStepCircuitBreaker[struct{}])
	}
	b := gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        id,
		MaxRequests: 1,
		Interval:    time.Minute,
		Timeout:     30 * time.Second,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= 5 || (c.Requests >= 20 && c.TotalFailures*2 >= c.Requests)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			g.log.Warn("gateway: circuit breaker changed", "provider_id", name, "from", from.String(), "to", to.String())
		},
	})
	actual, _ := g.breakers.LoadOrStore(id, b)
	return actual.(*gobreaker.TwoStepCircuitBreaker[struct{}])
}

// breakerOutcome is what a breaker counts as a failure: the provider's own
// trouble, not a client's bad request or a cancelled call.
func breakerOutcome(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := provider.AsError(err); ok {
		switch e.Code {
		case provider.CodeUpstream, provider.CodeUnavailable, provider.CodeTimeout, provider.CodeNetwork, provider.CodeBadResponse:
			if e.Code == provider.CodeNetwork && e.Message == "the request was cancelled" {
				return nil
			}
			return err
		}
	}
	return nil
}

// retryable reports whether another try (another key or provider) may
// succeed where this one failed.
func retryable(err error) bool {
	e, ok := provider.AsError(err)
	if !ok {
		return false
	}
	switch e.Code {
	case provider.CodeRateLimited, provider.CodeUpstream, provider.CodeUnavailable, provider.CodeTimeout, provider.CodeNetwork,
		provider.CodeAuth, provider.CodeForbidden, provider.CodeBadResponse:
		// An upstream 401/403 is the provider refusing this credential:
		// another key or provider may work.
		return e.Message != "the request was cancelled"
	}
	return false
}

// cool marks a key to be skipped after a rate limit.
func (g *Gateway) cool(k registry.Key, err error) {
	e, ok := provider.AsError(err)
	if !ok || e.Code != provider.CodeRateLimited {
		return
	}
	d := e.RetryAfter
	if d <= 0 || d > 5*time.Minute {
		d = 10 * time.Second
	}
	g.cooling.Store(k.Credential.ID, g.cfg.Now().Add(d))
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// writeError writes an OpenAI-style error.
func writeError(w http.ResponseWriter, status int, typ, code, param, msg string) {
	body := wireError{Error: wireErrorBody{Message: msg, Type: typ}}
	if code != "" {
		body.Error.Code = &code
	}
	if param != "" {
		body.Error.Param = &param
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// upstreamError maps an upstream failure to the client's answer, keeping
// the upstream status where there is one.
func upstreamError(w http.ResponseWriter, err error) (status int, class string) {
	e, ok := provider.AsError(err)
	if !ok {
		writeError(w, http.StatusBadGateway, "api_error", "upstream_error", "", "the upstream call failed")
		return http.StatusBadGateway, "upstream_error"
	}
	status = e.Status
	typ := "api_error"
	msg := "upstream: " + e.Message
	switch e.Code {
	case provider.CodeRateLimited:
		typ = "rate_limit_error"
		if status == 0 {
			status = http.StatusTooManyRequests
		}
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
		}
	case provider.CodeBadRequest, provider.CodeTooLarge, provider.CodeNotFound:
		typ = "invalid_request_error"
	case provider.CodeAuth, provider.CodeForbidden:
		typ = "upstream_auth_error"
		msg = "the provider refused Switchyard's credential (" + e.Message + "); an admin must fix the provider's credentials"
	case provider.CodeTimeout:
		if status == 0 {
			status = http.StatusGatewayTimeout
		}
	case provider.CodeBlocked:
		msg = "the provider's address is not allowed (SWITCHYARD_OUTBOUND_ALLOW)"
	}
	if status == 0 {
		status = http.StatusBadGateway
	}
	writeError(w, status, typ, e.Code, "", msg)
	return status, e.Code
}
