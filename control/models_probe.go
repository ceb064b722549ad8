package control

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/probe"
)

// TestModel makes one real, minimal call to the model, verifies its
// capabilities (see probe.TestModel), and stores the result as the model's
// LastTest with the status it implies (available or unavailable), without
// changing the model's version.
func (s *Service) TestModel(ctx context.Context, a *Actor, id string) (*switchyard.TestResult, error) {
	if err := s.adminOnModel(ctx, a, id); err != nil {
		return nil, err
	}
	if s.adapters == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "model tests are not available in this process")
	}
	m, err := s.store.GetModel(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.store.GetProvider(ctx, m.ProviderID)
	if err != nil {
		return nil, err
	}
	var res *switchyard.TestResult
	if ad, err := s.adapterFor(p, m.UpstreamID); err != nil {
		res = &switchyard.TestResult{At: s.now().UTC(), Code: "no_credential", Message: switchyard.ErrorMessage(err)}
		if _, ok := probe.CredentialFor(p, m.UpstreamID); ok {
			res.Code = "invalid_configuration"
		}
	} else {
		res = probe.TestModel(ctx, ad, m, probe.ModelTestOptions{CallTimeout: s.callTimeout, Now: s.now})
	}
	status := switchyard.ModelAvailable
	if !res.OK {
		status = switchyard.ModelUnavailable
	}
	// The result is kept even when the caller has gone.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.store.SetModelTest(sctx, id, status, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Benchmark request limits and defaults.
const (
	DefaultBenchmarkRequests    = 20
	DefaultBenchmarkConcurrency = 4
)

// BenchmarkRun is a benchmark of a model, running or finished.
type BenchmarkRun struct {
	ID      string
	ModelID string
	// Status is running, completed or cancelled.
	Status      string
	Requests    int
	Concurrency int
	// Done and Errors count the requests finished so far, and those that
	// failed.
	Done       int
	Errors     int
	StartedAt  time.Time
	FinishedAt *time.Time
	// Result is set once the run has finished.
	Result *switchyard.BenchmarkResult
	// Message says what went wrong storing the result, if anything.
	Message string
}

// benchmarks are the runs of this process: at most one running per model,
// and the last one of each model.
type benchmarks struct {
	mu   sync.Mutex
	runs map[string]*benchRun
	wg   sync.WaitGroup
}

type benchRun struct {
	mu     sync.Mutex
	run    BenchmarkRun
	cancel context.CancelFunc
	done   chan struct{}
}

func (r *benchRun) snapshot() *BenchmarkRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.run
	return &out
}

// StartBenchmark starts a benchmark of the model in the background:
// requests (1-500, 0 for 20) small streamed requests, concurrency (1-16, 0
// for 4) at a time. Only one run per model at a time (ECONFLICT). The run
// ends when it is done, when CancelBenchmark is called, or when the
// service's background context ends; its result is then stored in the
// model's history and, when completed, as its LastBenchmark.
func (s *Service) StartBenchmark(ctx context.Context, a *Actor, id string, requests, concurrency int) (*BenchmarkRun, error) {
	if err := s.adminOnModel(ctx, a, id); err != nil {
		return nil, err
	}
	if requests == 0 {
		requests = DefaultBenchmarkRequests
	}
	if concurrency == 0 {
		concurrency = DefaultBenchmarkConcurrency
	}
	var pr switchyard.Problems
	if requests < 1 || requests > probe.MaxBenchmarkRequests {
		pr.Add("requests", "out_of_range", "must be between 1 and %d", probe.MaxBenchmarkRequests)
	}
	if concurrency < 1 || concurrency > probe.MaxBenchmarkConcurrency {
		pr.Add("concurrency", "out_of_range", "must be between 1 and %d", probe.MaxBenchmarkConcurrency)
	}
	if err := pr.Err("benchmark"); err != nil {
		return nil, err
	}
	if s.adapters == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "benchmarks are not available in this process")
	}
	m, err := s.store.GetModel(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.store.GetProvider(ctx, m.ProviderID)
	if err != nil {
		return nil, err
	}
	ad, err := s.adapterFor(p, m.UpstreamID)
	if err != nil {
		return nil, err
	}

	s.benches.mu.Lock()
	defer s.benches.mu.Unlock()
	if r, ok := s.benches.runs[id]; ok {
		if cur := r.snapshot(); cur.Status == switchyard.BenchmarkRunning {
			return nil, switchyard.Errorf(switchyard.ECONFLICT,
				"a benchmark of model %q is already running (%d of %d requests done); wait for it, or cancel it with DELETE", id, cur.Done, cur.Requests)
		}
	}
	if err := s.bg.Err(); err != nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "the server is shutting down")
	}
	runID := uuid.Must(uuid.NewV7()).String()
	if err := s.audit(ctx, s.store, a, "benchmark", "model", id, nil,
		map[string]any{"benchmark_id": runID, "requests": requests, "concurrency": concurrency}); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(s.bg)
	r := &benchRun{cancel: cancel, done: make(chan struct{}), run: BenchmarkRun{ID: runID, ModelID: id,
		Status: switchyard.BenchmarkRunning, Requests: requests, Concurrency: concurrency, StartedAt: s.now().UTC()}}
	s.benches.runs[id] = r
	s.benches.wg.Add(1)
	go func() {
		defer s.benches.wg.Done()
		defer close(r.done)
		defer cancel()
		res := probe.Benchmark(rctx, ad, m, probe.BenchmarkOptions{Requests: requests, Concurrency: concurrency,
			CallTimeout: 2 * s.callTimeout, Now: s.now,
			Progress: func(done, errors int) {
				r.mu.Lock()
				r.run.Done, r.run.Errors = max(r.run.Done, done), max(r.run.Errors, errors)
				r.mu.Unlock()
			}})
		res.ID, res.ModelID = runID, id
		var msg string
		if res.Requests > 0 {
			// Stored even when the run was cut short by a shutdown.
			sctx, scancel := context.WithTimeout(context.WithoutCancel(rctx), 10*time.Second)
			if err := s.store.AddBenchmark(sctx, res); err != nil {
				msg = fmt.Sprintf("the result could not be stored: %s", switchyard.ErrorMessage(err))
				s.log.Error("storing a benchmark", "model", id, "benchmark", runID, "error", err)
			}
			scancel()
		}
		finished := s.now().UTC()
		r.mu.Lock()
		r.run.Status, r.run.Result, r.run.FinishedAt, r.run.Message = res.Status, res, &finished, msg
		r.run.Done, r.run.Errors = res.Requests, res.Errors
		r.mu.Unlock()
		s.log.Info("benchmark finished", "model", id, "benchmark", runID, "status", res.Status,
			"requests", res.Requests, "errors", res.Errors, "p50_ms", res.P50MS)
	}()
	return r.snapshot(), nil
}

