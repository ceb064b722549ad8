package analytics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/switchyard/switchyard"
)

// Advice tunes the recommendations. Zero fields take the defaults.
type Advice struct {
	// Window is the recent usage recommendations look at (default 7 days).
	Window time.Duration
	// ErrorWindow is the recent part compared with the rest of Window for
	// rising error rates (default 24 h).
	ErrorWindow time.Duration
	// UnusedAfter is how long without requests makes a model or provider
	// unused (default 30 days); ones created since are left alone.
	UnusedAfter time.Duration
	// MinRequests is the least number of requests a comparison rests on
	// (default 20).
	MinRequests int64
	// MinSaving is the least relative saving a cheaper model must bring
	// (default 0.2, 20 %); Faster the least relative latency gain (0.2).
	MinSaving float64
	Faster    float64
	// ErrorFactor: a recent error rate at least this many times the
	// earlier one (default 2), and at least MinErrorRate (default 0.05).
	ErrorFactor  float64
	MinErrorRate float64
	// BudgetShare of a monthly budget spent makes a connection near it
	// (default 0.8).
	BudgetShare float64
}

func (a Advice) withDefaults() Advice {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&a.Window, 7*24*time.Hour)
	defDur(&a.ErrorWindow, 24*time.Hour)
	defDur(&a.UnusedAfter, 30*24*time.Hour)
	if a.MinRequests <= 0 {
		a.MinRequests = 20
	}
	def(&a.MinSaving, 0.2)
	def(&a.Faster, 0.2)
	def(&a.ErrorFactor, 2)
	def(&a.MinErrorRate, 0.05)
	def(&a.BudgetShare, 0.8)
	return a
}

// inventory is every provider, model and connection, by id.
type inventory struct {
	providers   map[string]*switchyard.Provider
	models      map[string]*switchyard.Model
	connections []*switchyard.Connection
}

func listAll[T any](ctx context.Context, list func(switchyard.ListOptions) (switchyard.Page[T], error)) ([]T, error) {
	var out []T
	opts := switchyard.ListOptions{Limit: switchyard.MaxPageSize}
	for {
		page, err := list(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" || ctx.Err() != nil {
			return out, ctx.Err()
		}
		opts.Cursor = page.NextCursor
	}
}

func (rd *Reader) loadInventory(ctx context.Context) (*inventory, error) {
	inv := &inventory{providers: map[string]*switchyard.Provider{}, models: map[string]*switchyard.Model{}}
	ps, err := listAll(ctx, func(o switchyard.ListOptions) (switchyard.Page[*switchyard.Provider], error) {
		return rd.inventory.ListProviders(ctx, switchyard.ProviderFilter{ListOptions: o})
	})
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		inv.providers[p.ID] = p
	}
	ms, err := listAll(ctx, func(o switchyard.ListOptions) (switchyard.Page[*switchyard.Model], error) {
		return rd.inventory.ListModels(ctx, switchyard.ModelFilter{ListOptions: o})
	})
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		inv.models[m.ID] = m
	}
	inv.connections, err = listAll(ctx, func(o switchyard.ListOptions) (switchyard.Page[*switchyard.Connection], error) {
		return rd.inventory.ListConnections(ctx, switchyard.ConnectionFilter{ListOptions: o})
	})
	return inv, err
}

// usable reports whether a model can take traffic now: enabled, not known
// to fail, on an enabled provider that is not down.
func (inv *inventory) usable(m *switchyard.Model) bool {
	p := inv.providers[m.ProviderID]
	return p != nil && p.Enabled && m.Enabled && p.EffectiveStatus() != switchyard.StatusDown &&
		m.Status != switchyard.ModelUnavailable && m.Status != switchyard.ModelDeprecated
}

func (inv *inventory) modelName(m *switchyard.Model) string {
	name := m.UpstreamID
	if m.DisplayName != "" {
		name = m.DisplayName
	}
	if p := inv.providers[m.ProviderID]; p != nil {
		name += " on " + p.Name
	}
	return name
}

