package analytics_test

import (
	"math"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// TestHealthRollups: health checks rolled up per minute, hour and day give
// the same availability and close latency percentiles at every
// resolution, are rebuilt idempotently, and go by retention.
func TestHealthRollups(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			var ids [2]string
			for i, slug := range []string{"steady", "flaky"} {
				p := &switchyard.Provider{Name: "Provider " + slug, Slug: slug, Protocol: switchyard.ProtocolOpenAI, BaseURL: "https://x.example/v1"}
				if err := db.CreateProvider(ctx, p); err != nil {
					t.Fatal(err)
				}
				ids[i] = p.ID
			}
			// One check a minute for three hours before rollupNow: the
			// steady provider always answers in 100–199 ms; the flaky one
			// fails every fourth check.
			start := rollupNow.Add(-3 * time.Hour)
			for m := range 180 {
				at := start.Add(time.Duration(m)*time.Minute + 10*time.Second)
				for i, id := range ids {
					ok := i == 0 || m%4 != 0
					c := &switchyard.HealthCheck{ProviderID: id, At: at, OK: ok, LatencyMS: int64(100 + m%100)}
					if !ok {
						c.Code = "unavailable"
					}
					if err := db.AddHealthCheck(ctx, c); err != nil {
						t.Fatal(err)
					}
				}
			}
			now := rollupNow.Add(2 * time.Minute)
			clock := func() time.Time { return now }
			roller, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Health: db, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // a second run rewrites the same rows
				if _, err := roller.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}
			rd := analytics.NewReader(analytics.ReaderConfig{Store: db, Inventory: db, Health: db, Now: clock})
			for _, res := range []switchyard.Resolution{switchyard.ResolutionMinute, switchyard.ResolutionHour, switchyard.ResolutionDay} {
				rep, err := rd.Health(ctx, switchyard.HealthQuery{From: start, To: rollupNow, Resolution: res})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Series) != 2 {
					t.Fatalf("%s: %d series", res, len(rep.Series))
				}
				for _, s := range rep.Series {
					want := 1.0
					if s.ProviderID == ids[1] {
						want = 0.75
					}
					if s.Total.Checks != 180 || math.Abs(s.Total.Availability-want) > 1e-9 || s.Name == "" {
						t.Fatalf("%s %s: %+v", res, s.Name, s.Total)
					}
					if s.Total.LatencyP50 < 140 || s.Total.LatencyP50 > 160 || s.Total.LatencyP95 < 185 || s.Total.LatencyP95 > 205 {
						t.Fatalf("%s %s: latency %+v", res, s.Name, s.Total)
					}
				}
				wantPoints := map[switchyard.Resolution]int{switchyard.ResolutionMinute: 180, switchyard.ResolutionHour: 3, switchyard.ResolutionDay: 1}[res]
				if got := len(rep.Series[0].Points); got != wantPoints {
					t.Fatalf("%s: %d points, want %d", res, got, wantPoints)
				}
			}
			one, err := rd.Health(ctx, switchyard.HealthQuery{From: start, To: rollupNow, Resolution: switchyard.ResolutionHour, ProviderID: ids[1]})
			if err != nil || len(one.Series) != 1 || one.Series[0].Points[0].Availability != 0.75 {
				t.Fatalf("one provider: %+v, %v", one, err)
			}
			// Three days later the minutes are gone (retention 2 days), the
			// hours stay.
			now = now.Add(72 * time.Hour)
			if _, err := roller.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			n := 0
			if err := db.ListHealthRollups(ctx, switchyard.ResolutionMinute, "", start, rollupNow, func(*switchyard.HealthRollup) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			h := 0
			if err := db.ListHealthRollups(ctx, switchyard.ResolutionHour, "", start, rollupNow, func(*switchyard.HealthRollup) error { h++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != 0 || h != 6 {
				t.Fatalf("after retention: %d minute rows, %d hour rows", n, h)
			}
		})
	}
}
