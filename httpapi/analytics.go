package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// GetUsage reports usage over time from the rollups: all of it to admins,
// their own connections' to users.
func (h *handlers) GetUsage(ctx context.Context, req apigen.GetUsageRequestObject) (apigen.GetUsageResponseObject, error) {
	p := req.Params
	q := switchyard.UsageQuery{From: deref(p.From), To: deref(p.To), GroupBy: string(deref(p.GroupBy)),
		Resolution: switchyard.Resolution(deref(p.Resolution)), ProviderID: deref(p.ProviderId), ModelID: deref(p.ModelId),
		ConnectionID: deref(p.ConnectionId)}
	rep, err := h.ctl.UsageReport(ctx, actorFrom(ctx), q)
	if err != nil {
		return nil, err
	}
	out := apigen.GetUsage200JSONResponse{From: rep.From, To: rep.To, Resolution: apigen.UsageReportResolution(rep.Resolution),
		Series: make([]apigen.UsageSeries, len(rep.Series))}
	if rep.GroupBy != "" {
		g := apigen.UsageReportGroupBy(rep.GroupBy)
		out.GroupBy = &g
	}
	for i, s := range rep.Series {
		series := apigen.UsageSeries{Key: s.Key, Name: s.Name, Total: usageStatsOut(s.Total), Points: make([]apigen.UsagePoint, len(s.Points))}
		for j, pt := range s.Points {
			st := usageStatsOut(pt.UsageStats)
			series.Points[j] = apigen.UsagePoint{At: pt.At, Requests: st.Requests, Errors: st.Errors, Cancelled: st.Cancelled,
				ErrorRate: st.ErrorRate, ErrorClasses: st.ErrorClasses, InputTokens: st.InputTokens, OutputTokens: st.OutputTokens,
				CostUsd: st.CostUsd, LatencyP50Ms: st.LatencyP50Ms, LatencyP95Ms: st.LatencyP95Ms, LatencyP99Ms: st.LatencyP99Ms,
				TtftP50Ms: st.TtftP50Ms}
		}
		out.Series[i] = series
	}
	return out, nil
}

func usageStatsOut(s switchyard.UsageStats) apigen.UsageStats {
	out := apigen.UsageStats{Requests: s.Requests, Errors: s.Errors, Cancelled: s.Cancelled, ErrorRate: s.ErrorRate,
		InputTokens: s.InputTokens, OutputTokens: s.OutputTokens, CostUsd: s.CostUSD, LatencyP50Ms: s.LatencyP50,
		LatencyP95Ms: s.LatencyP95, LatencyP99Ms: s.LatencyP99, TtftP50Ms: s.TTFTP50}
	if len(s.ErrorClasses) > 0 {
		classes := s.ErrorClasses
		out.ErrorClasses = &classes
	}
	return out
}

// ListRecommendations gives admins advice drawn from measured usage.
func (h *handlers) ListRecommendations(ctx context.Context, _ apigen.ListRecommendationsRequestObject) (apigen.ListRecommendationsResponseObject, error) {
	recs, err := h.ctl.Recommendations(ctx, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := apigen.ListRecommendations200JSONResponse{Items: make([]apigen.Recommendation, len(recs))}
	for i, r := range recs {
		item := apigen.Recommendation{Kind: apigen.RecommendationKind(r.Kind), Subject: subjectOut(r.Subject), Message: r.Message,
			Evidence: r.Evidence}
		if r.Alternative != nil {
			alt := subjectOut(*r.Alternative)
			item.Alternative = &alt
		}
		if item.Evidence == nil {
			item.Evidence = map[string]float64{}
		}
		out.Items[i] = item
	}
	return out, nil
}

func subjectOut(s switchyard.Subject) apigen.Subject {
	return apigen.Subject{Type: apigen.SubjectType(s.Type), Id: s.ID, Name: s.Name}
}

func healthStatsOut(s switchyard.HealthStats) apigen.HealthStats {
	return apigen.HealthStats{Checks: s.Checks, Ok: s.OK, Availability: s.Availability,
		LatencyP50Ms: s.LatencyP50, LatencyP95Ms: s.LatencyP95, LatencyP99Ms: s.LatencyP99}
}

// GetHealthHistory reports the providers' health-check history from the
// health rollups (admins only).
func (h *handlers) GetHealthHistory(ctx context.Context, req apigen.GetHealthHistoryRequestObject) (apigen.GetHealthHistoryResponseObject, error) {
	p := req.Params
	rep, err := h.ctl.HealthHistory(ctx, actorFrom(ctx), switchyard.HealthQuery{From: deref(p.From), To: deref(p.To),
		Resolution: switchyard.Resolution(deref(p.Resolution)), ProviderID: deref(p.ProviderId)})
	if err != nil {
		return nil, err
	}
	out := apigen.GetHealthHistory200JSONResponse{From: rep.From, To: rep.To, Resolution: apigen.HealthReportResolution(rep.Resolution),
		Series: make([]apigen.HealthSeries, len(rep.Series))}
	for i, s := range rep.Series {
		series := apigen.HealthSeries{ProviderId: s.ProviderID, Name: s.Name, Total: healthStatsOut(s.Total), Points: make([]apigen.HealthPoint, len(s.Points))}
		for j, pt := range s.Points {
			st := healthStatsOut(pt.HealthStats)
			series.Points[j] = apigen.HealthPoint{At: pt.At, Checks: st.Checks, Ok: st.Ok, Availability: st.Availability,
				LatencyP50Ms: st.LatencyP50Ms, LatencyP95Ms: st.LatencyP95Ms, LatencyP99Ms: st.LatencyP99Ms}
		}
		out.Series[i] = series
	}
	return out, nil
}
