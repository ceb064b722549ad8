package httpapi

import (
	"slices"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

func modalitiesOut(ms []string) []apigen.Modality {
	out := make([]apigen.Modality, len(ms))
	for i, m := range ms {
		out[i] = apigen.Modality(m)
	}
	return out
}

func modalitiesIn(ms []apigen.Modality) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

func capabilitiesOut(c switchyard.Capabilities) apigen.Capabilities {
	return apigen.Capabilities{ContextWindow: c.ContextWindow, MaxOutputTokens: c.MaxOutputTokens,
		InputModalities: modalitiesOut(c.InputModalities), OutputModalities: modalitiesOut(c.OutputModalities),
		Tools: c.Tools, JsonMode: c.JSONMode, Streaming: c.Streaming, Vision: c.Vision, Embeddings: c.Embeddings,
		Reasoning: c.Reasoning}
}

// capabilitiesInputOut shows every capability in the input form (as
// template models carry them).
func capabilitiesInputOut(c switchyard.Capabilities) *apigen.CapabilitiesInput {
	o := capabilitiesOut(c)
	return &apigen.CapabilitiesInput{ContextWindow: &o.ContextWindow, MaxOutputTokens: &o.MaxOutputTokens,
		InputModalities: &o.InputModalities, OutputModalities: &o.OutputModalities, Tools: &o.Tools,
		JsonMode: &o.JsonMode, Streaming: &o.Streaming, Vision: &o.Vision, Embeddings: &o.Embeddings, Reasoning: &o.Reasoning}
}

func pricingOut(p switchyard.Pricing) apigen.Pricing {
	out := apigen.Pricing{InputPerMtok: p.InputPerMTok, OutputPerMtok: p.OutputPerMTok}
	if p.CacheReadPerMTok != 0 {
		out.CacheReadPerMtok = ptr(p.CacheReadPerMTok)
	}
	if p.CacheWritePerMTok != 0 {
		out.CacheWritePerMtok = ptr(p.CacheWritePerMTok)
	}
	return out
}

func pricingIn(p apigen.Pricing) switchyard.Pricing {
	out := switchyard.Pricing{InputPerMTok: p.InputPerMtok, OutputPerMTok: p.OutputPerMtok}
	if p.CacheReadPerMtok != nil {
		out.CacheReadPerMTok = *p.CacheReadPerMtok
	}
	if p.CacheWritePerMtok != nil {
		out.CacheWritePerMTok = *p.CacheWritePerMtok
	}
	return out
}

// capabilitiesIn sets on base the capabilities that were sent and returns
// the names of the fields sent (as in switchyard.CapabilityFields), with
// "pricing" when a pricing was sent.
func capabilitiesIn(base switchyard.Capabilities, in *apigen.CapabilitiesInput, pricing *apigen.Pricing) (switchyard.Capabilities, switchyard.Pricing, []string) {
	c := base
	var p switchyard.Pricing
	var fields []string
	set := func(field string, sent bool, apply func()) {
		if sent {
			apply()
			fields = append(fields, field)
		}
	}
	if in != nil {
		set("context_window", in.ContextWindow != nil, func() { c.ContextWindow = *in.ContextWindow })
		set("max_output_tokens", in.MaxOutputTokens != nil, func() { c.MaxOutputTokens = *in.MaxOutputTokens })
		set("input_modalities", in.InputModalities != nil, func() { c.InputModalities = modalitiesIn(*in.InputModalities) })
		set("output_modalities", in.OutputModalities != nil, func() { c.OutputModalities = modalitiesIn(*in.OutputModalities) })
		set("tools", in.Tools != nil, func() { c.Tools = *in.Tools })
		set("json_mode", in.JsonMode != nil, func() { c.JSONMode = *in.JsonMode })
		set("streaming", in.Streaming != nil, func() { c.Streaming = *in.Streaming })
		set("vision", in.Vision != nil, func() { c.Vision = *in.Vision })
		set("embeddings", in.Embeddings != nil, func() { c.Embeddings = *in.Embeddings })
		set("reasoning", in.Reasoning != nil, func() { c.Reasoning = *in.Reasoning })
	}
	set("pricing", pricing != nil, func() { p = pricingIn(*pricing) })
	return c, p, fields
}

func testResultOut(r *switchyard.TestResult) *apigen.TestResult {
	if r == nil {
		return nil
	}
	out := &apigen.TestResult{At: r.At, Ok: r.OK, LatencyMs: r.LatencyMS}
	if r.Code != "" {
		out.Code = ptr(r.Code)
	}
	if r.Message != "" {
		out.Message = ptr(r.Message)
	}
	if r.TTFTMS != 0 {
		out.TtftMs = ptr(r.TTFTMS)
	}
	if r.InputTokens != 0 {
		out.InputTokens = ptr(r.InputTokens)
	}
	if r.OutputTokens != 0 {
		out.OutputTokens = ptr(r.OutputTokens)
	}
	if len(r.Checks) > 0 {
		checks := make([]apigen.CapabilityCheck, len(r.Checks))
		for i, c := range r.Checks {
			checks[i] = apigen.CapabilityCheck{Name: apigen.CapabilityCheckName(c.Name), Declared: c.Declared,
				Result: apigen.CapabilityCheckResult(c.Result)}
			if c.Message != "" {
				checks[i].Message = ptr(c.Message)
			}
		}
		out.Checks = &checks
	}
	return out
}

func benchmarkOut(b *switchyard.BenchmarkResult) *apigen.BenchmarkResult {
	if b == nil {
		return nil
	}
	out := &apigen.BenchmarkResult{At: b.At, Requests: b.Requests, Errors: b.Errors, ErrorRate: b.ErrorRate, P50Ms: b.P50MS,
		P95Ms: b.P95MS, P99Ms: b.P99MS, TtftMs: b.TTFTMS, TokensPerS: b.TokensPerSec}
	if b.ID != "" {
		out.Id = ptr(b.ID)
	}
	if b.ModelID != "" {
		out.ModelId = ptr(b.ModelID)
	}
	if b.Status != "" {
		out.Status = ptr(apigen.BenchmarkResultStatus(b.Status))
	}
	if b.Concurrency != 0 {
		out.Concurrency = ptr(b.Concurrency)
	}
	if b.DurationMS != 0 {
		out.DurationMs = ptr(b.DurationMS)
	}
	return out
}

func benchmarkRunOut(r *control.BenchmarkRun) apigen.BenchmarkRun {
	out := apigen.BenchmarkRun{Id: r.ID, ModelId: r.ModelID, Status: apigen.BenchmarkRunStatus(r.Status), Requests: r.Requests,
		Concurrency: r.Concurrency, Done: r.Done, Errors: r.Errors, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Result: benchmarkOut(r.Result)}
	if r.Message != "" {
		out.Message = ptr(r.Message)
	}
	return out
}

func discoveredOut(ds []control.DiscoveredModel) []apigen.DiscoveredModel {
	out := make([]apigen.DiscoveredModel, len(ds))
	for i, d := range ds {
		sources := make(map[string]apigen.CapabilitySource, len(d.Sources))
		for k, v := range d.Sources {
			sources[k] = apigen.CapabilitySource(v)
		}
		out[i] = apigen.DiscoveredModel{UpstreamId: d.UpstreamID, DisplayName: d.DisplayName,
			Capabilities: capabilitiesOut(d.Capabilities), Pricing: pricingOut(d.Pricing), Sources: sources}
		if d.ModelID != "" {
			out[i].ModelId = ptr(d.ModelID)
		}
		if d.CatalogTemplate != "" {
			out[i].CatalogTemplate = ptr(d.CatalogTemplate)
		}
	}
	return out
}

func discoveryOut(d *control.Discovery) apigen.ModelDiscovery {
	out := apigen.ModelDiscovery{New: discoveredOut(d.New), Missing: discoveredOut(d.Missing), Unchanged: discoveredOut(d.Unchanged)}
	if d.Created != nil || d.Updated != nil {
		out.Created, out.Updated = ptr(modelsOut(d.Created)), ptr(modelsOut(d.Updated))
	}
	return out
}

func modelOut(m *switchyard.Model) apigen.Model {
	sources := make(map[string]apigen.CapabilitySource, len(m.Sources))
	for k, v := range m.Sources {
		sources[k] = apigen.CapabilitySource(v)
	}
	status := m.Status
	if status == "" {
		status = switchyard.ModelUnknown
	}
	return apigen.Model{Id: m.ID, ProviderId: m.ProviderID, UpstreamId: m.UpstreamID, DisplayName: m.DisplayName,
		Aliases: orEmpty(slices.Clone(m.Aliases)), Enabled: m.Enabled, Status: apigen.ModelStatus(status),
		Capabilities: capabilitiesOut(m.Capabilities), Pricing: pricingOut(m.Pricing), Sources: sources,
		LastTest: testResultOut(m.LastTest), LastBenchmark: benchmarkOut(m.LastBenchmark), Version: m.Version,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

func modelsOut(ms []*switchyard.Model) []apigen.Model {
	out := make([]apigen.Model, len(ms))
	for i, m := range ms {
		out[i] = modelOut(m)
	}
	return out
}

// modelIn builds a new model: capabilities start from the defaults (source
// default), and those sent, with the pricing, become admin overrides.
func modelIn(providerID string, in *apigen.ModelCreate) *switchyard.Model {
	m := &switchyard.Model{ProviderID: providerID, UpstreamID: in.UpstreamId, DisplayName: deref(in.DisplayName),
		Enabled: in.Enabled == nil || *in.Enabled, Status: switchyard.ModelUnknown,
		Capabilities: switchyard.DefaultCapabilities(), Sources: map[string]switchyard.Source{}}
	if in.Aliases != nil {
		m.Aliases = slices.Clone(*in.Aliases)
	}
	for _, f := range switchyard.CapabilityFields {
		m.Sources[f] = switchyard.SourceDefault
	}
	caps, pricing, fields := capabilitiesIn(m.Capabilities, in.Capabilities, in.Pricing)
	m.ApplyCapabilities(caps, pricing, fields, switchyard.SourceOverride)
	return m
}

// applyModelPatch merges a patch into the stored model; capabilities and
// pricing sent become admin overrides.
func applyModelPatch(m *switchyard.Model, in *apigen.ModelPatch) {
	if in.UpstreamId != nil {
		m.UpstreamID = *in.UpstreamId
	}
	if in.DisplayName != nil {
		m.DisplayName = *in.DisplayName
	}
	if in.Aliases != nil {
		m.Aliases = slices.Clone(*in.Aliases)
	}
	if in.Enabled != nil {
		m.Enabled = *in.Enabled
	}
	if in.Status != nil {
		m.Status = switchyard.ModelStatus(*in.Status)
	}
	caps, pricing, fields := capabilitiesIn(m.Capabilities, in.Capabilities, in.Pricing)
	m.ApplyCapabilities(caps, pricing, fields, switchyard.SourceOverride)
}
