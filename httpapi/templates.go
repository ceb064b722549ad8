package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// ListTemplates lists templates.
func (h *handlers) ListTemplates(ctx context.Context, req apigen.ListTemplatesRequestObject) (apigen.ListTemplatesResponseObject, error) {
	p := req.Params
	f := switchyard.TemplateFilter{ListOptions: listOptions(p.Limit, p.Cursor), System: p.System, Search: deref(p.Q)}
	if p.Protocol != nil {
		f.Protocol = switchyard.Protocol(*p.Protocol)
	}
	page, err := h.ctl.ListTemplates(ctx, actorFrom(ctx), f)
	if err != nil {
		return nil, err
	}
	out := apigen.ListTemplates200JSONResponse{Items: make([]apigen.Template, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, t := range page.Items {
		out.Items[i] = templateOut(t)
	}
	return out, nil
}

// CreateTemplate creates a custom template.
func (h *handlers) CreateTemplate(ctx context.Context, req apigen.CreateTemplateRequestObject) (apigen.CreateTemplateResponseObject, error) {
	t, err := templateIn(req.Body)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.CreateTemplate(ctx, actorFrom(ctx), t); err != nil {
		return nil, err
	}
	return apigen.CreateTemplate201JSONResponse{Body: templateOut(t),
		Headers: apigen.CreateTemplate201ResponseHeaders{ETag: etag(t.Version), Location: location("templates/" + t.ID)}}, nil
}

// GetTemplate returns a template by id or slug.
func (h *handlers) GetTemplate(ctx context.Context, req apigen.GetTemplateRequestObject) (apigen.GetTemplateResponseObject, error) {
	t, err := h.ctl.GetTemplate(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetTemplate200JSONResponse{Body: templateOut(t), Headers: apigen.GetTemplate200ResponseHeaders{ETag: etag(t.Version)}}, nil
}

// UpdateTemplate applies a merge patch to a custom template.
func (h *handlers) UpdateTemplate(ctx context.Context, req apigen.UpdateTemplateRequestObject) (apigen.UpdateTemplateResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	t, err := h.ctl.UpdateTemplate(ctx, actorFrom(ctx), req.Id, version, func(t *switchyard.ProviderTemplate) error {
		return applyTemplatePatch(t, req.Body)
	})
	if err != nil {
		return nil, err
	}
	return apigen.UpdateTemplate200JSONResponse{Body: templateOut(t), Headers: apigen.UpdateTemplate200ResponseHeaders{ETag: etag(t.Version)}}, nil
}

// DeleteTemplate deletes a custom template.
func (h *handlers) DeleteTemplate(ctx context.Context, req apigen.DeleteTemplateRequestObject) (apigen.DeleteTemplateResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.DeleteTemplate(ctx, actorFrom(ctx), req.Id, version); err != nil {
		return nil, err
	}
	return apigen.DeleteTemplate204Response{}, nil
}

// PreviewTemplate shows what instantiating a template would create.
func (h *handlers) PreviewTemplate(ctx context.Context, req apigen.PreviewTemplateRequestObject) (apigen.PreviewTemplateResponseObject, error) {
	p, models, err := h.ctl.PreviewTemplate(ctx, actorFrom(ctx), req.Id, instantiateIn(req.Body))
	if err != nil {
		return nil, err
	}
	return apigen.PreviewTemplate200JSONResponse(instantiateOut(p, models)), nil
}

// InstantiateTemplate creates a provider and its models from a template.
func (h *handlers) InstantiateTemplate(ctx context.Context, req apigen.InstantiateTemplateRequestObject) (apigen.InstantiateTemplateResponseObject, error) {
	p, models, err := h.ctl.InstantiateTemplate(ctx, actorFrom(ctx), req.Id, instantiateIn(req.Body))
	if err != nil {
		return nil, err
	}
	return apigen.InstantiateTemplate201JSONResponse{Body: instantiateOut(p, models),
		Headers: apigen.InstantiateTemplate201ResponseHeaders{Location: location("providers/" + p.ID)}}, nil
}
