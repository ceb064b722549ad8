package analytics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

var ctx = context.Background()

// rollupNow is the clock of the rollup tests: the events run from 20:00
// the day before to a few minutes ago, across midnight.
var rollupNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// seedEvents stores n events spread over the 16 hours before rollupNow
// and returns them.
func seedEvents(t *testing.T, db *sqlstore.DB, n int) []switchyard.UsageEvent {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 9))
	start := rollupNow.Add(-16 * time.Hour)
	events := make([]switchyard.UsageEvent, n)
	for i := range events {
		status, class := switchyard.UsageOK, ""
		switch rng.IntN(20) {
		case 0:
			status, class = switchyard.UsageError, "rate_limited"
		case 1:
			status, class = switchyard.UsageError, "upstream_error"
		case 2:
			status = switchyard.UsageCancelled
		}
		p := rng.IntN(3)
		e := switchyard.UsageEvent{
			At:           start.Add(time.Duration(rng.Int64N(int64(16*time.Hour - 5*time.Minute)))),
			ConnectionID: fmt.Sprintf("conn-%d", rng.IntN(4)), ProviderID: fmt.Sprintf("prov-%d", p),
			ModelID: fmt.Sprintf("model-%d-%d", p, rng.IntN(2)), Status: status, ErrorClass: class,
			InputTokens: rng.IntN(2000), OutputTokens: rng.IntN(500), CachedInputTokens: rng.IntN(10),
			LatencyMS: int64(math.Exp(rng.NormFloat64()*0.8 + 5.5 + float64(p)*0.5)), CostUSD: float64(rng.IntN(1000)) / 1e5,
		}
		e.UserID = "user-of-" + e.ConnectionID
		if rng.IntN(2) == 0 && status == switchyard.UsageOK {
			e.TTFTMS = e.LatencyMS / 4
		}
		events[i] = e
	}
	for off := 0; off < len(events); off += 500 {
		if err := db.AppendUsage(ctx, events[off:min(off+500, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
	return events
}

type totals struct {
	requests, errors, cancelled, in, out, ttftCount int64
	cost                                            float64
	classes                                         map[string]int64
}

func rawTotals(events []switchyard.UsageEvent) totals {
	out := totals{classes: map[string]int64{}}
	for _, e := range events {
		out.requests++
		out.in += int64(e.InputTokens)
		out.out += int64(e.OutputTokens)
		out.cost += e.CostUSD
		switch e.Status {
		case switchyard.UsageError:
			out.errors++
			out.classes[e.ErrorClass]++
		case switchyard.UsageCancelled:
			out.cancelled++
		default:
			if e.TTFTMS > 0 {
				out.ttftCount++
			}
		}
	}
	return out
}

func rollupTotals(rows []switchyard.UsageRollup) totals {
	out := totals{classes: map[string]int64{}}
	for _, r := range rows {
		out.requests += r.Requests
		out.errors += r.Errors
		out.cancelled += r.Cancelled
		out.in += r.InputTokens
		out.out += r.OutputTokens
		out.cost += r.CostUSD
		out.ttftCount += r.TTFTCount
		for c, n := range r.ErrorClasses {
			out.classes[c] += n
		}
	}
	return out
}

func sameTotals(a, b totals) bool {
	if a.requests != b.requests || a.errors != b.errors || a.cancelled != b.cancelled || a.in != b.in ||
		a.out != b.out || a.ttftCount != b.ttftCount || math.Abs(a.cost-b.cost) > 1e-9 || len(a.classes) != len(b.classes) {
		return false
	}
	for c, n := range a.classes {
		if b.classes[c] != n {
			return false
		}
	}
	return true
}

// allRollups reads every rollup of res (of the kind given, detail by
// default), in a stable order.
func allRollups(t *testing.T, db *sqlstore.DB, res switchyard.Resolution, kind ...switchyard.RollupKind) []switchyard.UsageRollup {
	t.Helper()
	var out []switchyard.UsageRollup
	f := switchyard.RollupFilter{Resolution: res}
	if len(kind) > 0 {
		f.Kind = kind[0]
	}
	err := db.ListRollups(ctx, f, func(r *switchyard.UsageRollup) error {
		c := *r
		c.Latency, c.TTFT = slices.Clone(r.Latency), slices.Clone(r.TTFT)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return fmt.Sprint(a.Bucket.Unix(), a.ProviderID, a.ModelID, a.ConnectionID) < fmt.Sprint(b.Bucket.Unix(), b.ProviderID, b.ModelID, b.ConnectionID)
	})
	return out
}

// allKinds reads the rollups of res of every kind.
func allKinds(t *testing.T, db *sqlstore.DB, res switchyard.Resolution) []switchyard.UsageRollup {
	t.Helper()
	return append(append(allRollups(t, db, res), allRollups(t, db, res, switchyard.RollupModelTotals)...),
		allRollups(t, db, res, switchyard.RollupConnectionTotals)...)
}

func newRoller(t *testing.T, db *sqlstore.DB, now time.Time, ret analytics.Retention) *analytics.Roller {
	t.Helper()
	// Settle is a nanosecond: the tests write events, then run at once.
	r, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Retention: ret, Settle: time.Nanosecond,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func forEachBackend(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.Open(t))
		})
	}
}

