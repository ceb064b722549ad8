package analytics

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// The most buckets a query may span at each resolution, and the most an
// automatic choice aims for.
var (
	maxSpan = map[switchyard.Resolution]time.Duration{
		switchyard.ResolutionMinute: 24 * time.Hour,
		switchyard.ResolutionHour:   93 * 24 * time.Hour,
		switchyard.ResolutionDay:    3660 * 24 * time.Hour,
	}
	autoSpan = map[switchyard.Resolution]time.Duration{
		switchyard.ResolutionMinute: 6 * time.Hour,
		switchyard.ResolutionHour:   15 * 24 * time.Hour,
	}
)

// DefaultQuerySpan is the range of a query that gives no from.
const DefaultQuerySpan = 24 * time.Hour

// Inventory lists what recommendations are about; switchyard.Store
// implements it.
type Inventory interface {
	ListProviders(ctx context.Context, f switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error)
	ListModels(ctx context.Context, f switchyard.ModelFilter) (switchyard.Page[*switchyard.Model], error)
	ListConnections(ctx context.Context, f switchyard.ConnectionFilter) (switchyard.Page[*switchyard.Connection], error)
}

// ReaderConfig configures NewReader.
type ReaderConfig struct {
	// Store holds the rollups. Required.
	Store switchyard.RollupStore
	// Inventory lists providers, models and connections, for
	// recommendations (nil: none are made).
	Inventory Inventory
	// Retention says which resolutions still hold a time (default
	// DefaultRetention).
	Retention Retention
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Advice tunes the recommendations (zero fields: defaults).
	Advice Advice
	// Health holds the health-check rollups (nil: Health answers
	// EUNAVAILABLE).
	Health switchyard.HealthRollupStore
}

// Reader answers questions from the rollups: usage reports and
// recommendations.
type Reader struct {
	store     switchyard.RollupStore
	inventory Inventory
	retention Retention
	now       func() time.Time
	advice    Advice
	health    switchyard.HealthRollupStore
}

