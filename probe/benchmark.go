package probe

import (
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
)

// Benchmark limits.
const (
	MaxBenchmarkRequests    = 500
	MaxBenchmarkConcurrency = 16
)

// BenchmarkOptions describe a benchmark run.
type BenchmarkOptions struct {
	// Requests is how many requests to send (1-500).
	Requests int
	// Concurrency is how many are in flight at once (1-16).
	Concurrency int
	// CallTimeout bounds each request (default 60 s).
	CallTimeout time.Duration
	// MaxTokens bounds each answer (default 64).
	MaxTokens int
	// Progress, when set, is called after each request with the counts so
	// far; it may be called from several goroutines at once.
	Progress func(done, errors int)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Benchmark sends opts.Requests small requests to the model, opts.Concurrency
// at a time, streamed so that the time to the first token is measured (an
// embeddings model gets embed calls instead). It stops early when ctx ends;
// the result then counts the requests that finished and has Status
// cancelled. Requests cut off by the end of ctx are not counted as errors.
func Benchmark(ctx context.Context, a provider.Adapter, m *switchyard.Model, opts BenchmarkOptions) *switchyard.BenchmarkResult {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	opts.Requests = min(max(opts.Requests, 1), MaxBenchmarkRequests)
	opts.Concurrency = min(max(opts.Concurrency, 1), MaxBenchmarkConcurrency, opts.Requests)
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 60 * time.Second
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 64
	}
	embed := isEmbeddings(m)
	started := time.Now()
	res := &switchyard.BenchmarkResult{ModelID: m.ID, At: now().UTC(), Concurrency: opts.Concurrency, Status: switchyard.BenchmarkCompleted}

	var (
		mu        sync.Mutex
		latencies []float64
		ttfts     []float64
		tokens    int
		busy      time.Duration
		done      int
		errs      int
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	for range opts.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil && int(next.Add(1)) <= opts.Requests {
				s := benchOne(ctx, a, m.UpstreamID, embed, opts)
				if ctx.Err() != nil && s.err != nil {
					return // cut off by the end of the run: not the model's fault
				}
				mu.Lock()
				done++
				if s.err != nil {
					errs++
				} else {
					latencies = append(latencies, ms(s.latency))
					if s.ttft > 0 {
						ttfts = append(ttfts, ms(s.ttft))
					}
					tokens += s.tokens
					busy += s.latency
				}
				d, e := done, errs
				mu.Unlock()
				if opts.Progress != nil {
					opts.Progress(d, e)
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil && done < opts.Requests {
		res.Status = switchyard.BenchmarkCancelled
	}
	res.Requests, res.Errors = done, errs
	if done > 0 {
		res.ErrorRate = round2(float64(errs) / float64(done))
	}
	slices.Sort(latencies)
	slices.Sort(ttfts)
	res.P50MS, res.P95MS, res.P99MS = percentile(latencies, 50), percentile(latencies, 95), percentile(latencies, 99)
	res.TTFTMS = percentile(ttfts, 50)
	if busy > 0 {
		res.TokensPerSec = round2(float64(tokens) / busy.Seconds())
	}
	res.DurationMS = time.Since(started).Milliseconds()
	return res
}

type sample struct {
	latency, ttft time.Duration
	tokens        int
	err           error
}

func benchOne(ctx context.Context, a provider.Adapter, model string, embed bool, opts BenchmarkOptions) (s sample) {
	ctx, cancel := context.WithTimeout(ctx, opts.CallTimeout)
	defer cancel()
	start := time.Now()
	defer func() { s.latency = time.Since(start) }()
	if embed {
		_, s.err = a.Embed(ctx, &provider.EmbedRequest{Model: model, Input: []string{"Switchyard benchmark"}})
		return s
	}
	st, err := a.ChatStream(ctx, &provider.ChatRequest{Model: model, MaxTokens: opts.MaxTokens,
		Messages: []provider.Message{provider.TextMessage(provider.RoleUser, "Count from one to twenty in words.")}})
	if err != nil {
		s.err = err
		return s
	}
	defer st.Close()
	chars := 0
	for {
		c, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.err = err
			return s
		}
		if s.ttft == 0 && (c.Text != "" || len(c.ToolCalls) > 0) {
			s.ttft = time.Since(start)
		}
		chars += len(c.Text)
		if c.Usage != nil {
			s.tokens = c.Usage.OutputTokens
		}
	}
	if s.tokens == 0 && chars > 0 {
		s.tokens = max(1, (chars+3)/4) // no usage reported: estimate
	}
	return s
}

// percentile is the nearest-rank percentile of sorted values (0 for none).
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

func round2(f float64) float64 { return math.Round(f*100) / 100 }