// GetBenchmark returns the model's running benchmark, or else its last one
// (of this process, or from the history).
func (s *Service) GetBenchmark(ctx context.Context, a *Actor, id string) (*BenchmarkRun, error) {
	if err := s.adminOnModel(ctx, a, id); err != nil {
		return nil, err
	}
	if _, err := s.store.GetModel(ctx, id); err != nil {
		return nil, err
	}
	s.benches.mu.Lock()
	r, ok := s.benches.runs[id]
	s.benches.mu.Unlock()
	if ok {
		return r.snapshot(), nil
	}
	page, err := s.store.ListBenchmarks(ctx, id, switchyard.ListOptions{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "model %q has not been benchmarked; start a run with POST", id)
	}
	return runFromResult(page.Items[0]), nil
}

func runFromResult(b *switchyard.BenchmarkResult) *BenchmarkRun {
	at := b.At
	if b.DurationMS > 0 {
		at = at.Add(time.Duration(b.DurationMS) * time.Millisecond)
	}
	return &BenchmarkRun{ID: b.ID, ModelID: b.ModelID, Status: b.Status, Requests: b.Requests, Concurrency: b.Concurrency,
		Done: b.Requests, Errors: b.Errors, StartedAt: b.At, FinishedAt: &at, Result: b}
}

// CancelBenchmark stops the model's running benchmark and returns it once
// it has stopped; the requests finished so far are kept as a cancelled run.
func (s *Service) CancelBenchmark(ctx context.Context, a *Actor, id string) (*BenchmarkRun, error) {
	if err := s.adminOnModel(ctx, a, id); err != nil {
		return nil, err
	}
	s.benches.mu.Lock()
	r, ok := s.benches.runs[id]
	s.benches.mu.Unlock()
	if !ok || r.snapshot().Status != switchyard.BenchmarkRunning {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "no benchmark of model %q is running", id)
	}
	r.cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return r.snapshot(), nil
}

// ListBenchmarks lists the model's finished benchmarks, newest first.
func (s *Service) ListBenchmarks(ctx context.Context, a *Actor, id string, opts switchyard.ListOptions) (switchyard.Page[*switchyard.BenchmarkResult], error) {
	if err := s.adminOnModel(ctx, a, id); err != nil {
		return switchyard.Page[*switchyard.BenchmarkResult]{}, err
	}
	if _, err := s.store.GetModel(ctx, id); err != nil {
		return switchyard.Page[*switchyard.BenchmarkResult]{}, err
	}
	return s.store.ListBenchmarks(ctx, id, opts)
}

// Wait waits until every background run has ended. Cancel the Background
// context first to make them end; serve does so on shutdown, before it
// closes the database.
func (s *Service) Wait() {
	s.benches.wg.Wait()
}
