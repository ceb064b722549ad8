package analytics

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/switchyard/switchyard"
)

// healthHistory is how far back a roller that has just started rebuilds
// the health rollups: the checks are few (one a minute per provider), so
// a day takes little, and a replica that was down for a while fills its
// gap.
const healthHistory = 24 * time.Hour

// healthRoller builds the health-check rollups alongside the usage ones:
// minutes from the checks (the last few again on every run, since a check
// is stored when it ends), hours from minutes, days from hours, then
// prunes each resolution by the usage retention.
type healthRoller struct {
	store switchyard.HealthRollupStore
	mu    sync.Mutex
	done  time.Time
}

func (h *healthRoller) run(ctx context.Context, r *Roller, now time.Time) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	minute, hour, day := switchyard.ResolutionMinute, switchyard.ResolutionHour, switchyard.ResolutionDay
	end := minute.Floor(now.Add(-r.lag))
	start := h.done
	if start.IsZero() {
		start = minute.Floor(now.Add(-healthHistory))
	}
	start = minTime(start, minute.Floor(end.Add(-r.overlap)))
	start = maxTime(start, minute.Floor(now.Add(-r.retention.Minute)))
	days := map[time.Time]bool{}
	for cs := start; cs.Before(end); {
		ce := minTime(hour.Floor(cs).Add(time.Hour), end)
		rows := map[string]*healthStats{}
		err := h.store.ScanHealthChecks(ctx, cs, ce, func(c *switchyard.HealthCheck) error {
			k := c.ProviderID + "\x00" + strconvTime(minute.Floor(c.At))
			s := rows[k]
			if s == nil {
				s = &healthStats{row: switchyard.HealthRollup{Resolution: minute, ProviderID: c.ProviderID, Bucket: minute.Floor(c.At)}}
				rows[k] = s
			}
			s.addCheck(c)
			return nil
		})
		if err != nil {
			return 0, err
		}
		if err := h.replace(ctx, minute, cs, ce, rows); err != nil {
			return 0, err
		}
		hs := hour.Floor(cs)
		if err := h.buildFrom(ctx, minute, hour, hs, hs.Add(time.Hour)); err != nil {
			return 0, err
		}
		days[day.Floor(cs)] = true
		cs = ce
	}
	for d := range days {
		if err := h.buildFrom(ctx, hour, day, d, d.Add(24*time.Hour)); err != nil {
			return 0, err
		}
	}
	h.done = end
	var pruned int64
	for _, res := range switchyard.Resolutions {
		n, err := h.store.PruneHealthRollups(ctx, res, now.Add(-r.retention.Of(res)))
		if err != nil {
			return pruned, err
		}
		pruned += n
	}
	return pruned, nil
}

func strconvTime(t time.Time) string { return t.Format(time.RFC3339) }

func (h *healthRoller) buildFrom(ctx context.Context, from, res switchyard.Resolution, since, until time.Time) error {
	rows := map[string]*healthStats{}
	err := h.store.ListHealthRollups(ctx, from, "", since, until, func(u *switchyard.HealthRollup) error {
		s := rows[u.ProviderID]
		if s == nil {
			s = &healthStats{row: switchyard.HealthRollup{Resolution: res, ProviderID: u.ProviderID, Bucket: res.Floor(u.Bucket)}}
			rows[u.ProviderID] = s
		}
		return s.add(u)
	})
	if err != nil {
		return err
	}
	return h.replace(ctx, res, since, until, rows)
}

func (h *healthRoller) replace(ctx context.Context, res switchyard.Resolution, since, until time.Time, rows map[string]*healthStats) error {
	out := make([]switchyard.HealthRollup, 0, len(rows))
	for _, s := range rows {
		b, err := s.latency.MarshalBinary()
		if err != nil {
			return err
		}
		s.row.Latency = b
		out = append(out, s.row)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Bucket.Equal(out[j].Bucket) {
			return out[i].Bucket.Before(out[j].Bucket)
		}
		return out[i].ProviderID < out[j].ProviderID
	})
	return h.store.ReplaceHealthRollups(ctx, res, since, until, out)
}

