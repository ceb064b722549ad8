package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/switchyard/switchyard"
)

// Retention says how long each kind of usage history is kept.
type Retention struct {
	Raw    time.Duration
	Minute time.Duration
	Hour   time.Duration
	Day    time.Duration
}

// Default retention, and the least each may be: the job rebuilds the hour
// and day in progress from the finer rows, so those must still be there.
var (
	DefaultRetention = Retention{Raw: 7 * 24 * time.Hour, Minute: 48 * time.Hour, Hour: 90 * 24 * time.Hour, Day: 730 * 24 * time.Hour}
	MinRetention     = Retention{Raw: time.Hour, Minute: 3 * time.Hour, Hour: 3 * 24 * time.Hour, Day: 24 * time.Hour}
)

// Of returns the retention of resolution res.
func (r Retention) Of(res switchyard.Resolution) time.Duration {
	switch res {
	case switchyard.ResolutionMinute:
		return r.Minute
	case switchyard.ResolutionHour:
		return r.Hour
	case switchyard.ResolutionDay:
		return r.Day
	}
	return 0
}

// Check reports a retention below its minimum.
func (r Retention) Check() error {
	for _, c := range []struct {
		name     string
		got, min time.Duration
	}{{"raw", r.Raw, MinRetention.Raw}, {"minute", r.Minute, MinRetention.Minute},
		{"hour", r.Hour, MinRetention.Hour}, {"day", r.Day, MinRetention.Day}} {
		if c.got < c.min {
			return switchyard.Errorf(switchyard.EINVALID, "%s retention %s is less than the least allowed, %s", c.name, c.got, c.min)
		}
	}
	return nil
}

// Defaults of RollerConfig.
const (
	DefaultRollupEvery   = time.Minute
	DefaultRollupLag     = time.Minute
	DefaultRollupOverlap = 5 * time.Minute
	DefaultRollupSettle  = 30 * time.Second
)

// RollerConfig configures NewRoller. Zero fields take their defaults.
type RollerConfig struct {
	// Store holds the raw events and the rollups. Required.
	Store switchyard.RollupStore
	// Retention of raw events and of each resolution (DefaultRetention).
	Retention Retention
	// Every is how often Run builds rollups and prunes (default 1 min).
	Every time.Duration
	// Lag keeps the newest minutes out of the rollups until the events of
	// requests still in flight have been written (default 1 min).
	Lag time.Duration
	// Overlap is how much before the watermark the first run of a
	// database that has rollups but no write watermark yet builds again
	// (default 5 min). After that, each run builds the minutes completed
	// since the last one, and again only the older minutes that events
	// written since then belong to (found by their time-ordered ids).
	Overlap time.Duration
	// Settle is how long after an event is written (by the store's clock)
	// a run looks at it for late arrival, so that a batch still being
	// committed is not passed over (default 30 s).
	Settle time.Duration
	// Health, when set, holds the health checks and their rollups, which
	// each run builds and prunes too (by the same retention).
	Health switchyard.HealthRollupStore
	// Leader, when set, says whether this replica builds the rollups: Run
	// skips its runs while it returns false, so that of several replicas
	// one reads the events (the others would build the very same rows).
	Leader func() bool
	// Pace bounds how long a run works without a pause, so that it does
	// not hold up requests on a server with one CPU (see Pace).
	Pace Pace
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Roller builds the minute, hour and day rollups from raw usage events
// and prunes old history.
//
// Each run rebuilds whole windows (the minutes completed since the last
// run, plus any older minute that an event written since then belongs to,
// from raw events; the hours and days they fall in from the finer
// rollups) and replaces what was stored for them, so a run reads each
// event about once however much traffic there is, is idempotent and replicas that run it at once (on
// PostgreSQL, one at a time under an advisory lock) write the same rows.
// An hour that began before the minutes' retention (history a first run
// or a run after a long stop finds, or an event that arrives that late)
// is built straight from its raw events instead: its minute rollups would
// be pruned, or are gone.
// Raw events are pruned only once rolled up, and those of the current
// calendar month (UTC) are kept whatever the retention, since the
// gateway's monthly budgets are summed from them.
type Roller struct {
	store     switchyard.RollupStore
	retention Retention
	every     time.Duration
	lag       time.Duration
	overlap   time.Duration
	settle    time.Duration
	pace      Pace
	leader    func() bool
	now       func() time.Time
	log       *slog.Logger
	health    *healthRoller
	// sleep is how a paced run rests (time.Sleep; tests count the rests).
	sleep func(time.Duration)
}

// NewRoller returns a Roller; start it with Run.
func NewRoller(cfg RollerConfig) (*Roller, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("analytics: RollerConfig.Store is nil")
	}
	if cfg.Retention == (Retention{}) {
		cfg.Retention = DefaultRetention
	}
	if err := cfg.Retention.Check(); err != nil {
		return nil, err
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultRollupEvery
	}
	if cfg.Lag <= 0 {
		cfg.Lag = DefaultRollupLag
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = DefaultRollupOverlap
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultRollupSettle
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Roller{store: cfg.Store, retention: cfg.Retention, every: cfg.Every, lag: cfg.Lag,
		overlap: cfg.Overlap, settle: cfg.Settle, pace: cfg.Pace, leader: cfg.Leader, now: cfg.Now, log: cfg.Logger}
	if cfg.Health != nil {
		r.health = &healthRoller{store: cfg.Health}
	}
	return r, nil
}

// Run builds rollups and prunes every Every until ctx ends. With
// RollerConfig.Leader set, only while this replica leads: a follower looks
// again every second (or Every, if shorter), and runs as soon as it leads.
func (r *Roller) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.leader != nil && !r.leader() {
			t.Reset(min(r.every, time.Second))
			continue
		}
		res, err := r.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Error("usage rollup failed; trying again at the next run", "error", err)
		case err == nil && (res.Events > 0 || res.Pruned() > 0):
			r.log.Debug("usage rolled up", "events", res.Events, "minutes", res.Minutes, "pruned", res.Pruned())
		}
		t.Reset(r.every)
	}
}