func TestRollupsKeepTotalsAndPercentiles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		events := seedEvents(t, db, 3000)
		res, err := newRoller(t, db, rollupNow, analytics.Retention{}).RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != len(events) || res.PrunedRaw != 0 {
			t.Fatalf("run = %+v, want %d events read and none pruned", res, len(events))
		}
		// Raw events → minutes → hours → days: the same totals.
		want := rawTotals(events)
		for _, r := range switchyard.Resolutions {
			rows := allRollups(t, db, r)
			if got := rollupTotals(rows); !sameTotals(got, want) {
				t.Errorf("%s rollups total %+v, raw events %+v", r, got, want)
			}
			// The totals of each model over every connection, and of each
			// connection over every model, sum the same.
			all := switchyard.RollupAll
			models := allRollups(t, db, r, switchyard.RollupModelTotals)
			if got := rollupTotals(models); !sameTotals(got, want) || len(models) >= len(rows) {
				t.Errorf("%s model totals %+v (%d rows, %d in detail), raw events %+v", r, got, len(models), len(rows), want)
			}
			for _, tr := range models {
				if tr.ConnectionID != all || tr.UserID != all || tr.ProviderID == all || tr.ModelID == all {
					t.Fatalf("a model total names a connection: %+v", tr)
				}
			}
			conns := allRollups(t, db, r, switchyard.RollupConnectionTotals)
			if got := rollupTotals(conns); !sameTotals(got, want) || len(conns) >= len(rows) {
				t.Errorf("%s connection totals %+v (%d rows, %d in detail), raw events %+v", r, got, len(conns), len(rows), want)
			}
			for _, tr := range conns {
				if tr.ProviderID != all || tr.ModelID != all || tr.ConnectionID == all || tr.UserID == all {
					t.Fatalf("a connection total names a model: %+v", tr)
				}
			}
		}
		days := allRollups(t, db, switchyard.ResolutionDay)
		if d := days[0].Bucket; !d.Equal(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)) || !days[len(days)-1].Bucket.Equal(d.Add(24*time.Hour)) {
			t.Fatalf("day buckets from %v to %v", d, days[len(days)-1].Bucket)
		}

		// A day's percentiles per provider, from merged histograms, are
		// within the bucket error of the exact ones over the raw events.
		rd := analytics.NewReader(analytics.ReaderConfig{Store: db, Now: func() time.Time { return rollupNow }})
		rep, err := rd.Usage(ctx, switchyard.UsageQuery{From: rollupNow.Add(-48 * time.Hour), To: rollupNow,
			Resolution: switchyard.ResolutionDay, GroupBy: switchyard.GroupByProvider})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Series) != 3 {
			t.Fatalf("%d series", len(rep.Series))
		}
		for _, s := range rep.Series {
			var lat, ttft []int64
			var n, errs int64
			for _, e := range events {
				if e.ProviderID != s.Key {
					continue
				}
				n++
				if e.Status == switchyard.UsageError {
					errs++
				}
				if e.Status == switchyard.UsageOK {
					lat = append(lat, e.LatencyMS)
					if e.TTFTMS > 0 {
						ttft = append(ttft, e.TTFTMS)
					}
				}
			}
			slices.Sort(lat)
			slices.Sort(ttft)
			tot := s.Total
			if tot.Requests != n || tot.Errors != errs || math.Abs(tot.ErrorRate-float64(errs)/float64(n)) > 1e-12 {
				t.Errorf("%s: %d requests, %d errors, rate %v; raw %d, %d", s.Key, tot.Requests, tot.Errors, tot.ErrorRate, n, errs)
			}
			for _, c := range []struct {
				name string
				got  float64
				vals []int64
				q    float64
			}{{"p50", tot.LatencyP50, lat, 0.5}, {"p95", tot.LatencyP95, lat, 0.95}, {"p99", tot.LatencyP99, lat, 0.99}, {"ttft p50", tot.TTFTP50, ttft, 0.5}} {
				if exact := exactQuantile(c.vals, c.q); math.Abs(c.got-exact) > exact*analytics.HistogramError+0.05 {
					t.Errorf("%s %s = %.1f, exact %.0f", s.Key, c.name, c.got, exact)
				}
			}
		}
	})
}