// Recommendations draws advice from the measured usage: cheaper models
// with the capabilities a connection's models have, faster providers of
// the same upstream model, providers whose error rate rises, unused models
// and providers, connections near their monthly budget. The most
// significant come first within each kind.
func (rd *Reader) Recommendations(ctx context.Context) ([]switchyard.Recommendation, error) {
	if rd.inventory == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "recommendations are not configured on this server")
	}
	inv, err := rd.loadInventory(ctx)
	if err != nil {
		return nil, err
	}
	now := rd.now().UTC()
	a := rd.advice
	// Hours for the recent window (finer, for the error comparison), days
	// for the long view.
	hourly, err := rd.collect(ctx, switchyard.ResolutionHour, now.Add(-a.Window), now)
	if err != nil {
		return nil, err
	}
	daily, err := rd.collect(ctx, switchyard.ResolutionDay, now.Add(-a.UnusedAfter), now)
	if err != nil {
		return nil, err
	}
	out := rd.cheaperModels(inv, hourly)
	out = append(out, rd.fasterProviders(inv, hourly)...)
	out = append(out, rd.risingErrors(inv, hourly, now)...)
	out = append(out, rd.unused(inv, daily, now)...)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	monthly, err := rd.collect(ctx, switchyard.ResolutionDay, month, now)
	if err != nil {
		return nil, err
	}
	out = append(out, rd.nearBudget(inv, monthly, now)...)
	if out == nil {
		out = []switchyard.Recommendation{}
	}
	return out, nil
}

// collect reads the rollups of res in [from, to), keeping the histograms.
func (rd *Reader) collect(ctx context.Context, res switchyard.Resolution, from, to time.Time) ([]switchyard.UsageRollup, error) {
	var out []switchyard.UsageRollup
	err := rd.store.ListRollups(ctx, switchyard.RollupFilter{Resolution: res, Since: res.Floor(from), Until: res.Ceil(to)},
		func(u *switchyard.UsageRollup) error {
			c := *u
			c.Latency, c.TTFT = slices.Clone(u.Latency), slices.Clone(u.TTFT)
			out = append(out, c)
			return nil
		})
	return out, err
}