// healthStats sums checks or rollups.
type healthStats struct {
	row     switchyard.HealthRollup
	latency Histogram
}

func (s *healthStats) addCheck(c *switchyard.HealthCheck) {
	s.row.Checks++
	if c.OK {
		s.row.OK++
		s.row.LatencySumMS += c.LatencyMS
		s.latency.Add(c.LatencyMS)
	}
}

func (s *healthStats) add(u *switchyard.HealthRollup) error {
	s.row.Checks += u.Checks
	s.row.OK += u.OK
	s.row.LatencySumMS += u.LatencySumMS
	return s.latency.MergeBinary(u.Latency)
}

func (s *healthStats) merge(o *healthStats) {
	s.row.Checks += o.row.Checks
	s.row.OK += o.row.OK
	s.row.LatencySumMS += o.row.LatencySumMS
	s.latency.Merge(&o.latency)
}

func (s *healthStats) out() switchyard.HealthStats {
	out := switchyard.HealthStats{Checks: s.row.Checks, OK: s.row.OK, LatencyP50: round1(s.latency.Quantile(0.5)),
		LatencyP95: round1(s.latency.Quantile(0.95)), LatencyP99: round1(s.latency.Quantile(0.99))}
	if s.row.Checks > 0 {
		out.Availability = float64(s.row.OK) / float64(s.row.Checks)
	}
	return out
}

// Health answers a health-history query from the health rollups: one
// series per provider, a point per bucket with checks. From, To and the
// resolution are normalised as for usage reports.
func (rd *Reader) Health(ctx context.Context, q switchyard.HealthQuery) (*switchyard.HealthReport, error) {
	if rd.health == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "health history is not kept by this store")
	}
	uq := switchyard.UsageQuery{From: q.From, To: q.To, Resolution: q.Resolution}
	if err := rd.Normalize(&uq); err != nil {
		return nil, err
	}
	q.From, q.To, q.Resolution = uq.From, uq.To, uq.Resolution
	type key struct {
		provider string
		at       int64
	}
	buckets := map[key]*healthStats{}
	err := rd.health.ListHealthRollups(ctx, q.Resolution, q.ProviderID, q.From, q.To, func(u *switchyard.HealthRollup) error {
		k := key{u.ProviderID, u.Bucket.Unix()}
		s := buckets[k]
		if s == nil {
			s = &healthStats{}
			buckets[k] = s
		}
		return s.add(u)
	})
	if err != nil {
		return nil, err
	}
	byProvider := map[string][]key{}
	for k := range buckets {
		byProvider[k.provider] = append(byProvider[k.provider], k)
	}
	names := map[string]string{}
	if rd.inventory != nil && len(byProvider) > 0 {
		ps, err := rd.inventory.ListProviders(ctx, switchyard.ProviderFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}})
		if err != nil {
			return nil, err
		}
		for _, p := range ps.Items {
			names[p.ID] = p.Name
		}
	}
	rep := &switchyard.HealthReport{From: q.From, To: q.To, Resolution: q.Resolution, Series: make([]switchyard.HealthSeries, 0, len(byProvider))}
	for id, ks := range byProvider {
		sort.Slice(ks, func(i, j int) bool { return ks[i].at < ks[j].at })
		var total healthStats
		s := switchyard.HealthSeries{ProviderID: id, Name: names[id], Points: make([]switchyard.HealthPoint, len(ks))}
		for i, k := range ks {
			b := buckets[k]
			total.merge(b)
			s.Points[i] = switchyard.HealthPoint{At: time.Unix(k.at, 0).UTC(), HealthStats: b.out()}
		}
		s.Total = total.out()
		rep.Series = append(rep.Series, s)
	}
	sort.Slice(rep.Series, func(i, j int) bool { return rep.Series[i].ProviderID < rep.Series[j].ProviderID })
	return rep, nil
}
