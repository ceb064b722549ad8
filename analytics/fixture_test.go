package analytics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/switchyard/switchyard"
)

// usageFixture generates realistic gateway usage, deterministically from a
// seed: 6 providers and 20 models (priced as their vendors price them,
// self-hosted ones free, embeddings without output), 40 connections owned
// by 15 users, each connection using a few models, with a skewed share of
// the traffic; streams with a time to first token, errors of several
// classes, cancellations, retries and cached input. It keeps what every
// report must add up to in tallies.
type usageFixture struct {
	rng       *rand.Rand
	providers []string
	models    []fixtureModel
	conns     []fixtureConn
	connCum   []float64
	users     []string

	// Tallies of every event generated, overall and per provider, model,
	// connection and user id.
	total   tally
	byKey   map[string]map[string]*tally
	seq     uint64
	reqBuf  []byte
	classes []errorClass
}

type fixtureModel struct {
	id, provider, alias, upstream string
	pricing                       switchyard.Pricing
	embedding                     bool
	// baseMS and msPerToken make a successful request's latency; ttftMS
	// is the median time to the first token of a stream.
	baseMS, msPerToken, ttftMS float64
	errorRate                  float64
}

type fixtureConn struct {
	id, user string
	models   []int
	cum      []float64
	stream   float64
}

type errorClass struct {
	class  string
	status int
	share  float64
}

// tally is what a set of events adds up to. costNanos sums each event's
// cost in billionths of a dollar, as the rollups do.
type tally struct {
	requests, errors, cancelled int64
	inputTokens, outputTokens   int64
	costNanos                   int64
}

func (t *tally) add(e *switchyard.UsageEvent) {
	t.requests++
	switch e.Status {
	case switchyard.UsageError:
		t.errors++
	case switchyard.UsageCancelled:
		t.cancelled++
	}
	t.inputTokens += int64(e.InputTokens)
	t.outputTokens += int64(e.OutputTokens)
	t.costNanos += int64(math.Round(e.CostUSD * 1e9))
}

func (t *tally) costUSD() float64 { return float64(t.costNanos) / 1e9 }

// fixtureID makes an id shaped like the store's UUIDs.
func fixtureID(kind, n int) string {
	return fmt.Sprintf("0190b5e0-%04x-7000-8000-%012x", kind, n)
}