// Each series of a report has one point per bucket with requests, oldest
// first, holding that bucket's requests of that group and nothing else.
func TestUsageReportPoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		events := seedEvents(t, db, 3000)
		if _, err := newRoller(t, db, rollupNow, analytics.Retention{}).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		rd := analytics.NewReader(analytics.ReaderConfig{Store: db, Now: func() time.Time { return rollupNow }})
		for _, g := range []string{switchyard.GroupByConnection, switchyard.GroupByModel} {
			rep, err := rd.Usage(ctx, switchyard.UsageQuery{From: rollupNow.Add(-24 * time.Hour), To: rollupNow,
				Resolution: switchyard.ResolutionHour, GroupBy: g})
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				series string
				hour   time.Time
			}
			want := map[key]*totals{}
			for _, e := range events {
				k := key{e.ConnectionID, e.At.Truncate(time.Hour)}
				if g == switchyard.GroupByModel {
					k.series = e.ModelID
				}
				if want[k] == nil {
					want[k] = &totals{}
				}
				want[k].requests++
				want[k].cost += e.CostUSD
				if e.Status == switchyard.UsageError {
					want[k].errors++
				}
			}
			points := 0
			for _, s := range rep.Series {
				for i, p := range s.Points {
					w := want[key{s.Key, p.At}]
					if w == nil || p.Requests != w.requests || p.Errors != w.errors || math.Abs(p.CostUSD-w.cost) > 1e-9 {
						t.Fatalf("%s %s at %s: %+v; want %+v", g, s.Key, p.At, p.UsageStats, w)
					}
					if i > 0 && !s.Points[i-1].At.Before(p.At) {
						t.Fatalf("%s %s: point at %s after %s", g, s.Key, p.At, s.Points[i-1].At)
					}
					points++
				}
			}
			if points != len(want) {
				t.Fatalf("%s: %d points; want %d", g, points, len(want))
			}
		}
	})
}

func TestRollupRunTwiceChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		seedEvents(t, db, 1000)
		r := newRoller(t, db, rollupNow, analytics.Retention{})
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		before := map[switchyard.Resolution][]switchyard.UsageRollup{}
		for _, res := range switchyard.Resolutions {
			before[res] = allKinds(t, db, res)
		}
		// Again, and from a second roller (another replica) at a later
		// minute: the rebuilt overlap gives the same rows.
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := newRoller(t, db, rollupNow.Add(3*time.Minute), analytics.Retention{}).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		for _, res := range switchyard.Resolutions {
			after := allKinds(t, db, res)
			if len(after) != len(before[res]) {
				t.Fatalf("%s: %d rows, then %d", res, len(before[res]), len(after))
			}
			for i := range after {
				a, b := after[i], before[res][i]
				if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
					t.Fatalf("%s row %d changed:\n%+v\n%+v", res, i, b, a)
				}
			}
		}
	})
}

