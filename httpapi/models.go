package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

func modelPage(page switchyard.Page[*switchyard.Model]) apigen.ModelList {
	return apigen.ModelList{Items: modelsOut(page.Items), NextCursor: nextCursor(page.NextCursor)}
}

// ListProviderModels lists a provider's models.
func (h *handlers) ListProviderModels(ctx context.Context, req apigen.ListProviderModelsRequestObject) (apigen.ListProviderModelsResponseObject, error) {
	p := req.Params
	f := switchyard.ModelFilter{ListOptions: listOptions(p.Limit, p.Cursor), Enabled: p.Enabled, Search: deref(p.Q)}
	page, err := h.ctl.ListProviderModels(ctx, actorFrom(ctx), req.Id, f)
	if err != nil {
		return nil, err
	}
	return apigen.ListProviderModels200JSONResponse(modelPage(page)), nil
}

// CreateProviderModel adds a model to a provider.
func (h *handlers) CreateProviderModel(ctx context.Context, req apigen.CreateProviderModelRequestObject) (apigen.CreateProviderModelResponseObject, error) {
	m := modelIn(req.Id, req.Body)
	if err := h.ctl.CreateModel(ctx, actorFrom(ctx), m); err != nil {
		return nil, err
	}
	return apigen.CreateProviderModel201JSONResponse{Body: modelOut(m),
		Headers: apigen.CreateProviderModel201ResponseHeaders{ETag: etag(m.Version), Location: location("models/" + m.ID)}}, nil
}

// BulkProviderModels creates, updates and deletes many models, all or
// nothing.
func (h *handlers) BulkProviderModels(ctx context.Context, req apigen.BulkProviderModelsRequestObject) (apigen.BulkProviderModelsResponseObject, error) {
	ops := make([]control.BulkOp, len(req.Body.Operations))
	for i, in := range req.Body.Operations {
		ops[i] = bulkOpIn(req.Id, in)
	}
	results, err := h.ctl.BulkModels(ctx, actorFrom(ctx), req.Id, ops)
	if results == nil {
		// Refused as a whole (not allowed, no such provider): a problem.
		return nil, err
	}
	out := apigen.BulkModelsResult{Applied: err == nil, Results: make([]apigen.BulkModelResult, len(results))}
	for i, r := range results {
		out.Results[i] = apigen.BulkModelResult{Index: r.Index, Op: apigen.BulkModelResultOp(r.Op),
			Status: apigen.BulkModelResultStatus(r.Status)}
		if r.ID != "" {
			out.Results[i].Id = ptr(r.ID)
		}
		if r.Err != nil {
			p := problemOf(r.Err)
			if rid := requestIDFrom(ctx); rid != "" {
				p.RequestId = &rid
			}
			out.Results[i].Error = &p
		}
	}
	switch switchyard.ErrorCode(err) {
	case "":
		return apigen.BulkProviderModels200JSONResponse(out), nil
	case switchyard.EINVALID:
		return apigen.BulkProviderModels400JSONResponse{BulkModelsFailedJSONResponse: apigen.BulkModelsFailedJSONResponse(out)}, nil
	case switchyard.ENOTFOUND:
		return apigen.BulkProviderModels404JSONResponse(out), nil
	case switchyard.ECONFLICT:
		return apigen.BulkProviderModels409JSONResponse(out), nil
	case switchyard.ESTALE:
		return apigen.BulkProviderModels412JSONResponse(out), nil
	}
	// Anything else (the database failing) is a problem of its own.
	return nil, err
}

// bulkOpIn translates one bulk operation.
func bulkOpIn(providerID string, in apigen.BulkModelOperation) control.BulkOp {
	op := control.BulkOp{Op: string(in.Op), ID: deref(in.Id), Version: deref(in.Version)}
	var pr switchyard.Problems
	switch op.Op {
	case control.BulkCreate:
		if in.Patch != nil {
			pr.Add("patch", "not_allowed", "a create operation takes the new model as model, not patch")
		}
		if in.Version != nil {
			pr.Add("version", "not_allowed", "a create operation takes no version")
		}
		if in.Model != nil {
			op.Model = modelIn(providerID, in.Model)
		}
	case control.BulkUpdate:
		if in.Model != nil {
			pr.Add("model", "not_allowed", "an update operation takes its changes as patch, not model")
		}
		if in.Patch != nil {
			patch := in.Patch
			op.Change = func(m *switchyard.Model) error {
				applyModelPatch(m, patch)
				return nil
			}
		}
	case control.BulkDelete:
		if in.Model != nil {
			pr.Add("model", "not_allowed", "a delete operation takes only id and version")
		}
		if in.Patch != nil {
			pr.Add("patch", "not_allowed", "a delete operation takes only id and version")
		}
	}
	op.Invalid = pr.Err(op.Op + " operation")
	return op
}

// ListModels lists models across providers.
func (h *handlers) ListModels(ctx context.Context, req apigen.ListModelsRequestObject) (apigen.ListModelsResponseObject, error) {
	p := req.Params
	f := switchyard.ModelFilter{ListOptions: listOptions(p.Limit, p.Cursor), ProviderID: deref(p.ProviderId),
		Enabled: p.Enabled, Search: deref(p.Q)}
	page, err := h.ctl.ListModels(ctx, actorFrom(ctx), f)
	if err != nil {
		return nil, err
	}
	return apigen.ListModels200JSONResponse(modelPage(page)), nil
}

// GetModel returns a model.
func (h *handlers) GetModel(ctx context.Context, req apigen.GetModelRequestObject) (apigen.GetModelResponseObject, error) {
	m, err := h.ctl.GetModel(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetModel200JSONResponse{Body: modelOut(m), Headers: apigen.GetModel200ResponseHeaders{ETag: etag(m.Version)}}, nil
}

// UpdateModel applies a merge patch to a model.
func (h *handlers) UpdateModel(ctx context.Context, req apigen.UpdateModelRequestObject) (apigen.UpdateModelResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	m, err := h.ctl.UpdateModel(ctx, actorFrom(ctx), req.Id, version, func(m *switchyard.Model) error {
		applyModelPatch(m, req.Body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return apigen.UpdateModel200JSONResponse{Body: modelOut(m), Headers: apigen.UpdateModel200ResponseHeaders{ETag: etag(m.Version)}}, nil
}

// DeleteModel deletes a model.
func (h *handlers) DeleteModel(ctx context.Context, req apigen.DeleteModelRequestObject) (apigen.DeleteModelResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.DeleteModel(ctx, actorFrom(ctx), req.Id, version); err != nil {
		return nil, err
	}
	return apigen.DeleteModel204Response{}, nil
}
