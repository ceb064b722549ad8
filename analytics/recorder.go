// Package analytics records gateway usage and, later, rolls it up and
// answers questions about it. It reaches the database only through the
// domain's store interfaces.
package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard"
)

// UsageWriter stores batches of usage events; switchyard.UsageStore
// implements it. AppendUsage must not keep the slice after it returns, and
// should skip events whose ID it already stored (the Recorder retries a
// batch whose outcome it did not learn, with the IDs set by the first try).
type UsageWriter interface {
	AppendUsage(ctx context.Context, events []switchyard.UsageEvent) error
}

// Defaults of RecorderConfig.
const (
	DefaultQueueSize    = 10_000
	DefaultBatchSize    = 500
	DefaultFlushEvery   = time.Second
	DefaultRetries      = 3
	DefaultRetryBackoff = 250 * time.Millisecond
)

// RecorderConfig configures NewRecorder. Zero fields take their defaults.
type RecorderConfig struct {
	// Store receives the batches. Required.
	Store UsageWriter
	// QueueSize bounds the events waiting to be written (default 10,000).
	// When it is full, Record drops the event and counts it.
	QueueSize int
	// BatchSize is the most events written at once (default 500); a full
	// batch is written at once, without waiting for FlushEvery.
	BatchSize int
	// FlushEvery is the longest an event waits before it is written
	// (default 1 s).
	FlushEvery time.Duration
	// Retries is how many times a failed batch is tried again (default 3;
	// negative: never) before it is dropped and counted as failed.
	Retries int
	// RetryBackoff is the wait before the first retry (default 250 ms); it
	// doubles with each retry.
	RetryBackoff time.Duration
	// Pace bounds how long the writer works without a pause when many
	// batches wait, so that it does not hold up requests on a server with
	// one CPU (see Pace). Flush and Close write unpaced.
	Pace Pace
	// Logger receives failures (default: discard). Messages name counts
	// and store errors, never an event's content.
	Logger *slog.Logger
}

// Recorder queues usage events without blocking the request that made
// them and writes them in batches.
//
// Run is the background writer. Flush writes everything queued so far;
// Close stops taking events and writes everything queued, for a graceful
// shutdown. The counters are for metrics: at rest, Recorded equals
// Written + Dropped + Failed.
//
// The queue is a slice behind a mutex that Record holds only to append
// one event; the writer swaps the slice for an empty one and writes what
// it took without the lock, so a slow store never holds up Record.
type Recorder struct {
	mu       sync.Mutex
	queue    []switchyard.UsageEvent // guarded by mu
	spare    []switchyard.UsageEvent // guarded by mu: the last written batch's memory, for reuse
	closed   bool                    // guarded by mu
	recorded uint64                  // guarded by mu
	dropped  uint64                  // guarded by mu
	kick     chan struct{}

	written atomic.Uint64
	failed  atomic.Uint64

	store      UsageWriter
	queueSize  int
	batchSize  int
	flushEvery time.Duration
	retries    int
	backoff    time.Duration
	pace       Pace
	log        *slog.Logger
	// sleep is how a paced write rests (time.Sleep; tests count the rests).
	sleep func(time.Duration)

	// turn is held by whoever takes events from the queue and writes them
	// (a token in a channel, so that waiting for it can end with a
	// context); it guards pending, the events taken and not yet written.
	turn    chan struct{}
	pending []switchyard.UsageEvent

	stop      chan struct{}
	closeOnce sync.Once
}

// errStopped ends a write of Run's when Close takes over.
var errStopped = errors.New("usage recorder closed")

// NewRecorder returns a Recorder; start its writer with Run.
func NewRecorder(cfg RecorderConfig) *Recorder {
	if cfg.Store == nil {
		panic("analytics: RecorderConfig.Store is nil")
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{
		kick: make(chan struct{}, 1), store: cfg.Store, queueSize: cfg.QueueSize, batchSize: cfg.BatchSize,
		flushEvery: cfg.FlushEvery, retries: cfg.Retries, backoff: cfg.RetryBackoff, pace: cfg.Pace, log: cfg.Logger,
		turn: make(chan struct{}, 1), stop: make(chan struct{}),
	}
}

// Record queues e and returns at once; it never waits for the store. When
// the queue is full, or the Recorder is closed, e is dropped and counted.
// A zero At is set to now.
func (r *Recorder) Record(e switchyard.UsageEvent) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	r.mu.Lock()
	r.recorded++
	if r.closed || len(r.queue) >= r.queueSize {
		r.dropped++
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, e)
	full := len(r.queue) == r.batchSize
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// Recorded counts every event given to Record.
func (r *Recorder) Recorded() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recorded
}

// Written counts events the store accepted.
func (r *Recorder) Written() uint64 { return r.written.Load() }

// Dropped counts events turned away by a full queue or a closed Recorder,
// and those still queued when a Close ran out of time.
func (r *Recorder) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Failed counts events given up after the store refused them on every
// try, and invalid events.
func (r *Recorder) Failed() uint64 { return r.failed.Load() }

// Queued returns how many events wait in the queue.
func (r *Recorder) Queued() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// Run writes queued events until ctx ends or Close is called: a batch as
// soon as BatchSize events wait, and whatever waits every FlushEvery. Run
// it once, in a goroutine of its own. Events still queued when ctx ends
// are written by Close.
func (r *Recorder) Run(ctx context.Context) {
	tick := time.NewTicker(r.flushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.stop:
			return
		case <-r.kick:
			_ = r.withTurn(ctx, func() error { return r.writeQueued(ctx, r.stop, true, r.pacer()) })
		case <-tick.C:
			_ = r.withTurn(ctx, func() error { return r.writeQueued(ctx, r.stop, false, r.pacer()) })
		}
	}
}