func TestRollupLateEventsAndPruning(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		events := seedEvents(t, db, 500)
		if _, err := newRoller(t, db, rollupNow, analytics.Retention{}).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		// An event written late, within the overlap, is counted next run.
		late := switchyard.UsageEvent{At: rollupNow.Add(-3 * time.Minute), Status: switchyard.UsageOK, ProviderID: "prov-0",
			ConnectionID: "conn-0", InputTokens: 10, LatencyMS: 100}
		if err := db.AppendUsage(ctx, []switchyard.UsageEvent{late}); err != nil {
			t.Fatal(err)
		}
		events = append(events, late)
		if _, err := newRoller(t, db, rollupNow.Add(time.Minute), analytics.Retention{}).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		want := rawTotals(events)
		for _, res := range switchyard.Resolutions {
			if got := rollupTotals(allRollups(t, db, res)); !sameTotals(got, want) {
				t.Fatalf("%s totals %+v after a late event, want %+v", res, got, want)
			}
		}

		// An event written hours after its minute was built (a very long
		// stream) is counted too, and the run reads only what was written
		// since the last one.
		veryLate := late
		veryLate.At = rollupNow.Add(-2 * time.Hour)
		if err := db.AppendUsage(ctx, []switchyard.UsageEvent{veryLate}); err != nil {
			t.Fatal(err)
		}
		events = append(events, veryLate)
		res, err := newRoller(t, db, rollupNow.Add(2*time.Minute), analytics.Retention{}).RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events > 50 {
			t.Fatalf("a run after one late event read %d events", res.Events)
		}
		want = rawTotals(events)
		for _, res := range switchyard.Resolutions {
			if got := rollupTotals(allRollups(t, db, res)); !sameTotals(got, want) {
				t.Fatalf("%s totals %+v after an event two hours late, want %+v", res, got, want)
			}
		}

		// Ten days on, with the shortest retention: raw events, minutes and
		// hours are gone; the days keep every total.
		later := rollupNow.Add(10 * 24 * time.Hour)
		short := analytics.MinRetention
		short.Day = analytics.DefaultRetention.Day
		res, err = newRoller(t, db, later, short).RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.PrunedRaw != int64(len(events)) || res.PrunedRollups == 0 {
			t.Fatalf("run = %+v", res)
		}
		if page, err := db.ListUsage(ctx, switchyard.UsageFilter{}); err != nil || len(page.Items) != 0 {
			t.Fatalf("raw events left: %d, %v", len(page.Items), err)
		}
		for _, r := range []switchyard.Resolution{switchyard.ResolutionMinute, switchyard.ResolutionHour} {
			if rows := allKinds(t, db, r); len(rows) != 0 {
				t.Fatalf("%d %s rollups left", len(rows), r)
			}
		}
		if got := rollupTotals(allRollups(t, db, switchyard.ResolutionDay)); !sameTotals(got, want) {
			t.Fatalf("day totals after pruning %+v, want %+v", got, want)
		}
	})
}

