package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
)

// fakeStore keeps what it is given. before, when set, runs first and may
// fail the call or hold it.
type fakeStore struct {
	mu      sync.Mutex
	events  []switchyard.UsageEvent
	batches []int
	calls   int
	before  func(ctx context.Context, call int) error
}

func (f *fakeStore) AppendUsage(ctx context.Context, events []switchyard.UsageEvent) error {
	f.mu.Lock()
	f.calls++
	call, before := f.calls, f.before
	f.mu.Unlock()
	if before != nil {
		if err := before(ctx, call); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, events...)
	f.batches = append(f.batches, len(events))
	return nil
}

func (f *fakeStore) snapshot() (events []switchyard.UsageEvent, batches []int, calls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]switchyard.UsageEvent(nil), f.events...), append([]int(nil), f.batches...), f.calls
}

func event(i int) switchyard.UsageEvent {
	return switchyard.UsageEvent{RequestID: fmt.Sprintf("req-%d", i), ConnectionID: "c1", ProviderID: "p1",
		ModelID: "m1", Model: "fast", Status: switchyard.UsageOK, HTTPStatus: 200, InputTokens: 10, OutputTokens: 5,
		LatencyMS: 100, Attempts: 1}
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// run starts r's writer and stops it when the test ends.
func run(t *testing.T, r *analytics.Recorder) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func closeRecorder(t *testing.T, r *analytics.Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func wantCounters(t *testing.T, r *analytics.Recorder, recorded, written, dropped, failed uint64) {
	t.Helper()
	if r.Recorded() != recorded || r.Written() != written || r.Dropped() != dropped || r.Failed() != failed {
		t.Fatalf("recorded %d, written %d, dropped %d, failed %d; want %d, %d, %d, %d",
			r.Recorded(), r.Written(), r.Dropped(), r.Failed(), recorded, written, dropped, failed)
	}
}

func TestCloseWritesEverythingQueued(t *testing.T) {
	for _, running := range []bool{true, false} {
		t.Run(fmt.Sprintf("writer running %v", running), func(t *testing.T) {
			st := &fakeStore{}
			r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, QueueSize: 20000, BatchSize: 500, FlushEvery: time.Hour})
			if running {
				run(t, r)
			}
			const n = 15000
			for i := range n {
				r.Record(event(i))
			}
			closeRecorder(t, r)
			events, batches, _ := st.snapshot()
			if len(events) != n {
				t.Fatalf("%d events stored, want %d", len(events), n)
			}
			seen := map[string]bool{}
			for _, e := range events {
				if seen[e.RequestID] || e.At.IsZero() {
					t.Fatalf("event %s stored twice or without a time", e.RequestID)
				}
				seen[e.RequestID] = true
			}
			for _, b := range batches {
				if b > 500 {
					t.Fatalf("a batch of %d, more than BatchSize", b)
				}
			}
			wantCounters(t, r, n, n, 0, 0)
			// Closed, it takes nothing more.
			r.Record(event(n))
			wantCounters(t, r, n+1, n, 1, 0)
			if r.Queued() != 0 {
				t.Fatalf("%d events queued after close", r.Queued())
			}
		})
	}
}

func TestCloseAfterRunsContextEnded(t *testing.T) {
	st := &fakeStore{}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, BatchSize: 1000, FlushEvery: time.Hour})
	cancel := run(t, r)
	for i := range 300 {
		r.Record(event(i))
	}
	cancel()
	closeRecorder(t, r)
	if events, _, _ := st.snapshot(); len(events) != 300 {
		t.Fatalf("%d events stored, want 300", len(events))
	}
}

func TestRecordNeverBlocksOnASlowStore(t *testing.T) {
	release := make(chan struct{})
	st := &fakeStore{before: func(ctx context.Context, _ int) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, QueueSize: 100, BatchSize: 10, FlushEvery: time.Millisecond})
	run(t, r)
	const n = 20000
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		for i := range n {
			r.Record(event(i))
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Record blocked behind a slow store")
	}
	t.Logf("%d Records in %v while the store hangs", n, time.Since(start))
	if r.Recorded() != n || r.Dropped() == 0 || r.Written() != 0 {
		t.Fatalf("recorded %d, dropped %d, written %d", r.Recorded(), r.Dropped(), r.Written())
	}
	close(release)
	closeRecorder(t, r)
	if got := r.Written() + r.Dropped(); got != n || r.Failed() != 0 {
		t.Fatalf("written %d + dropped %d = %d, failed %d; want %d, 0", r.Written(), r.Dropped(), got, r.Failed(), n)
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	st := &fakeStore{}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, QueueSize: 10, BatchSize: 4})
	for i := range 25 {
		r.Record(event(i))
	}
	wantCounters(t, r, 25, 0, 15, 0)
	if r.Queued() != 10 {
		t.Fatalf("queued %d, want 10", r.Queued())
	}
	closeRecorder(t, r)
	wantCounters(t, r, 25, 10, 15, 0)
	events, batches, _ := st.snapshot()
	if len(events) != 10 || events[0].RequestID != "req-0" || events[9].RequestID != "req-9" {
		t.Fatalf("stored %d events, want the first 10", len(events))
	}
	if fmt.Sprint(batches) != "[4 4 2]" {
		t.Fatalf("batches %v, want [4 4 2]", batches)
	}
}

