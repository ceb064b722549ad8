package analytics_test

import (
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// The usage analytics at scale, end to end, on each backend (PostgreSQL
// when SWITCHYARD_TEST_POSTGRES_URL is set). Both tests are skipped unless
// their variable is set, so they never run in "make test"; the commands
// and the numbers are in docs/benchmarks.md, "Usage analytics".
const (
	// scaleEventsEnv is how many raw events TestUsageAtScale generates
	// (10000000 for the fixture).
	scaleEventsEnv = "SWITCHYARD_BENCH_USAGE_EVENTS"
	// scaleBatchEnv is how many events one AppendUsage call writes
	// (default 2,000).
	scaleBatchEnv = "SWITCHYARD_BENCH_USAGE_BATCH"
	// keepUpEnv is how long TestRollupKeepsUp records events (a Go
	// duration such as 4m), and keepUpRateEnv how many a second (default
	// 5,000).
	keepUpEnv     = "SWITCHYARD_BENCH_USAGE_KEEPUP"
	keepUpRateEnv = "SWITCHYARD_BENCH_USAGE_RPS"
)

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// TestUsageAtScale generates a month of raw usage events (30 days ending
// at the last midnight, UTC) and writes them through AppendUsage in time
// order, rolls the whole month up with one run of the real Roller, and
// times Reader.Usage over the month: the median of several runs of each
// query, after checking that the answer adds up to what was generated.
//
//	SWITCHYARD_BENCH_USAGE_EVENTS=10000000 go test ./analytics -run TestUsageAtScale -v -timeout 2h
func TestUsageAtScale(t *testing.T) {
	if os.Getenv(scaleEventsEnv) == "" {
		t.Skipf("%s is not set; the usage fixture is not generated", scaleEventsEnv)
	}
	n := envInt(t, scaleEventsEnv, 0)
	batch := envInt(t, scaleBatchEnv, 2000)
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			db := be.Open(t)
			end := switchyard.ResolutionDay.Floor(time.Now())
			start := end.AddDate(0, 0, -30)
			fx := newUsageFixture(1)
			// SQLite takes one writer at a time; on PostgreSQL two write at
			// once, as two replicas' recorders would.
			writers := 1
			if be.Name == "postgres" {
				writers = 2
			}
			writeFixture(t, db, fx, n, start, batch, writers)
			// As on a live database, the newest writes have settled by the
			// time the job looks at them.
			time.Sleep(analytics.DefaultRollupSettle + time.Second)
			rollUpFixture(t, db, n, end)
			queryFixture(t, db, fx, start, end)
		})
	}
}