// NewReader returns a Reader.
func NewReader(cfg ReaderConfig) *Reader {
	if cfg.Store == nil {
		panic("analytics: ReaderConfig.Store is nil")
	}
	if cfg.Retention == (Retention{}) {
		cfg.Retention = DefaultRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reader{store: cfg.Store, inventory: cfg.Inventory, retention: cfg.Retention, now: cfg.Now, advice: cfg.Advice.withDefaults(), health: cfg.Health}
}

// Normalize fills in q's defaults (To: now; From: To minus a day; the
// resolution), aligns From and To to the resolution's buckets, and
// reports every bad field at once.
func (rd *Reader) Normalize(q *switchyard.UsageQuery) error {
	var p switchyard.Problems
	now := rd.now().UTC()
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultQuerySpan)
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	if !q.From.Before(q.To) {
		p.Add("from", "out_of_range", "must be before to (from %s, to %s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if q.GroupBy != switchyard.GroupByNone && !slices.Contains(switchyard.UsageGroupings, q.GroupBy) {
		p.Add("group_by", "invalid", "must be one of %s, or absent", strings.Join(switchyard.UsageGroupings, ", "))
	}
	span := q.To.Sub(q.From)
	switch {
	case q.Resolution == "":
		q.Resolution = rd.pick(q.From, span)
	case !q.Resolution.Valid():
		p.Add("resolution", "invalid", "must be minute, hour or day, or absent to let the server choose")
	case span > maxSpan[q.Resolution]:
		p.Add("resolution", "range_too_large", "%s resolution spans at most %s; shorten from–to or use a coarser resolution",
			q.Resolution, human(maxSpan[q.Resolution]))
	}
	if err := p.Err("usage query"); err != nil {
		return err
	}
	q.From, q.To = q.Resolution.Floor(q.From), q.Resolution.Ceil(q.To)
	return nil
}

// pick chooses the finest resolution that keeps a range to a chart's
// worth of points and whose history still reaches from.
func (rd *Reader) pick(from time.Time, span time.Duration) switchyard.Resolution {
	age := rd.now().Sub(from)
	for _, res := range []switchyard.Resolution{switchyard.ResolutionMinute, switchyard.ResolutionHour} {
		if span <= autoSpan[res] && age <= rd.retention.Of(res) {
			return res
		}
	}
	return switchyard.ResolutionDay
}

func human(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	return fmt.Sprintf("%d hours", int(d/time.Hour))
}

// stats accumulates rollups into UsageStats.
type stats struct {
	row     switchyard.UsageRollup
	latency Histogram
	ttft    Histogram
	// open marks a report's series as having rows in the current bucket.
	open bool
}

// reset empties s, keeping the histograms' memory; the error classes
// already handed out by out stay with their point.
func (s *stats) reset() {
	s.row = switchyard.UsageRollup{}
	s.latency.Reset()
	s.ttft.Reset()
	s.open = false
}

func (s *stats) add(u *switchyard.UsageRollup) error {
	addStats(&s.row, u)
	if err := s.latency.MergeBinary(u.Latency); err != nil {
		return err
	}
	return s.ttft.MergeBinary(u.TTFT)
}

func (s *stats) merge(o *stats) {
	addStats(&s.row, &o.row)
	s.latency.Merge(&o.latency)
	s.ttft.Merge(&o.ttft)
}

func (s *stats) out() switchyard.UsageStats {
	r := &s.row
	out := switchyard.UsageStats{Requests: r.Requests, Errors: r.Errors, Cancelled: r.Cancelled, ErrorClasses: r.ErrorClasses,
		InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CostUSD: r.CostUSD,
		LatencyP50: round1(s.latency.Quantile(0.5)), LatencyP95: round1(s.latency.Quantile(0.95)),
		LatencyP99: round1(s.latency.Quantile(0.99)), TTFTP50: round1(s.ttft.Quantile(0.5))}
	if r.Requests > 0 {
		out.ErrorRate = float64(r.Errors) / float64(r.Requests)
	}
	return out
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// Usage normalises q (see Normalize) and answers it from the rollups.
//
// The rollups come oldest first, so a bucket is complete when the next
// begins: each series' point is made then and its histograms reused, so
// a report holds one pair of histograms per series however many buckets
// it spans.
func (rd *Reader) Usage(ctx context.Context, q switchyard.UsageQuery) (*switchyard.UsageReport, error) {
	if err := rd.Normalize(&q); err != nil {
		return nil, err
	}
	// A question that names no connection or user is answered by the
	// models' totals, one that names no provider or model by the
	// connections' totals: a fraction of the rows either way.
	kind := switchyard.RollupDetail
	switch {
	case q.ConnectionID == "" && q.ConnectionIDs == nil && q.GroupBy != switchyard.GroupByConnection && q.GroupBy != switchyard.GroupByUser:
		kind = switchyard.RollupModelTotals
	case q.ProviderID == "" && q.ModelID == "" && q.GroupBy != switchyard.GroupByProvider && q.GroupBy != switchyard.GroupByModel:
		kind = switchyard.RollupConnectionTotals
	}
	type series struct {
		switchyard.UsageSeries
		total, cur stats
	}
	bySeries := map[string]*series{}
	var inBucket []*series // the series with rows in the current bucket
	var bucket time.Time
	endBucket := func() {
		for _, s := range inBucket {
			s.Points = append(s.Points, switchyard.UsagePoint{At: bucket, UsageStats: s.cur.out()})
			s.total.merge(&s.cur)
			s.cur.reset()
		}
		inBucket = inBucket[:0]
	}
	err := rd.store.ListRollups(ctx, switchyard.RollupFilter{Resolution: q.Resolution, Kind: kind, Since: q.From, Until: q.To,
		ProviderID: q.ProviderID, ModelID: q.ModelID, ConnectionID: q.ConnectionID, ConnectionIDs: q.ConnectionIDs},
		func(u *switchyard.UsageRollup) error {
			if !u.Bucket.Equal(bucket) {
				if u.Bucket.Before(bucket) {
					return fmt.Errorf("usage report: rollup at %s after one at %s", u.Bucket.Format(time.RFC3339), bucket.Format(time.RFC3339))
				}
				endBucket()
				bucket = u.Bucket.UTC()
			}
			key := groupKey(q.GroupBy, u)
			s := bySeries[key]
			if s == nil {
				s = &series{UsageSeries: switchyard.UsageSeries{Key: key}}
				bySeries[key] = s
			}
			if !s.cur.open {
				s.cur.open = true
				inBucket = append(inBucket, s)
			}
			return s.cur.add(u)
		})
	if err != nil {
		return nil, err
	}
	endBucket()
	rep := &switchyard.UsageReport{From: q.From, To: q.To, Resolution: q.Resolution, GroupBy: q.GroupBy,
		Series: make([]switchyard.UsageSeries, 0, len(bySeries))}
	for _, s := range bySeries {
		s.Total = s.total.out()
		rep.Series = append(rep.Series, s.UsageSeries)
	}
	sort.Slice(rep.Series, func(i, j int) bool {
		a, b := rep.Series[i].Total, rep.Series[j].Total
		if a.Requests != b.Requests {
			return a.Requests > b.Requests
		}
		return rep.Series[i].Key < rep.Series[j].Key
	})
	return rep, nil
}

func groupKey(groupBy string, u *switchyard.UsageRollup) string {
	switch groupBy {
	case switchyard.GroupByProvider:
		return u.ProviderID
	case switchyard.GroupByModel:
		return u.ModelID
	case switchyard.GroupByConnection:
		return u.ConnectionID
	case switchyard.GroupByUser:
		return u.UserID
	}
	return ""
}
