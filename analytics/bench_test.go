package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

type discardStore struct{}

func (discardStore) AppendUsage(context.Context, []switchyard.UsageEvent) error { return nil }

func benchEvent() switchyard.UsageEvent {
	e := event(1)
	e.At = time.Now()
	return e
}

// BenchmarkRecord measures Record. accept: every event is queued (the
// queue is flushed, off the clock, whenever it fills); parallel: from
// every P, with the writer running against a store that discards; full:
// every event is dropped.
func BenchmarkRecord(b *testing.B) {
	b.Run("accept", func(b *testing.B) {
		r := analytics.NewRecorder(analytics.RecorderConfig{Store: discardStore{}})
		e := benchEvent()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			r.Record(e)
			if n++; n%analytics.DefaultQueueSize == 0 {
				b.StopTimer()
				_ = r.Flush(context.Background())
				b.StartTimer()
			}
		}
		if r.Dropped() != 0 {
			b.Fatalf("%d dropped", r.Dropped())
		}
	})
	b.Run("parallel", func(b *testing.B) {
		r := analytics.NewRecorder(analytics.RecorderConfig{Store: discardStore{}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go r.Run(ctx)
		e := benchEvent()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Record(e)
			}
		})
		b.StopTimer()
		_ = r.Close(context.Background())
		b.ReportMetric(float64(r.Dropped()), "dropped")
	})
	// full: nothing drains the queue, so every Record drops.
	b.Run("full", func(b *testing.B) {
		r := analytics.NewRecorder(analytics.RecorderConfig{Store: discardStore{}, QueueSize: 1})
		e := benchEvent()
		r.Record(e)
		b.ReportAllocs()
		for b.Loop() {
			r.Record(e)
		}
	})
}

// BenchmarkWrite10k records 10,000 events and flushes them into a fresh
// database of each backend (PostgreSQL when SWITCHYARD_TEST_POSTGRES_URL is
// set), in batches of the default 500. ns/event is ns/op ÷ 10,000.
//
//	go test ./analytics -run '^$' -bench Write10k -benchtime=5x -benchmem
func BenchmarkWrite10k(b *testing.B) {
	const n = 10_000
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db := be.Open(b)
			r := analytics.NewRecorder(analytics.RecorderConfig{Store: db, QueueSize: n, FlushEvery: time.Hour})
			ctx := context.Background()
			e := benchEvent()
			b.ReportAllocs()
			for b.Loop() {
				for range n {
					r.Record(e)
				}
				if err := r.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if r.Written() != r.Recorded() {
				b.Fatalf("written %d of %d", r.Written(), r.Recorded())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