func TestBatchesBySize(t *testing.T) {
	st := &fakeStore{}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, BatchSize: 50, FlushEvery: time.Hour})
	run(t, r)
	for i := range 230 {
		r.Record(event(i))
	}
	eventually(t, "four full batches", func() bool { _, b, _ := st.snapshot(); return len(b) >= 4 })
	// The rest waits for FlushEvery, an hour away.
	time.Sleep(20 * time.Millisecond)
	if _, batches, _ := st.snapshot(); fmt.Sprint(batches) != "[50 50 50 50]" {
		t.Fatalf("batches %v, want four of 50", batches)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, batches, _ := st.snapshot(); fmt.Sprint(batches) != "[50 50 50 50 30]" {
		t.Fatalf("batches after flush %v", batches)
	}
	wantCounters(t, r, 230, 230, 0, 0)
}

func TestBatchesByTime(t *testing.T) {
	st := &fakeStore{}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, BatchSize: 1000, FlushEvery: 10 * time.Millisecond})
	run(t, r)
	for i := range 7 {
		r.Record(event(i))
	}
	eventually(t, "a batch on the timer", func() bool { e, _, _ := st.snapshot(); return len(e) == 7 })
	for i := range 3 {
		r.Record(event(100 + i))
	}
	eventually(t, "a second batch on the timer", func() bool { e, _, _ := st.snapshot(); return len(e) == 10 })
	if _, batches, _ := st.snapshot(); fmt.Sprint(batches) != "[7 3]" {
		t.Fatalf("batches %v, want [7 3]", batches)
	}
}

func TestFailingStoreRetriedThenCounted(t *testing.T) {
	down := errors.New("database unreachable")
	tests := []struct {
		name      string
		failCalls int
		calls     int
		written   uint64
		failed    uint64
	}{
		{"recovers on a retry", 2, 3, 10, 0},
		{"gives up after the retries", 100, 3, 0, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{before: func(_ context.Context, call int) error {
				if call <= tt.failCalls {
					return down
				}
				return nil
			}}
			r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, Retries: 2, RetryBackoff: time.Millisecond})
			for i := range 10 {
				r.Record(event(i))
			}
			start := time.Now()
			if err := r.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, _, calls := st.snapshot(); calls != tt.calls {
				t.Fatalf("%d store calls, want %d", calls, tt.calls)
			}
			if time.Since(start) < 3*time.Millisecond {
				t.Fatalf("retries did not back off (1 ms, then 2 ms)")
			}
			wantCounters(t, r, 10, tt.written, 0, tt.failed)
		})
	}
}

func TestInvalidEventsDoNotSinkTheBatch(t *testing.T) {
	st := &fakeStore{}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st})
	for i := range 5 {
		e := event(i)
		if i == 2 {
			e.Status = "unknown"
		}
		r.Record(e)
	}
	closeRecorder(t, r)
	wantCounters(t, r, 5, 4, 0, 1)
}

func TestStorePanicIsAFailure(t *testing.T) {
	st := &fakeStore{before: func(context.Context, int) error { panic("boom") }}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, Retries: -1})
	r.Record(event(1))
	closeRecorder(t, r)
	wantCounters(t, r, 1, 0, 0, 1)
}

func TestCloseEndsWithItsContext(t *testing.T) {
	st := &fakeStore{before: func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, BatchSize: 10})
	for i := range 25 {
		r.Record(event(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := r.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close = %v, want the deadline", err)
	}
	t.Log(err)
	wantCounters(t, r, 25, 0, 25, 0)
}

func TestConcurrentRecord(t *testing.T) {
	st := &fakeStore{}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, QueueSize: 1000, BatchSize: 100, FlushEvery: time.Millisecond})
	run(t, r)
	const goroutines, each = 16, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r.Record(event(g*each + i))
				if i%500 == 0 {
					_ = r.Flush(context.Background())
				}
			}
		})
	}
	wg.Wait()
	closeRecorder(t, r)
	events, _, _ := st.snapshot()
	if uint64(len(events)) != r.Written() || r.Written()+r.Dropped() != goroutines*each || r.Recorded() != goroutines*each {
		t.Fatalf("stored %d; recorded %d, written %d, dropped %d", len(events), r.Recorded(), r.Written(), r.Dropped())
	}
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.RequestID] {
			t.Fatalf("%s stored twice", e.RequestID)
		}
		seen[e.RequestID] = true
	}
	t.Logf("written %d, dropped %d", r.Written(), r.Dropped())
}

func TestCloseRacesRecord(t *testing.T) {
	st := &fakeStore{}
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, BatchSize: 64, FlushEvery: time.Millisecond})
	run(t, r)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 3000 {
				r.Record(event(g*3000 + i))
			}
		})
	}
	time.Sleep(time.Millisecond)
	closeRecorder(t, r)
	wg.Wait()
	events, _, _ := st.snapshot()
	if uint64(len(events)) != r.Written() || r.Written()+r.Dropped() != r.Recorded() || r.Recorded() != 24000 {
		t.Fatalf("stored %d; recorded %d, written %d, dropped %d", len(events), r.Recorded(), r.Written(), r.Dropped())
	}
	if r.Queued() != 0 {
		t.Fatalf("%d events left in the queue after Close", r.Queued())
	}
}
