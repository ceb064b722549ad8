package httpapi

import (
	"context"

	"github.com/switchyard/switchyard/httpapi/apigen"
)

// Placeholders for the template operations until their handlers land;
// each answers 501 through errNotImplemented.

func (h *handlers) ListTemplates(context.Context, apigen.ListTemplatesRequestObject) (apigen.ListTemplatesResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) CreateTemplate(context.Context, apigen.CreateTemplateRequestObject) (apigen.CreateTemplateResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) DeleteTemplate(context.Context, apigen.DeleteTemplateRequestObject) (apigen.DeleteTemplateResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) GetTemplate(context.Context, apigen.GetTemplateRequestObject) (apigen.GetTemplateResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) UpdateTemplate(context.Context, apigen.UpdateTemplateRequestObject) (apigen.UpdateTemplateResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) InstantiateTemplate(context.Context, apigen.InstantiateTemplateRequestObject) (apigen.InstantiateTemplateResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) PreviewTemplate(context.Context, apigen.PreviewTemplateRequestObject) (apigen.PreviewTemplateResponseObject, error) {
	return nil, errNotImplemented
}