// RunResult says what one run did.
type RunResult struct {
	// Events is how many raw events were read; Minutes how many minutes
	// were rolled up since the watermark (those past the minutes'
	// retention straight into their hour).
	Events  int
	Minutes int
	// PrunedRaw and PrunedRollups count deleted rows.
	PrunedRaw     int64
	PrunedRollups int64
}

// Pruned counts every deleted row.
func (r RunResult) Pruned() int64 { return r.PrunedRaw + r.PrunedRollups }

// RunOnce builds every rollup that is due and prunes expired history.
func (r *Roller) RunOnce(ctx context.Context) (RunResult, error) {
	var out RunResult
	// The pace is kept in real time, whatever clock the rollups follow.
	p := newPacer(r.pace, nil, r.sleep)
	now := r.now().UTC()
	minute, hour, day := switchyard.ResolutionMinute, switchyard.ResolutionHour, switchyard.ResolutionDay
	end := minute.Floor(now.Add(-r.lag))
	mark, err := r.store.RollupWatermark(ctx)
	if err != nil {
		return out, err
	}
	ingested, err := r.store.IngestWatermark(ctx)
	if err != nil {
		return out, err
	}
	// Events written up to Settle ago (by the store's clock, which made
	// their ids) are looked at for late arrivals now; the newest wait for
	// the next run, so that a batch still committing is not passed over.
	written, upTo, err := r.store.UsageMinutesWritten(ctx, ingested, r.settle)
	if err != nil {
		return out, err
	}
	var start time.Time
	switch {
	case mark.IsZero():
		first, err := r.store.FirstUsage(ctx)
		if err != nil {
			return out, err
		}
		start = minute.Floor(first)
		if first.IsZero() {
			start = end
		}
	case ingested.IsZero():
		// The first run that tracks writes: build the overlap again once.
		start = minute.Floor(mark.Add(-r.overlap))
	default:
		start = minute.Floor(mark)
	}
	// Raw events older than their retention are going anyway.
	floor := minute.Floor(now.Add(-r.retention.Raw))
	start = maxTime(start, floor)
	// An hour that began before this bound has minute rollups that the
	// retention drops (or already dropped): it is built straight from its
	// raw events, and no minute rollups are written for it.
	minutesFrom := now.Add(-r.retention.Minute)
	rawHour := func(h time.Time) bool { return h.Before(minutesFrom) && !h.Before(floor) }
	// Minutes before start that events written since the last run belong
	// to (a request's event carries its start time and is written when it
	// ends, so a long stream lands in a minute already built): only those
	// are built again, whatever their age.
	var late []time.Time
	days := map[time.Time]bool{}
	hours := map[time.Time]bool{}
	lateHours := map[time.Time]bool{}
	for _, m := range written {
		switch {
		case !m.Before(start) || m.Before(floor):
		case rawHour(hour.Floor(m)):
			lateHours[hour.Floor(m)] = true
		default:
			late = append(late, m)
		}
	}
	for _, h := range sortedTimes(lateHours) {
		n, err := r.buildHour(ctx, p, h, time.Time{})
		if err != nil {
			return out, err
		}
		out.Events += n
		days[day.Floor(h)] = true
	}
	for _, m := range late {
		n, err := r.buildMinutes(ctx, p, m, m.Add(time.Minute))
		if err != nil {
			return out, err
		}
		out.Events += n
		out.Minutes++
		hours[hour.Floor(m)] = true
	}
	for _, h := range sortedTimes(hours) {
		if err := r.buildFrom(ctx, p, minute, hour, h, h.Add(time.Hour)); err != nil {
			return out, err
		}
		days[day.Floor(h)] = true
	}
	// One hour at a time: the minutes from raw events, then that hour
	// from its minutes; an hour past the minutes' retention (a first run
	// over older history, or one after a long stop) from raw events.
	for cs := start; cs.Before(end); {
		h := hour.Floor(cs)
		ce := minTime(h.Add(time.Hour), end)
		if rawHour(h) && ce.Equal(h.Add(time.Hour)) {
			n, err := r.buildHour(ctx, p, h, ce)
			if err != nil {
				return out, err
			}
			out.Events += n
		} else {
			n, err := r.buildMinutes(ctx, p, cs, ce)
			if err != nil {
				return out, err
			}
			out.Events += n
			if err := r.buildFrom(ctx, p, minute, hour, h, h.Add(time.Hour)); err != nil {
				return out, err
			}
		}
		out.Minutes += int(ce.Sub(cs) / time.Minute)
		days[day.Floor(cs)] = true
		cs = ce
	}
	for _, d := range sortedTimes(days) {
		if err := r.buildFrom(ctx, p, hour, day, d, d.Add(24*time.Hour)); err != nil {
			return out, err
		}
	}
	if upTo.After(ingested) {
		if err := r.store.SetIngestWatermark(ctx, upTo); err != nil {
			return out, err
		}
	}

	// Raw events go once rolled up, never before, and never in the
	// current month: monthly budgets are summed from them.
	mark, err = r.store.RollupWatermark(ctx)
	if err != nil {
		return out, err
	}
	if !mark.IsZero() {
		month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		before := minTime(minTime(now.Add(-r.retention.Raw), mark.Add(-r.overlap)), month)
		if out.PrunedRaw, err = r.store.PruneUsage(ctx, before); err != nil {
			return out, err
		}
	}
	for _, res := range switchyard.Resolutions {
		n, err := r.store.PruneRollups(ctx, res, now.Add(-r.retention.Of(res)))
		if err != nil {
			return out, err
		}
		out.PrunedRollups += n
	}
	if r.health != nil {
		n, err := r.health.run(ctx, r, now)
		if err != nil {
			return out, fmt.Errorf("health rollups: %w", err)
		}
		out.PrunedRollups += n
	}
	return out, nil
}