// writeFixture generates the events in one goroutine and writes them in
// another, batch by batch, logging every million.
func writeFixture(t *testing.T, db *sqlstore.DB, fx *usageFixture, n int, start time.Time, size, writers int) {
	t.Helper()
	ctx := context.Background()
	full := make(chan []switchyard.UsageEvent, 4)
	free := make(chan []switchyard.UsageEvent, 4+2*writers)
	for range cap(free) {
		free <- make([]switchyard.UsageEvent, 0, size)
	}
	var genErr error
	go func() {
		defer close(full)
		genErr = fx.generate(n, start, 30, size, func(b []switchyard.UsageEvent) error {
			buf := append((<-free)[:0], b...)
			full <- buf
			return nil
		})
	}()
	began := time.Now()
	every := max(n/10, 1)
	if n >= 5_000_000 {
		every = 1_000_000
	}
	var written atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for b := range full {
				if err := db.AppendUsage(ctx, b); err != nil {
					errs <- err
					for b := range full { // let the generator finish
						free <- b
					}
					return
				}
				k := int64(len(b))
				clear(b)
				free <- b
				if w := written.Add(k); w/int64(every) != (w-k)/int64(every) || w == int64(n) {
					el := time.Since(began)
					t.Logf("wrote %d of %d events in %s (%.0f events/s)", w, n, el.Round(time.Second), float64(w)/el.Seconds())
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("append usage: %v", err)
	}
	if genErr != nil {
		t.Fatal(genErr)
	}
	if w := written.Load(); w != int64(n) || fx.total.requests != int64(n) {
		t.Fatalf("wrote %d events, generated %d; want %d", w, fx.total.requests, n)
	}
	el := time.Since(began)
	t.Logf("RESULT write: %d events in %s, %.0f events/s (batches of %d through AppendUsage, %d at a time)",
		n, el.Round(time.Second), float64(n)/el.Seconds(), size, writers)
}

// rollUpFixture runs the Roller once over the whole month, as a replica
// starting on a database of raw events would, then once more to show it
// has caught up; it logs the watermark while the first run works.
func rollUpFixture(t *testing.T, db *sqlstore.DB, n int, end time.Time) {
	t.Helper()
	ctx := context.Background()
	now := end.Add(2 * time.Minute)
	// Raw events are kept long enough for the month to be rolled up from
	// them; the rollups keep their default retention.
	ret := analytics.DefaultRetention
	ret.Raw = 31 * 24 * time.Hour
	r, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Retention: ret, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if m, err := db.RollupWatermark(ctx); err == nil && !m.IsZero() {
					t.Logf("rolled up to %s (%.1f of 30 days)", m.Format(time.RFC3339), 30-end.Sub(m).Hours()/24)
				}
			}
		}
	}()
	began := time.Now()
	res, err := r.RunOnce(ctx)
	el := time.Since(began)
	close(done)
	if err != nil {
		t.Fatalf("rollup: %v", err)
	}
	if res.Events != n {
		t.Fatalf("the rollup read %d events; want %d", res.Events, n)
	}
	t.Logf("RESULT rollup: %d events, %d minutes in %s, %.0f events/s; %d rollups pruned",
		res.Events, res.Minutes, el.Round(time.Second), float64(n)/el.Seconds(), res.PrunedRollups)
	began = time.Now()
	res, err = r.RunOnce(ctx)
	if err != nil {
		t.Fatalf("second rollup: %v", err)
	}
	t.Logf("RESULT rollup again (caught up): %d events, %d minutes in %s", res.Events, res.Minutes, time.Since(began).Round(time.Millisecond))
	rows, err := db.SQL().QueryContext(ctx, "SELECT resolution, COUNT(*) FROM usage_rollups GROUP BY resolution ORDER BY resolution")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var res string
		var k int64
		if err := rows.Scan(&res, &k); err != nil {
			t.Fatal(err)
		}
		t.Logf("RESULT rollup rows: %s %d", res, k)
	}
	logSize(t, db)
}

// logSize logs how much room the usage history takes.
func logSize(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	var q string
	switch db.Dialect() {
	case "sqlite":
		q = `SELECT 'database file', page_count * page_size FROM pragma_page_count(), pragma_page_size()`
	default:
		q = `SELECT relname, pg_total_relation_size(oid) FROM pg_class
			WHERE relname IN ('usage_events', 'usage_rollups') AND relnamespace = current_schema()::regnamespace`
	}
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var what string
		var size int64
		if err := rows.Scan(&what, &size); err != nil {
			t.Fatal(err)
		}
		t.Logf("RESULT size: %s %.1f GiB", what, float64(size)/(1<<30))
	}
}

type fixtureQuery struct {
	name string
	q    switchyard.UsageQuery
	// want is what the answer's series must add up to, by key.
	want map[string]*tally
}