// sumBy merges rollups by a key.
func sumBy(rows []switchyard.UsageRollup, key func(*switchyard.UsageRollup) string) (map[string]*stats, error) {
	out := map[string]*stats{}
	for i := range rows {
		k := key(&rows[i])
		s := out[k]
		if s == nil {
			s = &stats{}
			out[k] = s
		}
		if err := s.add(&rows[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// covers reports whether candidate c has every capability of current.
func covers(c, current switchyard.Capabilities) bool {
	for _, need := range []struct{ have, want bool }{
		{c.Tools, current.Tools}, {c.JSONMode, current.JSONMode}, {c.Streaming, current.Streaming},
		{c.Vision, current.Vision}, {c.Embeddings, current.Embeddings}, {c.Reasoning, current.Reasoning},
	} {
		if need.want && !need.have {
			return false
		}
	}
	for _, m := range current.InputModalities {
		if !slices.Contains(c.InputModalities, m) {
			return false
		}
	}
	return current.ContextWindow == 0 || c.ContextWindow >= current.ContextWindow
}

func priced(p switchyard.Pricing) bool { return p.InputPerMTok > 0 || p.OutputPerMTok > 0 }

func (rd *Reader) cheaperModels(inv *inventory, rows []switchyard.UsageRollup) []switchyard.Recommendation {
	a := rd.advice
	used, err := sumBy(rows, func(u *switchyard.UsageRollup) string { return u.ConnectionID + "\x00" + u.ModelID })
	if err != nil {
		return nil
	}
	names := map[string]string{}
	for _, c := range inv.connections {
		names[c.ID] = c.Name
	}
	var out []switchyard.Recommendation
	for _, k := range sortedKeys(used) {
		s := used[k].row
		connID, modelID, _ := cut(k)
		cur := inv.models[modelID]
		if cur == nil || s.Requests < a.MinRequests || s.CostUSD <= 0 {
			continue
		}
		var best *switchyard.Model
		bestCost := math.Inf(1)
		for _, m := range inv.models {
			if m.ID == cur.ID || !inv.usable(m) || !priced(m.Pricing) || !covers(m.Capabilities, cur.Capabilities) {
				continue
			}
			cost := switchyard.Cost(m.Pricing, switchyard.Tokens{Input: int(s.InputTokens), Output: int(s.OutputTokens)})
			if cost < bestCost || (cost == bestCost && best != nil && m.ID < best.ID) {
				best, bestCost = m, cost
			}
		}
		if best == nil || bestCost > s.CostUSD*(1-a.MinSaving) {
			continue
		}
		saving := s.CostUSD - bestCost
		out = append(out, switchyard.Recommendation{
			Kind:        switchyard.RecommendCheaperModel,
			Subject:     switchyard.Subject{Type: "connection", ID: connID, Name: names[connID]},
			Alternative: &switchyard.Subject{Type: "model", ID: best.ID, Name: inv.modelName(best)},
			Message: fmt.Sprintf("%s would have cost $%.2f instead of $%.2f for this connection's %d requests to %s over the last %s (%.0f%% less), with every capability %s has",
				inv.modelName(best), bestCost, s.CostUSD, s.Requests, inv.modelName(cur), human(a.Window), 100*saving/s.CostUSD, cur.UpstreamID),
			Evidence: map[string]float64{"window_days": a.Window.Hours() / 24, "requests": float64(s.Requests),
				"input_tokens": float64(s.InputTokens), "output_tokens": float64(s.OutputTokens), "cost_usd": s.CostUSD,
				"alternative_cost_usd": bestCost, "saving_usd": saving, "saving_share": saving / s.CostUSD},
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Evidence["saving_usd"] > out[j].Evidence["saving_usd"] })
	return out
}

func cut(k string) (string, string, bool) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}

func (rd *Reader) fasterProviders(inv *inventory, rows []switchyard.UsageRollup) []switchyard.Recommendation {
	a := rd.advice
	byModel, err := sumBy(rows, func(u *switchyard.UsageRollup) string { return u.ModelID })
	if err != nil {
		return nil
	}
	// The models of each upstream id, on different providers.
	same := map[string][]*switchyard.Model{}
	for _, id := range sortedKeys(byModel) {
		m := inv.models[id]
		if m == nil || byModel[id].latency.Count() < uint64(a.MinRequests) {
			continue
		}
		same[m.UpstreamID] = append(same[m.UpstreamID], m)
	}
	var out []switchyard.Recommendation
	for _, upstream := range sortedKeys(same) {
		ms := same[upstream]
		if len(ms) < 2 {
			continue
		}
		p50 := func(m *switchyard.Model) float64 { return byModel[m.ID].latency.Quantile(0.5) }
		fastest := ms[0]
		for _, m := range ms[1:] {
			if p50(m) < p50(fastest) && inv.usable(m) {
				fastest = m
			}
		}
		if !inv.usable(fastest) {
			continue
		}
		for _, m := range ms {
			slow, fast := byModel[m.ID], byModel[fastest.ID]
			if m == fastest || m.ProviderID == fastest.ProviderID || p50(fastest) > p50(m)*(1-a.Faster) {
				continue
			}
			p, alt := inv.providers[m.ProviderID], inv.providers[fastest.ProviderID]
			out = append(out, switchyard.Recommendation{
				Kind:        switchyard.RecommendFasterProvider,
				Subject:     switchyard.Subject{Type: "provider", ID: p.ID, Name: p.Name},
				Alternative: &switchyard.Subject{Type: "provider", ID: alt.ID, Name: alt.Name},
				Message: fmt.Sprintf("%s answers %s in %.0f ms at the median, against %.0f ms on %s, over the last %s",
					alt.Name, upstream, p50(fastest), p50(m), p.Name, human(a.Window)),
				Evidence: map[string]float64{"window_days": a.Window.Hours() / 24,
					"latency_p50_ms": round1(p50(m)), "latency_p95_ms": round1(slow.latency.Quantile(0.95)), "requests": float64(slow.row.Requests),
					"alternative_latency_p50_ms": round1(p50(fastest)), "alternative_latency_p95_ms": round1(fast.latency.Quantile(0.95)),
					"alternative_requests": float64(fast.row.Requests)},
			})
		}
	}
	return out
}

func (rd *Reader) risingErrors(inv *inventory, rows []switchyard.UsageRollup, now time.Time) []switchyard.Recommendation {
	a := rd.advice
	split := switchyard.ResolutionHour.Floor(now.Add(-a.ErrorWindow))
	recent, err := sumBy(rows, func(u *switchyard.UsageRollup) string {
		if u.Bucket.Before(split) {
			return "before\x00" + u.ProviderID
		}
		return "recent\x00" + u.ProviderID
	})
	if err != nil {
		return nil
	}
	var out []switchyard.Recommendation
	for _, k := range sortedKeys(recent) {
		when, providerID, _ := cut(k)
		if when != "recent" {
			continue
		}
		cur := recent[k].row
		var before switchyard.UsageRollup
		if b := recent["before\x00"+providerID]; b != nil {
			before = b.row
		}
		rate := func(r switchyard.UsageRollup) float64 {
			if r.Requests == 0 {
				return 0
			}
			return float64(r.Errors) / float64(r.Requests)
		}
		nr, br := rate(cur), rate(before)
		if cur.Requests < a.MinRequests || nr < a.MinErrorRate || nr < br*a.ErrorFactor {
			continue
		}
		name := providerID
		if p := inv.providers[providerID]; p != nil {
			name = p.Name
		}
		msg := fmt.Sprintf("%s failed %.1f%% of %d requests in the last %s, against %.1f%% of %d before",
			name, 100*nr, cur.Requests, human(a.ErrorWindow), 100*br, before.Requests)
		if before.Requests == 0 {
			msg = fmt.Sprintf("%s failed %.1f%% of %d requests in the last %s", name, 100*nr, cur.Requests, human(a.ErrorWindow))
		}
		ev := map[string]float64{"error_rate": nr, "errors": float64(cur.Errors), "requests": float64(cur.Requests),
			"window_hours": a.ErrorWindow.Hours(), "earlier_error_rate": br, "earlier_requests": float64(before.Requests)}
		if top, n := topClass(cur.ErrorClasses); top != "" {
			msg += fmt.Sprintf("; most often %s (%d)", top, n)
		}
		out = append(out, switchyard.Recommendation{Kind: switchyard.RecommendRisingErrors,
			Subject: switchyard.Subject{Type: "provider", ID: providerID, Name: name}, Message: msg, Evidence: ev})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Evidence["error_rate"] > out[j].Evidence["error_rate"] })
	return out
}

func topClass(classes map[string]int64) (string, int64) {
	var top string
	var n int64
	for _, c := range sortedKeys(classes) {
		if classes[c] > n {
			top, n = c, classes[c]
		}
	}
	return top, n
}

func (rd *Reader) unused(inv *inventory, rows []switchyard.UsageRollup, now time.Time) []switchyard.Recommendation {
	a := rd.advice
	usedModel, usedProvider := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r.Requests > 0 {
			usedModel[r.ModelID] = true
			usedProvider[r.ProviderID] = true
		}
	}
	old := now.Add(-a.UnusedAfter)
	days := a.UnusedAfter.Hours() / 24
	var out []switchyard.Recommendation
	idle := map[string]bool{}
	for _, id := range sortedKeys(inv.providers) {
		p := inv.providers[id]
		if !p.Enabled || usedProvider[id] || p.CreatedAt.After(old) {
			continue
		}
		idle[id] = true
		out = append(out, switchyard.Recommendation{Kind: switchyard.RecommendUnusedProvider,
			Subject:  switchyard.Subject{Type: "provider", ID: id, Name: p.Name},
			Message:  fmt.Sprintf("%s is enabled but served no request in the last %.0f days; disable it, or remove it with its credentials", p.Name, days),
			Evidence: map[string]float64{"days": days, "requests": 0}})
	}
	for _, id := range sortedKeys(inv.models) {
		m := inv.models[id]
		p := inv.providers[m.ProviderID]
		if !m.Enabled || p == nil || !p.Enabled || idle[p.ID] || usedModel[id] || m.CreatedAt.After(old) {
			continue
		}
		out = append(out, switchyard.Recommendation{Kind: switchyard.RecommendUnusedModel,
			Subject:  switchyard.Subject{Type: "model", ID: id, Name: inv.modelName(m)},
			Message:  fmt.Sprintf("%s served no request in the last %.0f days; disable it to keep the model list short", inv.modelName(m), days),
			Evidence: map[string]float64{"days": days, "requests": 0}})
	}
	return out
}

func (rd *Reader) nearBudget(inv *inventory, rows []switchyard.UsageRollup, now time.Time) []switchyard.Recommendation {
	a := rd.advice
	spent := map[string]float64{}
	for _, r := range rows {
		spent[r.ConnectionID] += r.CostUSD
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	next := month.AddDate(0, 1, 0)
	elapsed := now.Sub(month).Hours() / 24
	total := next.Sub(month).Hours() / 24
	var out []switchyard.Recommendation
	for _, c := range inv.connections {
		s := spent[c.ID]
		if c.BudgetUSD <= 0 || s < c.BudgetUSD*a.BudgetShare {
			continue
		}
		projected := s
		if elapsed > 0 {
			projected = s / elapsed * total
		}
		out = append(out, switchyard.Recommendation{Kind: switchyard.RecommendNearBudget,
			Subject: switchyard.Subject{Type: "connection", ID: c.ID, Name: c.Name},
			Message: fmt.Sprintf("%s has spent $%.2f of its $%.2f monthly budget (%.0f%%) with %.1f days of the month left; at this pace the month ends at $%.2f",
				c.Name, s, c.BudgetUSD, 100*s/c.BudgetUSD, total-elapsed, projected),
			Evidence: map[string]float64{"spent_usd": s, "budget_usd": c.BudgetUSD, "spent_share": s / c.BudgetUSD,
				"days_left": total - elapsed, "projected_usd": projected}})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Evidence["spent_share"] > out[j].Evidence["spent_share"] })
	return out
}