// buildMinutes rebuilds the minute rollups of [since, until) from raw
// events and moves the watermark to until.
func (r *Roller) buildMinutes(ctx context.Context, p *pacer, since, until time.Time) (int, error) {
	return r.buildFromEvents(ctx, p, switchyard.ResolutionMinute, since, until, until)
}

// buildHour rebuilds the hour rollups of the hour h straight from raw
// events; a non-zero mark becomes the watermark of the minutes built from
// raw events.
func (r *Roller) buildHour(ctx context.Context, p *pacer, h, mark time.Time) (int, error) {
	return r.buildFromEvents(ctx, p, switchyard.ResolutionHour, h, h.Add(time.Hour), mark)
}

// buildFromEvents rebuilds the rollups of res in [since, until) from raw
// events, replacing what was stored, and returns how many it read.
func (r *Roller) buildFromEvents(ctx context.Context, p *pacer, res switchyard.Resolution, since, until, mark time.Time) (int, error) {
	agg := newAggregator(res)
	n := 0
	err := r.store.ScanUsage(ctx, since, until, func(e *switchyard.UsageEvent) error {
		p.step()
		n++
		agg.addEvent(e)
		return nil
	})
	if err != nil {
		return 0, err
	}
	rows, err := agg.rows()
	if err != nil {
		return 0, err
	}
	return n, r.store.ReplaceRollups(ctx, res, since, until, rows, mark)
}

// buildFrom rebuilds the rollups of res in [since, until) from the finer
// rollups of from.
func (r *Roller) buildFrom(ctx context.Context, p *pacer, from, res switchyard.Resolution, since, until time.Time) error {
	agg := newAggregator(res)
	err := r.store.ListRollups(ctx, switchyard.RollupFilter{Resolution: from, Since: since, Until: until},
		func(u *switchyard.UsageRollup) error {
			p.step()
			return agg.addRollup(u)
		})
	if err != nil {
		return err
	}
	rows, err := agg.rows()
	if err != nil {
		return err
	}
	return r.store.ReplaceRollups(ctx, res, since, until, rows, time.Time{})
}

type rollupKey struct {
	bucket                            int64
	provider, model, connection, user string
}

type partial struct {
	row     switchyard.UsageRollup
	latency Histogram
	ttft    Histogram
	// costNanos sums the cost in billionths of a dollar: an integer sum
	// does not depend on the order rows arrive in, so rebuilding a
	// window gives the very same rows.
	costNanos int64
}

