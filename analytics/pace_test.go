package analytics_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/analytics"
	"github.com/switchyard/switchyard/sqlstore"
)

// rests counts the rests a paced job takes, and their length.
type rests struct {
	mu  sync.Mutex
	n   int
	len []time.Duration
}

func (r *rests) sleep(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.len = append(r.len, d)
}

func (r *rests) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func TestPacerRestsAfterEachStretchOfWork(t *testing.T) {
	clock := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var rs rests
	step, _ := analytics.NewTestPacer(analytics.Pace{Work: time.Millisecond, Rest: 70 * time.Microsecond}, now, rs.sleep)
	// 160 steps of 100 µs: 16 ms of work. The pacer looks at the clock
	// every 16 steps (1.6 ms), so it rests at each look after the first.
	for range 160 {
		step()
		clock = clock.Add(100 * time.Microsecond)
	}
	if rs.n != 9 {
		t.Fatalf("%d rests in 16 ms of work in 1 ms stretches looked at every 1.6 ms; want 9", rs.n)
	}
	for _, d := range rs.len {
		if d != 70*time.Microsecond {
			t.Fatalf("rested %v, want the configured 70µs", d)
		}
	}

	// Steps that take no time never add up to a stretch.
	var none rests
	step, _ = analytics.NewTestPacer(analytics.Pace{}, now, none.sleep)
	for range 10_000 {
		step()
	}
	if none.n != 0 {
		t.Fatalf("%d rests while no time passed", none.n)
	}

	// A negative Work turns pacing off.
	var off rests
	step, check := analytics.NewTestPacer(analytics.Pace{Work: -1}, now, off.sleep)
	for range 1000 {
		step()
		check()
		clock = clock.Add(time.Millisecond)
	}
	if off.n != 0 {
		t.Fatalf("%d rests with pacing off", off.n)
	}
}

func TestRollupRunIsPacedAndBuildsTheSameRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *sqlstore.DB) {
		// 3,000 events in one minute, of a few groups: the run reads the
		// events and a handful of rollup rows.
		events := make([]switchyard.UsageEvent, 3000)
		for i := range events {
			events[i] = event(i)
			events[i].At = rollupNow.Add(-10*time.Minute + time.Duration(i)*time.Millisecond)
			events[i].ConnectionID = fmt.Sprintf("c%d", i%3)
		}
		if err := db.AppendUsage(ctx, events); err != nil {
			t.Fatal(err)
		}
		// Unpaced first: the rows a run must build.
		r, err := analytics.NewRoller(analytics.RollerConfig{Store: db, Now: func() time.Time { return rollupNow },
			Pace: analytics.Pace{Work: -1}})
		if err != nil {
			t.Fatal(err)
		}
		var off rests
		analytics.SetRollerSleep(r, off.sleep)
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if off.n != 0 {
			t.Fatalf("an unpaced run rested %d times", off.n)
		}
		want := map[switchyard.Resolution][]switchyard.UsageRollup{}
		for _, res := range switchyard.Resolutions {
			want[res] = allKinds(t, db, res)
		}
		// Then the same window again, paced to rest whenever it looks at
		// the clock: it rests, and builds the very same rows.
		if _, err := db.SQL().Exec("DELETE FROM usage_rollups"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec("DELETE FROM usage_rollup_state"); err != nil {
			t.Fatal(err)
		}
		r, err = analytics.NewRoller(analytics.RollerConfig{Store: db, Now: func() time.Time { return rollupNow },
			Pace: analytics.Pace{Work: time.Nanosecond}})
		if err != nil {
			t.Fatal(err)
		}
		var paced rests
		analytics.SetRollerSleep(r, paced.sleep)
		res, err := r.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The pacer looks at the clock once every 16 events (and rollup
		// rows) read, and rests at every look but the first.
		if res.Events != len(events) {
			t.Fatalf("read %d events, want %d", res.Events, len(events))
		}
		if least := len(events)/16 - 1; paced.n < least {
			t.Fatalf("a paced run over %d events rested %d times; want at least %d", res.Events, paced.n, least)
		}
		for _, res := range switchyard.Resolutions {
			got := allKinds(t, db, res)
			if len(got) != len(want[res]) {
				t.Fatalf("%s: %d rows paced, %d unpaced", res, len(got), len(want[res]))
			}
			for i := range got {
				if a, b := fmt.Sprintf("%+v", got[i]), fmt.Sprintf("%+v", want[res][i]); a != b {
					t.Fatalf("%s row %d differs when paced:\n%s\n%s", res, i, a, b)
				}
			}
		}
	})
}

func TestRecorderRestsBetweenBatchesOnlyInRun(t *testing.T) {
	st := &fakeStore{}
	// Every batch is a stretch of work long enough to rest after.
	r := analytics.NewRecorder(analytics.RecorderConfig{Store: st, BatchSize: 10, FlushEvery: time.Hour,
		Pace: analytics.Pace{Work: time.Nanosecond}})
	var rs rests
	analytics.SetRecorderSleep(r, rs.sleep)
	// Flush writes at once, unpaced: 5 batches, no rests.
	for i := range 50 {
		r.Record(event(i))
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if rs.count() != 0 {
		t.Fatalf("Flush rested %d times", rs.count())
	}
	// Run, handed 20 batches at once, rests between them.
	hold := make(chan struct{})
	st.mu.Lock()
	st.before = func(_ context.Context, call int) error {
		if call == 6 {
			<-hold
		}
		return nil
	}
	st.mu.Unlock()
	run(t, r)
	for i := range 10 {
		r.Record(event(i))
	}
	// The first batch is being written (and held); 190 more queue behind it.
	eventually(t, "the first batch to be taken", func() bool { _, _, calls := st.snapshot(); return calls >= 6 })
	for i := range 190 {
		r.Record(event(i))
	}
	close(hold)
	eventually(t, "every event written", func() bool { return r.Written() == 250 })
	if n := rs.count(); n < 18 {
		t.Fatalf("Run wrote 20 batches with %d rests between them; want one before each batch but the first of a write", n)
	}
	wantCounters(t, r, 250, 250, 0, 0)
}
