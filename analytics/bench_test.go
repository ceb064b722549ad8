package analytics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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

// seedMonth stores a month of hourly and daily rollups ending at end: 5
// providers × 4 models × 10 connections = 200 groups per bucket (144,000
// hourly rows, 6,000 daily), each with latency and TTFT histograms of a
// few dozen buckets, and per bucket the 20 models' totals and the 10
// connections' totals.
func seedMonth(b *testing.B, db switchyard.RollupStore, end time.Time) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	hist := func() []byte {
		var h analytics.Histogram
		for range 200 {
			h.Add(int64(math.Exp(rng.NormFloat64()*0.7 + 6)))
		}
		out, _ := h.MarshalBinary()
		return out
	}
	rows := func(res switchyard.Resolution, at time.Time) []switchyard.UsageRollup {
		var out []switchyard.UsageRollup
		for p := range 5 {
			for m := range 4 {
				for c := range 11 {
					conn, user := fmt.Sprintf("connection-%d", c), fmt.Sprintf("user-%d", c%3)
					if c == 10 {
						conn, user = switchyard.RollupAll, switchyard.RollupAll
					}
					out = append(out, switchyard.UsageRollup{Resolution: res, Bucket: at, ProviderID: fmt.Sprintf("provider-%d", p),
						ModelID: fmt.Sprintf("model-%d-%d", p, m), ConnectionID: conn, UserID: user,
						Requests: 200, Errors: int64(rng.IntN(5)), InputTokens: 200_000, OutputTokens: 40_000, CostUSD: 0.12,
						LatencySumMS: 80_000, Latency: hist(), TTFTCount: 100, TTFTSumMS: 20_000, TTFT: hist()})
				}
			}
		}
		for c := range 10 {
			out = append(out, switchyard.UsageRollup{Resolution: res, Bucket: at, ProviderID: switchyard.RollupAll, ModelID: switchyard.RollupAll,
				ConnectionID: fmt.Sprintf("connection-%d", c), UserID: fmt.Sprintf("user-%d", c%3), Requests: 4000, InputTokens: 4_000_000,
				OutputTokens: 800_000, CostUSD: 2.4, LatencySumMS: 1_600_000, Latency: hist(), TTFTCount: 2000, TTFTSumMS: 400_000, TTFT: hist()})
		}
		return out
	}
	start := end.Add(-30 * 24 * time.Hour)
	for d := start; d.Before(end); d = d.Add(24 * time.Hour) {
		var hours []switchyard.UsageRollup
		for h := d; h.Before(d.Add(24 * time.Hour)); h = h.Add(time.Hour) {
			hours = append(hours, rows(switchyard.ResolutionHour, h)...)
		}
		if err := db.ReplaceRollups(ctx, switchyard.ResolutionHour, d, d.Add(24*time.Hour), hours, time.Time{}); err != nil {
			b.Fatal(err)
		}
		if err := db.ReplaceRollups(ctx, switchyard.ResolutionDay, d, d.Add(24*time.Hour), rows(switchyard.ResolutionDay, d), time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsageMonth answers usage queries over a month of rollups: by
// day (the resolution a month picks on its own) and by hour, grouped by
// provider, and by day for one connection.
func BenchmarkUsageMonth(b *testing.B) {
	end := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			seedMonth(b, db, end)
			rd := analytics.NewReader(analytics.ReaderConfig{Store: db, Now: func() time.Time { return end }})
			for _, q := range []struct {
				name string
				q    switchyard.UsageQuery
			}{
				{"day", switchyard.UsageQuery{GroupBy: switchyard.GroupByProvider}},
				{"hour", switchyard.UsageQuery{GroupBy: switchyard.GroupByProvider, Resolution: switchyard.ResolutionHour}},
				{"hour-by-connection", switchyard.UsageQuery{GroupBy: switchyard.GroupByConnection, Resolution: switchyard.ResolutionHour}},
				{"hour-one-connection", switchyard.UsageQuery{ConnectionID: "connection-3", Resolution: switchyard.ResolutionHour}},
				{"day-one-connection", switchyard.UsageQuery{ConnectionID: "connection-3", GroupBy: switchyard.GroupByModel}},
			} {
				b.Run(q.name, func(b *testing.B) {
					q.q.From, q.q.To = end.Add(-30*24*time.Hour), end
					var rep *switchyard.UsageReport
					for b.Loop() {
						var err error
						if rep, err = rd.Usage(context.Background(), q.q); err != nil {
							b.Fatal(err)
						}
					}
					if len(rep.Series) == 0 || rep.Series[0].Total.Requests == 0 {
						b.Fatalf("empty report: %+v", rep)
					}
				})
			}
		})
	}
}

// BenchmarkRollupMinutes builds the minute, hour and day rollups of
// 60,000 raw events over ten minutes (100 requests a second) in one run;
// events/s is how many raw events a run turns into rollups per second.
func BenchmarkRollupMinutes(b *testing.B) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, backend := range storetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			rng := rand.New(rand.NewPCG(5, 6))
			const n = 60_000
			events := make([]switchyard.UsageEvent, 0, 1000)
			for i := range n {
				e := event(i)
				e.At = now.Add(-12*time.Minute + time.Duration(rng.Int64N(int64(10*time.Minute))))
				e.ProviderID, e.ModelID, e.ConnectionID = fmt.Sprintf("p%d", i%5), fmt.Sprintf("m%d", i%20), fmt.Sprintf("c%d", i%10)
				events = append(events, e)
				if len(events) == cap(events) {
					if err := db.AppendUsage(context.Background(), events); err != nil {
						b.Fatal(err)
					}
					events = events[:0]
				}
			}
			r, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Now: func() time.Time { return now }})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				res, err := r.RunOnce(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if res.Events < n {
					b.Fatalf("read %d events", res.Events)
				}
				// Every run rebuilds the same window from the start.
				b.StopTimer()
				if _, err := db.SQL().Exec("DELETE FROM usage_rollup_state"); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