func newUsageFixture(seed uint64) *usageFixture {
	f := &usageFixture{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), byKey: map[string]map[string]*tally{}}
	type m struct {
		provider, alias, upstream string
		in, out, cached           float64
		embedding                 bool
		baseMS, msPerToken, ttft  float64
		errorRate                 float64
	}
	catalog := []m{
		{"openai", "gpt-4o", "gpt-4o-2024-08-06", 2.5, 10, 1.25, false, 350, 12, 450, 0.015},
		{"openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 0.15, 0.6, 0.075, false, 250, 8, 300, 0.012},
		{"openai", "gpt-4.1", "gpt-4.1-2025-04-14", 2, 8, 0.5, false, 400, 11, 500, 0.02},
		{"openai", "o3-mini", "o3-mini-2025-01-31", 1.1, 4.4, 0.55, false, 2500, 9, 3000, 0.03},
		{"openai", "embed-small", "text-embedding-3-small", 0.02, 0, 0, true, 120, 0, 0, 0.005},
		{"anthropic", "claude-sonnet", "claude-sonnet-4-20250514", 3, 15, 0.3, false, 600, 14, 800, 0.025},
		{"anthropic", "claude-haiku", "claude-3-5-haiku-20241022", 0.8, 4, 0.08, false, 350, 8, 450, 0.02},
		{"anthropic", "claude-opus", "claude-opus-4-20250514", 15, 75, 1.5, false, 1200, 25, 1500, 0.04},
		{"azure", "azure-gpt-4o", "gpt-4o", 2.5, 10, 1.25, false, 400, 13, 500, 0.018},
		{"azure", "azure-gpt-4o-mini", "gpt-4o-mini", 0.15, 0.6, 0.075, false, 280, 9, 320, 0.015},
		{"bedrock", "bedrock-sonnet", "anthropic.claude-3-7-sonnet-20250219-v1:0", 3, 15, 0.3, false, 700, 15, 900, 0.03},
		{"bedrock", "llama-70b", "meta.llama3-3-70b-instruct-v1:0", 0.72, 0.72, 0, false, 450, 10, 550, 0.02},
		{"bedrock", "titan-embed", "amazon.titan-embed-text-v2:0", 0.02, 0, 0, true, 150, 0, 0, 0.008},
		{"gemini", "gemini-pro", "gemini-2.5-pro", 1.25, 10, 0.31, false, 1500, 10, 2000, 0.035},
		{"gemini", "gemini-flash", "gemini-2.5-flash", 0.3, 2.5, 0.075, false, 400, 5, 500, 0.02},
		{"gemini", "gemini-flash-lite", "gemini-2.0-flash-lite", 0.075, 0.3, 0, false, 300, 4, 350, 0.015},
		{"ollama", "llama-8b", "llama3.1:8b", 0, 0, 0, false, 200, 20, 250, 0.01},
		{"ollama", "qwen-14b", "qwen2.5:14b", 0, 0, 0, false, 300, 35, 400, 0.01},
		{"ollama", "qwen-coder", "qwen2.5-coder:7b", 0, 0, 0, false, 180, 18, 220, 0.01},
		{"ollama", "nomic-embed", "nomic-embed-text", 0, 0, 0, true, 40, 0, 0, 0.002},
	}
	providerIDs := map[string]string{}
	for i, c := range catalog {
		pid, ok := providerIDs[c.provider]
		if !ok {
			pid = fixtureID(1, len(providerIDs))
			providerIDs[c.provider] = pid
			f.providers = append(f.providers, pid)
		}
		f.models = append(f.models, fixtureModel{id: fixtureID(2, i), provider: pid, alias: c.alias, upstream: c.upstream,
			pricing:   switchyard.Pricing{InputPerMTok: c.in, OutputPerMTok: c.out, CacheReadPerMTok: c.cached},
			embedding: c.embedding, baseMS: c.baseMS, msPerToken: c.msPerToken, ttftMS: c.ttft, errorRate: c.errorRate})
	}
	for u := range 15 {
		f.users = append(f.users, fixtureID(3, u))
	}
	var sum float64
	for c := range 40 {
		// A few models each, some far more used than others.
		k := 2 + f.rng.IntN(7)
		perm := f.rng.Perm(len(f.models))[:k]
		conn := fixtureConn{id: fixtureID(4, c), user: f.users[c%len(f.users)], models: perm, stream: 0.3 + 0.6*f.rng.Float64()}
		var cs float64
		for j := range perm {
			cs += 1 / math.Pow(float64(j+1), 1.2)
			conn.cum = append(conn.cum, cs)
		}
		f.conns = append(f.conns, conn)
		sum += 1 / math.Pow(float64(c+1), 0.9)
		f.connCum = append(f.connCum, sum)
	}
	f.classes = []errorClass{{"rate_limited", 429, 0.35}, {"upstream_error", 502, 0.25}, {"timeout", 504, 0.12},
		{"rate_limit_exceeded", 429, 0.1}, {"budget_exceeded", 429, 0.03}, {"invalid_request", 400, 0.1},
		{"unavailable", 503, 0.05}}
	return f
}

// pick returns an index of cum (cumulative weights) at random by weight.
func (f *usageFixture) pick(cum []float64) int {
	return sort.SearchFloat64s(cum, f.rng.Float64()*cum[len(cum)-1])
}

func (f *usageFixture) logNormal(median, sigma float64) float64 {
	return median * math.Exp(f.rng.NormFloat64()*sigma)
}

