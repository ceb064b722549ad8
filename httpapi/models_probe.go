package httpapi

import (
	"context"

	"github.com/switchyard/switchyard/httpapi/apigen"
)

// DiscoverProviderModels compares the provider's model list with its models.
func (h *handlers) DiscoverProviderModels(ctx context.Context, req apigen.DiscoverProviderModelsRequestObject) (apigen.DiscoverProviderModelsResponseObject, error) {
	d, err := h.ctl.DiscoverModels(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.DiscoverProviderModels200JSONResponse(discoveryOut(d)), nil
}

// ImportProviderModels imports chosen models of the provider's list.
func (h *handlers) ImportProviderModels(ctx context.Context, req apigen.ImportProviderModelsRequestObject) (apigen.ImportProviderModelsResponseObject, error) {
	d, err := h.ctl.ImportModels(ctx, actorFrom(ctx), req.Id, req.Body.UpstreamIds)
	if err != nil {
		return nil, err
	}
	return apigen.ImportProviderModels200JSONResponse(discoveryOut(d)), nil
}

// TestModel tests a model with a real call.
func (h *handlers) TestModel(ctx context.Context, req apigen.TestModelRequestObject) (apigen.TestModelResponseObject, error) {
	res, err := h.ctl.TestModel(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.TestModel200JSONResponse(*testResultOut(res)), nil
}

// StartModelBenchmark starts a benchmark run.
func (h *handlers) StartModelBenchmark(ctx context.Context, req apigen.StartModelBenchmarkRequestObject) (apigen.StartModelBenchmarkResponseObject, error) {
	var requests, concurrency int
	if req.Body != nil {
		requests, concurrency = deref(req.Body.Requests), deref(req.Body.Concurrency)
	}
	r, err := h.ctl.StartBenchmark(ctx, actorFrom(ctx), req.Id, requests, concurrency)
	if err != nil {
		return nil, err
	}
	return apigen.StartModelBenchmark202JSONResponse(benchmarkRunOut(r)), nil
}

// GetModelBenchmark shows the running or last benchmark.
func (h *handlers) GetModelBenchmark(ctx context.Context, req apigen.GetModelBenchmarkRequestObject) (apigen.GetModelBenchmarkResponseObject, error) {
	r, err := h.ctl.GetBenchmark(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetModelBenchmark200JSONResponse(benchmarkRunOut(r)), nil
}

// CancelModelBenchmark stops the running benchmark.
func (h *handlers) CancelModelBenchmark(ctx context.Context, req apigen.CancelModelBenchmarkRequestObject) (apigen.CancelModelBenchmarkResponseObject, error) {
	r, err := h.ctl.CancelBenchmark(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.CancelModelBenchmark200JSONResponse(benchmarkRunOut(r)), nil
}

// ListModelBenchmarks lists the benchmark history.
func (h *handlers) ListModelBenchmarks(ctx context.Context, req apigen.ListModelBenchmarksRequestObject) (apigen.ListModelBenchmarksResponseObject, error) {
	page, err := h.ctl.ListBenchmarks(ctx, actorFrom(ctx), req.Id, listOptions(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := apigen.ListModelBenchmarks200JSONResponse{Items: make([]apigen.BenchmarkResult, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, b := range page.Items {
		out.Items[i] = *benchmarkOut(b)
	}
	return out, nil
}