func nanos(usd float64) int64 { return int64(math.Round(usd * 1e9)) }

// aggregator sums events or finer rollups into rollups of one resolution.
type aggregator struct {
	res  switchyard.Resolution
	step int64
	m    map[rollupKey]*partial
}

func newAggregator(res switchyard.Resolution) *aggregator {
	return &aggregator{res: res, step: int64(res.Step() / time.Second), m: map[rollupKey]*partial{}}
}

func (a *aggregator) get(at time.Time, provider, model, connection, user string) *partial {
	sec := at.Unix()
	sec -= ((sec % a.step) + a.step) % a.step
	k := rollupKey{bucket: sec, provider: provider, model: model, connection: connection, user: user}
	p := a.m[k]
	if p == nil {
		p = &partial{row: switchyard.UsageRollup{Resolution: a.res, Bucket: time.Unix(sec, 0).UTC(),
			ProviderID: provider, ModelID: model, ConnectionID: connection, UserID: user}}
		a.m[k] = p
	}
	return p
}

// addEvent counts e in its own rollup, its model's total over every
// connection and its connection's total over every model.
func (a *aggregator) addEvent(e *switchyard.UsageEvent) {
	all := switchyard.RollupAll
	a.addEventTo(a.get(e.At, e.ProviderID, e.ModelID, e.ConnectionID, e.UserID), e)
	a.addEventTo(a.get(e.At, e.ProviderID, e.ModelID, all, all), e)
	a.addEventTo(a.get(e.At, all, all, e.ConnectionID, e.UserID), e)
}

func (a *aggregator) addEventTo(p *partial, e *switchyard.UsageEvent) {
	r := &p.row
	r.Requests++
	r.InputTokens += int64(e.InputTokens)
	r.OutputTokens += int64(e.OutputTokens)
	r.CachedInputTokens += int64(e.CachedInputTokens)
	p.costNanos += nanos(e.CostUSD)
	switch e.Status {
	case switchyard.UsageError:
		r.Errors++
		class := e.ErrorClass
		if class == "" {
			class = "unknown"
		}
		if r.ErrorClasses == nil {
			r.ErrorClasses = map[string]int64{}
		}
		r.ErrorClasses[class]++
	case switchyard.UsageCancelled:
		r.Cancelled++
	default:
		r.LatencySumMS += e.LatencyMS
		p.latency.Add(e.LatencyMS)
		if e.TTFTMS > 0 {
			r.TTFTCount++
			r.TTFTSumMS += e.TTFTMS
			p.ttft.Add(e.TTFTMS)
		}
	}
}

// addRollup adds a finer detail rollup to its own rollup and to both
// totals it falls in (the finer totals are not read).
func (a *aggregator) addRollup(u *switchyard.UsageRollup) error {
	all := switchyard.RollupAll
	for _, p := range []*partial{a.get(u.Bucket, u.ProviderID, u.ModelID, u.ConnectionID, u.UserID),
		a.get(u.Bucket, u.ProviderID, u.ModelID, all, all), a.get(u.Bucket, all, all, u.ConnectionID, u.UserID)} {
		addStats(&p.row, u)
		p.costNanos += nanos(u.CostUSD)
		if err := p.latency.MergeBinary(u.Latency); err != nil {
			return err
		}
		if err := p.ttft.MergeBinary(u.TTFT); err != nil {
			return err
		}
	}
	return nil
}

// addStats adds u's sums (not its histograms) to r.
func addStats(r, u *switchyard.UsageRollup) {
	r.Requests += u.Requests
	r.Errors += u.Errors
	r.Cancelled += u.Cancelled
	for c, n := range u.ErrorClasses {
		if r.ErrorClasses == nil {
			r.ErrorClasses = map[string]int64{}
		}
		r.ErrorClasses[c] += n
	}
	r.InputTokens += u.InputTokens
	r.OutputTokens += u.OutputTokens
	r.CachedInputTokens += u.CachedInputTokens
	r.CostUSD += u.CostUSD
	r.LatencySumMS += u.LatencySumMS
	r.TTFTCount += u.TTFTCount
	r.TTFTSumMS += u.TTFTSumMS
}

func (a *aggregator) rows() ([]switchyard.UsageRollup, error) {
	out := make([]switchyard.UsageRollup, 0, len(a.m))
	for _, p := range a.m {
		p.row.CostUSD = float64(p.costNanos) / 1e9
		var err error
		if p.row.Latency, err = p.latency.MarshalBinary(); err != nil {
			return nil, err
		}
		if p.row.TTFT, err = p.ttft.MarshalBinary(); err != nil {
			return nil, err
		}
		out = append(out, p.row)
	}
	return out, nil
}

func sortedTimes(set map[time.Time]bool) []time.Time {
	out := make([]time.Time, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