// event makes the event of one request started at at.
func (f *usageFixture) event(at time.Time) switchyard.UsageEvent {
	c := &f.conns[f.pick(f.connCum)]
	m := &f.models[c.models[f.pick(c.cum)]]
	f.seq++
	f.reqBuf = append(f.reqBuf[:0], "req_"...)
	f.reqBuf = strconv.AppendUint(f.reqBuf, f.rng.Uint64()|1<<63, 16)
	f.reqBuf = strconv.AppendUint(f.reqBuf, f.seq, 16)
	e := switchyard.UsageEvent{At: at, RequestID: string(f.reqBuf), ConnectionID: c.id, UserID: c.user,
		ProviderID: m.provider, ModelID: m.id, Model: m.alias, UpstreamModel: m.upstream,
		Stream: !m.embedding && f.rng.Float64() < c.stream, Status: switchyard.UsageOK, HTTPStatus: 200, Attempts: 1}
	if f.rng.Float64() < 0.04 {
		e.Attempts = 2
	}
	in := int(min(max(f.logNormal(900, 1.1), 1), 200_000))
	out := 0
	if !m.embedding {
		out = int(min(max(f.logNormal(220, 0.9), 1), 16_000))
	}
	cached := 0
	if !m.embedding && f.rng.Float64() < 0.25 {
		cached = int(float64(in) * (0.3 + 0.6*f.rng.Float64()))
	}
	latency := f.logNormal(m.baseMS, 0.4) + float64(out)*m.msPerToken*(0.7+0.6*f.rng.Float64())
	u := f.rng.Float64()
	switch {
	case u < m.errorRate:
		ec := f.classes[len(f.classes)-1]
		v := f.rng.Float64()
		for _, c := range f.classes {
			if v < c.share {
				ec = c
				break
			}
			v -= c.share
		}
		e.Status, e.ErrorClass, e.HTTPStatus = switchyard.UsageError, ec.class, ec.status
		e.Attempts = 1 + f.rng.IntN(3)
		e.LatencyMS = int64(f.logNormal(150, 0.8))
		if ec.class == "timeout" {
			e.LatencyMS = 30_000 + f.rng.Int64N(30_000)
		}
	case u < m.errorRate+0.005:
		// The client went away mid-answer: charged for what was made.
		e.Status, e.HTTPStatus = switchyard.UsageCancelled, 499
		out = out * f.rng.IntN(100) / 100
		e.LatencyMS = int64(latency * f.rng.Float64())
		e.InputTokens, e.CachedInputTokens, e.OutputTokens = in, cached, out
	default:
		e.LatencyMS = int64(latency)
		e.InputTokens, e.CachedInputTokens, e.OutputTokens = in, cached, out
		if e.Stream {
			e.TTFTMS = min(int64(f.logNormal(m.ttftMS, 0.5)), e.LatencyMS)
		}
	}
	if e.Status != switchyard.UsageError {
		e.CostUSD = switchyard.Cost(m.pricing, switchyard.Tokens{Input: e.InputTokens, CachedInput: e.CachedInputTokens, Output: e.OutputTokens})
	}
	f.count(&e)
	return e
}

func (f *usageFixture) count(e *switchyard.UsageEvent) {
	f.total.add(e)
	for _, k := range [...]struct{ dim, key string }{{switchyard.GroupByProvider, e.ProviderID},
		{switchyard.GroupByModel, e.ModelID}, {switchyard.GroupByConnection, e.ConnectionID}, {switchyard.GroupByUser, e.UserID}} {
		m := f.byKey[k.dim]
		if m == nil {
			m = map[string]*tally{}
			f.byKey[k.dim] = m
		}
		t := m[k.key]
		if t == nil {
			t = &tally{}
			m[k.key] = t
		}
		t.add(e)
	}
}

// connectionsOf returns the ids of the connections user owns.
func (f *usageFixture) connectionsOf(user string) []string {
	var out []string
	for _, c := range f.conns {
		if c.user == user {
			out = append(out, c.id)
		}
	}
	return out
}

// busiest returns the key of dim with the most requests.
func (f *usageFixture) busiest(dim string) string {
	var best string
	for k, t := range f.byKey[dim] {
		if best == "" || t.requests > f.byKey[dim][best].requests || (t.requests == f.byKey[dim][best].requests && k < best) {
			best = k
		}
	}
	return best
}

// minuteCounts spreads n events over the minutes from start: busier in
// the working hours (UTC) than at night, quieter at weekends. The counts
// add up to n exactly.
func minuteCounts(n int, start time.Time, minutes int) []int {
	w := make([]float64, minutes)
	var sum float64
	for i := range w {
		at := start.Add(time.Duration(i) * time.Minute)
		h := float64(at.Hour()) + float64(at.Minute())/60
		w[i] = 1 + 0.8*math.Sin(2*math.Pi*(h-9)/24)
		if d := at.Weekday(); d == time.Saturday || d == time.Sunday {
			w[i] *= 0.45
		}
		sum += w[i]
	}
	out := make([]int, minutes)
	var cum float64
	prev := 0
	for i := range w {
		cum += w[i]
		next := int(math.Round(cum / sum * float64(n)))
		if i == minutes-1 {
			next = n
		}
		out[i] = next - prev
		prev = next
	}
	return out
}

// generate calls emit with batches of up to size events, in time order,
// n events over [start, start+days): each minute's events at random
// milliseconds within it. emit must not keep the batch.
func (f *usageFixture) generate(n int, start time.Time, days, size int, emit func([]switchyard.UsageEvent) error) error {
	counts := minuteCounts(n, start, days*24*60)
	batch := make([]switchyard.UsageEvent, 0, size)
	var offsets []int64
	for i, k := range counts {
		minute := start.Add(time.Duration(i) * time.Minute)
		offsets = offsets[:0]
		for range k {
			offsets = append(offsets, f.rng.Int64N(int64(time.Minute/time.Millisecond)))
		}
		slices.Sort(offsets)
		for _, off := range offsets {
			batch = append(batch, f.event(minute.Add(time.Duration(off)*time.Millisecond)))
			if len(batch) == size {
				if err := emit(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		return emit(batch)
	}
	return nil
}