// queryFixture times each report over the month and checks its answer.
func queryFixture(t *testing.T, db *sqlstore.DB, fx *usageFixture, start, end time.Time) {
	t.Helper()
	ctx := context.Background()
	rd := analytics.NewReader(analytics.ReaderConfig{Store: db, Now: func() time.Time { return end.Add(2 * time.Minute) }})
	total := map[string]*tally{"": &fx.total}
	conn := fx.busiest(switchyard.GroupByConnection)
	user := fx.busiest(switchyard.GroupByUser)
	var queries []fixtureQuery
	for _, res := range []switchyard.Resolution{switchyard.ResolutionDay, switchyard.ResolutionHour} {
		queries = append(queries, fixtureQuery{string(res), switchyard.UsageQuery{Resolution: res}, total})
		for _, g := range switchyard.UsageGroupings {
			queries = append(queries, fixtureQuery{string(res) + " per " + g, switchyard.UsageQuery{Resolution: res, GroupBy: g}, fx.byKey[g]})
		}
		queries = append(queries,
			fixtureQuery{string(res) + ", one connection", switchyard.UsageQuery{Resolution: res, ConnectionID: conn},
				map[string]*tally{"": fx.byKey[switchyard.GroupByConnection][conn]}},
			fixtureQuery{string(res) + ", one user's connections, per connection",
				switchyard.UsageQuery{Resolution: res, ConnectionIDs: fx.connectionsOf(user), GroupBy: switchyard.GroupByConnection},
				pick(fx.byKey[switchyard.GroupByConnection], fx.connectionsOf(user))})
	}
	queries = append(queries, fixtureQuery{"day, one connection, per model",
		switchyard.UsageQuery{Resolution: switchyard.ResolutionDay, ConnectionID: conn, GroupBy: switchyard.GroupByModel}, nil})
	const runs = 7
	for _, fq := range queries {
		q := fq.q
		q.From, q.To = start, end
		rep, err := rd.Usage(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", fq.name, err)
		}
		if fq.want != nil {
			checkReport(t, fq.name, rep, fq.want)
		} else {
			checkSum(t, fq.name, rep, fx.byKey[switchyard.GroupByConnection][conn])
		}
		points := 0
		for _, s := range rep.Series {
			points += len(s.Points)
		}
		times, cpu := make([]time.Duration, runs), make([]time.Duration, runs)
		for i := range times {
			began, cpuBefore := time.Now(), processCPU(t)
			if _, err := rd.Usage(ctx, q); err != nil {
				t.Fatal(err)
			}
			times[i], cpu[i] = time.Since(began), processCPU(t)-cpuBefore
		}
		slices.Sort(times)
		slices.Sort(cpu)
		t.Logf("RESULT query %-45s median %6.1f ms (%.1f–%.1f), CPU %6.1f ms, %d series, %d points",
			fq.name, ms(times[runs/2]), ms(times[0]), ms(times[runs-1]), ms(cpu[runs/2]), len(rep.Series), points)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pick(m map[string]*tally, keys []string) map[string]*tally {
	out := map[string]*tally{}
	for _, k := range keys {
		if m[k] != nil {
			out[k] = m[k]
		}
	}
	return out
}

// checkReport checks that rep has one series per key of want, each adding
// up to it.
func checkReport(t *testing.T, name string, rep *switchyard.UsageReport, want map[string]*tally) {
	t.Helper()
	if len(rep.Series) != len(want) {
		t.Errorf("%s: %d series; want %d", name, len(rep.Series), len(want))
	}
	for _, s := range rep.Series {
		w := want[s.Key]
		if w == nil {
			t.Errorf("%s: series %q was not generated", name, s.Key)
			continue
		}
		checkStats(t, name+" "+s.Key, s.Total, w)
	}
}

// checkSum checks that the series of rep add up to want.
func checkSum(t *testing.T, name string, rep *switchyard.UsageReport, want *tally) {
	t.Helper()
	var got switchyard.UsageStats
	for _, s := range rep.Series {
		got.Requests += s.Total.Requests
		got.Errors += s.Total.Errors
		got.Cancelled += s.Total.Cancelled
		got.InputTokens += s.Total.InputTokens
		got.OutputTokens += s.Total.OutputTokens
		got.CostUSD += s.Total.CostUSD
	}
	checkStats(t, name, got, want)
}

func checkStats(t *testing.T, name string, got switchyard.UsageStats, want *tally) {
	t.Helper()
	if got.Requests != want.requests || got.Errors != want.errors || got.Cancelled != want.cancelled ||
		got.InputTokens != want.inputTokens || got.OutputTokens != want.outputTokens {
		t.Errorf("%s: requests %d, errors %d, cancelled %d, tokens %d/%d; want %d, %d, %d, %d/%d", name,
			got.Requests, got.Errors, got.Cancelled, got.InputTokens, got.OutputTokens,
			want.requests, want.errors, want.cancelled, want.inputTokens, want.outputTokens)
	}
	// The rollups sum whole nanodollars; the report adds up their floats.
	if w := want.costUSD(); math.Abs(got.CostUSD-w) > 1e-6+1e-12*w {
		t.Errorf("%s: cost %.9f; want %.9f", name, got.CostUSD, w)
	}
}

// TestRollupKeepsUp records usage events at 5,000 a second (or
// SWITCHYARD_BENCH_USAGE_RPS) in real time, through the real Recorder
// configured as "switchyard serve" configures it, for
// SWITCHYARD_BENCH_USAGE_KEEPUP, while the Roller runs on its default
// schedule (a minute after each run ends, the last minute left for late
// writes). It
// reports each run's duration and the lag between the newest event and
// the rollup watermark, fails when a run takes longer than its interval,
// and checks at the end that the rollups hold every event written.
//
//	SWITCHYARD_BENCH_USAGE_KEEPUP=4m go test ./analytics -run TestRollupKeepsUp -v -timeout 1h
func TestRollupKeepsUp(t *testing.T) {
	if os.Getenv(keepUpEnv) == "" {
		t.Skipf("%s is not set; the rollup keep-up run is skipped", keepUpEnv)
	}
	span, err := time.ParseDuration(os.Getenv(keepUpEnv))
	if err != nil || span <= 0 {
		t.Fatalf("%s=%q: want a duration such as 4m", keepUpEnv, os.Getenv(keepUpEnv))
	}
	rate := envInt(t, keepUpRateEnv, 5000)
	for _, be := range storetest.Backends() {
		t.Run(be.Name, func(t *testing.T) { keepUp(t, be.Open(t), rate, span) })
	}
}

func lagText(d time.Duration) string {
	if d < 0 {
		return "none (nothing rolled up yet)"
	}
	return d.Round(time.Second).String()
}

type rollupRun struct {
	at       time.Duration
	took     time.Duration
	events   int
	minutes  int
	lagAfter time.Duration
}

func keepUp(t *testing.T, db *sqlstore.DB, rate int, span time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// As cmd/switchyard/serve.go sets it up.
	rec := analytics.NewRecorder(analytics.RecorderConfig{Store: db, BatchSize: 100, FlushEvery: 250 * time.Millisecond})
	recDone := make(chan struct{})
	go func() { defer close(recDone); rec.Run(ctx) }()
	r, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Health: db})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var newest atomic.Int64 // unix nanoseconds of the newest event's time
	// lag is how far the rollups trail the newest event.
	lag := func() time.Duration {
		m, err := db.RollupWatermark(ctx)
		if err != nil || m.IsZero() {
			return -1
		}
		return time.Unix(0, newest.Load()).Sub(m)
	}

	// The Roller, as Run runs it (a run at once, then the next
	// DefaultRollupEvery after each ends), timed.
	var mu sync.Mutex
	var runs []rollupRun
	rollCtx, stopRolling := context.WithCancel(ctx)
	rollDone := make(chan struct{})
	go func() {
		defer close(rollDone)
		next := time.NewTimer(0)
		defer next.Stop()
		for {
			select {
			case <-rollCtx.Done():
				return
			case <-next.C:
			}
			at := time.Since(began)
			res, err := r.RunOnce(rollCtx)
			took := time.Since(began) - at
			if err != nil {
				if rollCtx.Err() == nil {
					t.Errorf("rollup: %v", err)
				}
				return
			}
			run := rollupRun{at: at, took: took, events: res.Events, minutes: res.Minutes, lagAfter: lag()}
			mu.Lock()
			runs = append(runs, run)
			mu.Unlock()
			t.Logf("run at %6s: %6s, %7d events, %2d minutes; lag after %s", at.Round(time.Second),
				took.Round(time.Millisecond), run.events, run.minutes, lagText(run.lagAfter))
			next.Reset(analytics.DefaultRollupEvery)
		}
	}()

	// The traffic: every 5 ms, as many events as the rate owes by then.
	// Each event is timed at its request's start, as the gateway does
	// (its latency before now); one in 500 is a stream of one to two and
	// a half minutes, whose event lands in a minute already rolled up.
	fx := newUsageFixture(2)
	var maxLag time.Duration
	var lagSamples []time.Duration
	var maxQueued int
	var lastDropped uint64
	sent := 0
	tick := time.NewTicker(5 * time.Millisecond)
	sample := time.NewTicker(time.Second)
	for stop := began.Add(span); ; {
		var now time.Time
		select {
		case now = <-tick.C:
		case <-sample.C:
			if l := lag(); l >= 0 {
				lagSamples = append(lagSamples, l)
				maxLag = max(maxLag, l)
			}
			q, dropped := rec.Queued(), rec.Dropped()
			maxQueued = max(maxQueued, q)
			if q > analytics.DefaultQueueSize/5 || dropped > lastDropped {
				t.Logf("at %s: %d events queued, %d dropped so far", time.Since(began).Round(time.Second), q, dropped)
			}
			lastDropped = dropped
			continue
		}
		if now.After(stop) {
			break
		}
		owed := int(now.Sub(began).Seconds()*float64(rate)) - sent
		for range owed {
			e := fx.event(time.Time{})
			d := time.Duration(e.LatencyMS) * time.Millisecond
			if fx.rng.IntN(500) == 0 {
				d = time.Minute + time.Duration(fx.rng.Int64N(int64(90*time.Second)))
			}
			e.At = now.Add(-d)
			newest.Store(max(newest.Load(), e.At.UnixNano()))
			rec.Record(e)
		}
		sent += owed
	}
	tick.Stop()
	sample.Stop()
	stopRolling()
	<-rollDone
	cancel()
	<-recDone
	closeCtx, closeCancel := context.WithTimeout(context.Background(), time.Minute)
	defer closeCancel()
	if err := rec.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(began)
	t.Logf("RESULT traffic: %d events in %s (%.0f/s); written %d, dropped %d, failed %d; at most %d queued",
		sent, elapsed.Round(time.Second), float64(sent)/elapsed.Seconds(), rec.Written(), rec.Dropped(), rec.Failed(), maxQueued)
	if rec.Dropped() != 0 || rec.Failed() != 0 || rec.Written() != uint64(sent) {
		t.Errorf("written %d of %d events (dropped %d, failed %d)", rec.Written(), sent, rec.Dropped(), rec.Failed())
	}

	// Each run's duration against its interval, and the lag.
	var took []time.Duration
	var events int
	for i, run := range runs {
		if i == 0 {
			continue // the first run, at the start, found nothing to do yet
		}
		took = append(took, run.took)
		events += run.events
		if run.took >= analytics.DefaultRollupEvery {
			t.Errorf("the run at %s took %s, longer than its interval: the job falls behind", run.at, run.took)
		}
	}
	slices.Sort(took)
	slices.Sort(lagSamples)
	if len(took) > 0 {
		t.Logf("RESULT rollup runs: %d, duration median %s, max %s (interval %s); %.0f events a run on average",
			len(took), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond),
			analytics.DefaultRollupEvery, float64(events)/float64(len(took)))
	}
	if len(lagSamples) > 0 {
		t.Logf("RESULT lag (newest event − rollup watermark, every second once there is one): median %s, max %s",
			lagSamples[len(lagSamples)/2].Round(time.Second), maxLag.Round(time.Second))
	}
	// A run builds the minutes that ended DefaultRollupLag before it
	// starts, and the next comes DefaultRollupEvery later: the lag stays
	// under the lag, a minute (the one in progress), the interval and a
	// run's duration.
	bound := analytics.DefaultRollupLag + time.Minute + analytics.DefaultRollupEvery
	if len(took) > 0 {
		bound += took[len(took)-1]
	}
	if maxLag > bound {
		t.Errorf("the rollups trailed the newest event by %s; want at most %s", maxLag, bound)
	}

	// Once the late writes have settled, a last run builds the rest, and
	// the rollups hold every event written.
	time.Sleep(analytics.DefaultRollupSettle + time.Second)
	later := time.Now().Add(analytics.DefaultRollupLag + 2*time.Minute)
	final, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Now: func() time.Time { return later }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := final.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	rd := analytics.NewReader(analytics.ReaderConfig{Store: db, Now: func() time.Time { return later }})
	rep, err := rd.Usage(context.Background(), switchyard.UsageQuery{From: began.Add(-time.Hour), To: later, Resolution: switchyard.ResolutionMinute})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Dropped() == 0 {
		checkSum(t, "every minute", rep, &fx.total)
		return
	}
	// Which events were dropped is not known: only their number.
	var got int64
	for _, s := range rep.Series {
		got += s.Total.Requests
	}
	if got != int64(rec.Written()) {
		t.Errorf("the rollups hold %d requests; %d events were written", got, rec.Written())
	}
}