// Flush writes every event queued before it was called, and returns
// when they are written or counted as failed, or when ctx ends.
func (r *Recorder) Flush(ctx context.Context) error {
	return r.withTurn(ctx, func() error { return r.writeQueued(ctx, nil, false, nil) })
}

// Close stops taking events and writes every event queued, waiting for a
// write of Run's to finish first. Call it once, after Run's context has
// ended or while Run still runs. If ctx ends first, the events left are
// counted as dropped and Close returns an error saying how many.
func (r *Recorder) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		close(r.stop)
	})
	ran := false
	err := r.withTurn(ctx, func() error {
		ran = true
		err := r.writeQueued(ctx, nil, false, nil)
		if err == nil {
			return nil
		}
		r.mu.Lock()
		n := len(r.pending) + len(r.queue)
		r.dropped += uint64(n)
		r.queue = nil
		r.mu.Unlock()
		r.pending = nil
		return fmt.Errorf("usage recorder: %d events not written: %w", n, err)
	})
	if !ran && err != nil {
		// The turn never came: Run is still inside the store.
		return fmt.Errorf("usage recorder: the writer is busy; %d events left queued: %w", r.Queued(), err)
	}
	return err
}

// withTurn runs fn while holding the writer's turn.
func (r *Recorder) withTurn(ctx context.Context, fn func() error) error {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.turn }()
	return fn()
}

// take moves the queue to pending, behind what pending still holds; with
// fullOnly it moves only whole batches and leaves the rest queued.
func (r *Recorder) take(fullOnly bool) {
	from := len(r.pending)
	r.takeLocked(fullOnly)
	r.dropInvalid(from)
}

func (r *Recorder) takeLocked(fullOnly bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.queue)
	if fullOnly {
		n = (len(r.pending)+n)/r.batchSize*r.batchSize - len(r.pending)
	}
	if n <= 0 {
		return
	}
	if len(r.pending) == 0 && n == len(r.queue) {
		// The common case: swap the slices, copying nothing.
		r.pending, r.queue = r.queue, r.spare[:0]
		r.spare = nil
		return
	}
	r.pending = append(r.pending, r.queue[:n]...)
	rest := copy(r.queue, r.queue[n:])
	clear(r.queue[rest:])
	r.queue = r.queue[:rest]
}

// pacer paces one of Run's writes.
func (r *Recorder) pacer() *pacer { return newPacer(r.pace, nil, r.sleep) }

// writeQueued writes pending and the events queued now, in batches; with
// fullOnly, only whole batches. With p, it rests between batches as p
// says.
func (r *Recorder) writeQueued(ctx context.Context, stop <-chan struct{}, fullOnly bool, p *pacer) error {
	r.take(fullOnly)
	for off := 0; off < len(r.pending); {
		if p != nil {
			p.check()
		}
		n := min(len(r.pending)-off, r.batchSize)
		if err := r.write(ctx, stop, r.pending[off:off+n]); err != nil {
			clear(r.pending[:off])
			r.pending = r.pending[off:]
			return err
		}
		off += n
	}
	if r.pending != nil {
		clear(r.pending)
		r.mu.Lock()
		if r.spare == nil {
			r.spare = r.pending[:0]
		}
		r.mu.Unlock()
		r.pending = nil
	}
	return nil
}

// write stores batch, trying again with backoff. When the store keeps
// failing, the batch is counted as failed and write returns nil. When ctx
// ends or stop closes, it returns an error and the batch stays in pending
// for the next holder of the turn.
func (r *Recorder) write(ctx context.Context, stop <-chan struct{}, batch []switchyard.UsageEvent) error {
	wait := r.backoff
	for try := 0; len(batch) > 0; try++ {
		err := r.append(ctx, batch)
		if err == nil {
			r.written.Add(uint64(len(batch)))
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if try >= r.retries {
			r.failed.Add(uint64(len(batch)))
			r.log.Error("usage batch not written; dropped", "events", len(batch), "tries", try+1, "error", err)
			return nil
		}
		r.log.Warn("usage batch not written; trying again", "events", len(batch), "try", try+1, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-stop:
			t.Stop()
			return errStopped
		}
		wait *= 2
	}
	return nil
}

// append calls the store, turning a panic into an error.
func (r *Recorder) append(ctx context.Context, batch []switchyard.UsageEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("usage store panicked: %v", p)
		}
	}()
	return r.store.AppendUsage(ctx, batch)
}

// dropInvalid removes from pending[from:] the events the store would
// refuse, counting them as failed, so that one bad event does not cost
// the whole batch.
func (r *Recorder) dropInvalid(from int) {
	kept, bad := from, 0
	for i := from; i < len(r.pending); i++ {
		if err := r.pending[i].Validate(); err != nil {
			if bad == 0 {
				r.log.Error("invalid usage event dropped", "error", err)
			}
			bad++
			continue
		}
		r.pending[kept] = r.pending[i]
		kept++
	}
	if bad > 0 {
		r.failed.Add(uint64(bad))
		clear(r.pending[kept:])
		r.pending = r.pending[:kept]
	}
}