// A first run over history older than the minutes' retention builds those
// hours straight from raw events, without minute rollups it would prune at
// once, and the hours and days are the very rows built through minutes.
func TestRollupCatchUpPastMinuteRetention(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			steady, behind := b.Open(t), b.Open(t)
			seedEvents(t, steady, 2000)
			seedEvents(t, behind, 2000)
			if _, err := newRoller(t, steady, rollupNow, analytics.Retention{}).RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			// 40 hours later: the first 8 of the 16 hours of events are
			// past the 48 hours that minute rollups are kept.
			later := rollupNow.Add(40 * time.Hour)
			res, err := newRoller(t, behind, later, analytics.Retention{}).RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Events != 2000 || res.PrunedRollups != 0 {
				t.Fatalf("run = %+v; want 2000 events read and no minute rollups built only to be pruned", res)
			}
			minutesFrom := later.Add(-analytics.DefaultRetention.Minute)
			minutes := allKinds(t, behind, switchyard.ResolutionMinute)
			if len(minutes) == 0 {
				t.Fatal("no minute rollups for the hours still within their retention")
			}
			for _, m := range minutes {
				if m.Bucket.Before(minutesFrom) {
					t.Fatalf("a minute rollup at %s, past the retention (%s)", m.Bucket, minutesFrom)
				}
			}
			for _, r := range []switchyard.Resolution{switchyard.ResolutionHour, switchyard.ResolutionDay} {
				want, got := allKinds(t, steady, r), allKinds(t, behind, r)
				if len(got) != len(want) {
					t.Fatalf("%s: %d rows, %d built through minutes", r, len(got), len(want))
				}
				for i := range got {
					if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want[i]) {
						t.Fatalf("%s row %d:\n%+v\nbuilt through minutes:\n%+v", r, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// An event that arrives for an hour whose minute rollups the retention has
// already dropped is counted in that hour without losing the rest of it.
func TestRollupLateEventPastMinuteRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		events := seedEvents(t, db, 2000)
		short := analytics.DefaultRetention
		short.Minute = analytics.MinRetention.Minute
		if _, err := newRoller(t, db, rollupNow, short).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		late := switchyard.UsageEvent{At: rollupNow.Add(-10*time.Hour + 30*time.Second), Status: switchyard.UsageOK,
			ProviderID: "prov-1", ModelID: "model-1-0", ConnectionID: "conn-2", InputTokens: 10, LatencyMS: 100}
		if err := db.AppendUsage(ctx, []switchyard.UsageEvent{late}); err != nil {
			t.Fatal(err)
		}
		events = append(events, late)
		if _, err := newRoller(t, db, rollupNow.Add(time.Minute), short).RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		want := rawTotals(events)
		for _, res := range []switchyard.Resolution{switchyard.ResolutionHour, switchyard.ResolutionDay} {
			for _, kind := range []switchyard.RollupKind{switchyard.RollupDetail, switchyard.RollupModelTotals, switchyard.RollupConnectionTotals} {
				if got := rollupTotals(allRollups(t, db, res, kind)); !sameTotals(got, want) {
					t.Errorf("%s totals of kind %d %+v, want %+v", res, kind, got, want)
				}
			}
		}
	})
}

func TestRollupRetentionMinimums(t *testing.T) {
	short := analytics.DefaultRetention
	short.Minute = time.Hour
	if _, err := analytics.NewRoller(analytics.RollerConfig{Store: nil}); err == nil {
		t.Fatal("a roller without a store")
	}
	_, err := analytics.NewRoller(analytics.RollerConfig{Store: storetest.SQLite().Open(t), Retention: short})
	if err == nil {
		t.Fatal("minute retention of 1h accepted; the hour in progress is rebuilt from its minutes")
	}
}

func TestRawEventsOfTheMonthKept(t *testing.T) {
	db := storetest.SQLite().Open(t)
	// Budgets are summed from this month's raw events: a week's retention
	// does not take the start of the month away.
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	old := switchyard.UsageEvent{At: time.Date(2026, 10, 30, 9, 0, 0, 0, time.UTC), ConnectionID: "c", Status: switchyard.UsageOK, CostUSD: 1}
	month := switchyard.UsageEvent{At: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), ConnectionID: "c", Status: switchyard.UsageOK, CostUSD: 2}
	if err := db.AppendUsage(ctx, []switchyard.UsageEvent{old, month}); err != nil {
		t.Fatal(err)
	}
	ret := analytics.DefaultRetention
	ret.Raw = 7 * 24 * time.Hour
	res, err := newRoller(t, db, now, ret).RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.PrunedRaw != 1 {
		t.Fatalf("pruned %d raw events, want the one of October", res.PrunedRaw)
	}
	spent, err := db.ConnectionSpend(ctx, []string{"c"}, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || spent["c"] != 2 {
		t.Fatalf("spent this month = %v, %v", spent, err)
	}
}

func TestRollupsFromTwoReplicasAtOnce(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			one, two := b.OpenPair(t)
			events := seedEvents(t, one, 1500)
			// Two replicas run the job at the same moment, several times:
			// no error, and every total counted once.
			errs := make(chan error, 2)
			for _, db := range []*sqlstore.DB{one, two} {
				go func() {
					r, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Now: func() time.Time { return rollupNow }})
					for range 3 {
						if err == nil {
							_, err = r.RunOnce(ctx)
						}
					}
					errs <- err
				}()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			want := rawTotals(events)
			for _, res := range switchyard.Resolutions {
				if got := rollupTotals(allRollups(t, two, res)); !sameTotals(got, want) {
					t.Fatalf("%s totals %+v, want %+v", res, got, want)
				}
				for _, kind := range []switchyard.RollupKind{switchyard.RollupModelTotals, switchyard.RollupConnectionTotals} {
					if got := rollupTotals(allRollups(t, one, res, kind)); !sameTotals(got, want) {
						t.Fatalf("%s totals of kind %d %+v, want %+v", res, kind, got, want)
					}
				}
			}
		})
	}
}

func TestRollupRunsOnlyOnTheLeader(t *testing.T) {
	db := storetest.SQLite().Open(t)
	seedEvents(t, db, 200)
	var lead atomic.Bool
	r, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Every: 20 * time.Millisecond, Settle: time.Nanosecond,
		Now: func() time.Time { return rollupNow }, Leader: lead.Load})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	watermark := func() time.Time {
		t.Helper()
		m, err := db.RollupWatermark(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// A follower builds nothing, however many runs come round.
	time.Sleep(150 * time.Millisecond)
	if m := watermark(); !m.IsZero() {
		t.Fatalf("a follower built rollups up to %s", m)
	}
	// Once it leads, it builds them.
	lead.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for watermark().IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("the leader built no rollups")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rows := allKinds(t, db, switchyard.ResolutionMinute); len(rows) == 0 {
		t.Fatal("the leader's run left no minute rollups")
	}
}
