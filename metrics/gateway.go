package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/registry"
)

// Latency buckets, in seconds: from a fast cached answer to a long
// reasoning stream.
var latencyBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// Gateway turns the gateway's usage events into Prometheus series: requests
// by provider, model and outcome, latency and time-to-first-token
// histograms, tokens, cost, and upstream errors by provider and class.
//
// Labels are the provider's slug and the upstream model id, looked up once
// per series: Observe costs a map lookup under a read lock and a few
// atomic adds, and allocates nothing once a series exists. Events that
// reached no configured model (an unknown name, say) count under empty
// labels, so a client cannot grow the series by inventing model names.
type Gateway struct {
	registry *registry.Registry

	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	ttft      *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	cost      *prometheus.CounterVec
	upstream  *prometheus.CounterVec
	collector []prometheus.Collector

	mu     sync.RWMutex
	series map[seriesKey]*series // guarded by mu
}

type seriesKey struct {
	providerID, modelID, model string
}

type series struct {
	provider              string
	ok, failed, cancelled prometheus.Counter
	latency, ttft         prometheus.Observer
	inTokens, outTokens   prometheus.Counter
	cost                  prometheus.Counter
	errorsMu              sync.Mutex
	errorsByClass         map[string]prometheus.Counter // guarded by errorsMu
}

// NewGateway returns a Gateway; reg names the providers (nil: labels
// show provider ids).
func NewGateway(reg *registry.Registry) *Gateway {
	g := &Gateway{registry: reg, series: map[seriesKey]*series{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_gateway_requests_total",
			Help: "Gateway requests by provider, upstream model and outcome (ok, error, cancelled)."}, []string{"provider", "model", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchyard_gateway_request_duration_seconds",
			Help: "Duration of successful gateway requests, to the last byte.", Buckets: latencyBuckets}, []string{"provider", "model"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchyard_gateway_time_to_first_token_seconds",
			Help: "Time to the first token of successful streams.", Buckets: latencyBuckets}, []string{"provider", "model"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_gateway_tokens_total",
			Help: "Tokens through the gateway, by direction (input, output)."}, []string{"provider", "model", "direction"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_gateway_cost_usd_total",
			Help: "What gateway requests cost at the models' prices, in US dollars."}, []string{"provider", "model"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchyard_gateway_errors_total",
			Help: "Failed gateway requests by provider and error class (rate_limited, upstream_error, timeout, …)."}, []string{"provider", "class"}),
	}
	g.collector = []prometheus.Collector{g.requests, g.latency, g.ttft, g.tokens, g.cost, g.upstream}
	return g
}

// Record observes e; use it as the gateway's Record in front of the usage
// recorder.
func (g *Gateway) Record(e switchyard.UsageEvent) { g.Observe(&e) }

// Observe counts one gateway request.
func (g *Gateway) Observe(e *switchyard.UsageEvent) {
	k := seriesKey{providerID: e.ProviderID, modelID: e.ModelID}
	if e.ModelID != "" {
		k.model = e.UpstreamModel
	}
	g.mu.RLock()
	s := g.series[k]
	g.mu.RUnlock()
	if s == nil {
		s = g.newSeries(k)
	}
	switch e.Status {
	case switchyard.UsageOK:
		s.ok.Inc()
		s.latency.Observe(float64(e.LatencyMS) / 1000)
		if e.TTFTMS > 0 {
			s.ttft.Observe(float64(e.TTFTMS) / 1000)
		}
	case switchyard.UsageCancelled:
		s.cancelled.Inc()
	default:
		s.failed.Inc()
		s.errorCounter(g, e.ErrorClass).Inc()
	}
	if e.InputTokens > 0 {
		s.inTokens.Add(float64(e.InputTokens))
	}
	if e.OutputTokens > 0 {
		s.outTokens.Add(float64(e.OutputTokens))
	}
	if e.CostUSD > 0 {
		s.cost.Add(e.CostUSD)
	}
}

func (g *Gateway) newSeries(k seriesKey) *series {
	provider := k.providerID
	if g.registry != nil && k.providerID != "" {
		if p, ok := g.registry.Current().Provider(k.providerID); ok {
			provider = p.Slug
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.series[k]; s != nil {
		return s
	}
	s := &series{provider: provider, errorsByClass: map[string]prometheus.Counter{},
		ok:        g.requests.WithLabelValues(provider, k.model, switchyard.UsageOK),
		failed:    g.requests.WithLabelValues(provider, k.model, switchyard.UsageError),
		cancelled: g.requests.WithLabelValues(provider, k.model, switchyard.UsageCancelled),
		latency:   g.latency.WithLabelValues(provider, k.model),
		ttft:      g.ttft.WithLabelValues(provider, k.model),
		inTokens:  g.tokens.WithLabelValues(provider, k.model, "input"),
		outTokens: g.tokens.WithLabelValues(provider, k.model, "output"),
		cost:      g.cost.WithLabelValues(provider, k.model),
	}
	g.series[k] = s
	return s
}

func (s *series) errorCounter(g *Gateway, class string) prometheus.Counter {
	if class == "" {
		class = "unknown"
	}
	s.errorsMu.Lock()
	defer s.errorsMu.Unlock()
	c := s.errorsByClass[class]
	if c == nil {
		c = g.upstream.WithLabelValues(s.provider, class)
		s.errorsByClass[class] = c
	}
	return c
}
