package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// ListProviders lists providers.
func (h *handlers) ListProviders(ctx context.Context, req apigen.ListProvidersRequestObject) (apigen.ListProvidersResponseObject, error) {
	p := req.Params
	f := switchyard.ProviderFilter{ListOptions: listOptions(p.Limit, p.Cursor), Enabled: p.Enabled, System: p.System,
		Search: deref(p.Q)}
	if p.Status != nil {
		f.Status = switchyard.ProviderStatus(*p.Status)
	}
	if p.Protocol != nil {
		f.Protocol = switchyard.Protocol(*p.Protocol)
	}
	page, err := h.ctl.ListProviders(ctx, actorFrom(ctx), f)
	if err != nil {
		return nil, err
	}
	out := apigen.ListProviders200JSONResponse{Items: make([]apigen.Provider, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, p := range page.Items {
		out.Items[i] = providerOut(p)
	}
	return out, nil
}

// CreateProvider creates a provider.
func (h *handlers) CreateProvider(ctx context.Context, req apigen.CreateProviderRequestObject) (apigen.CreateProviderResponseObject, error) {
	p := providerIn(req.Body)
	if err := h.ctl.CreateProvider(ctx, actorFrom(ctx), p); err != nil {
		return nil, err
	}
	return apigen.CreateProvider201JSONResponse{Body: providerOut(p),
		Headers: apigen.CreateProvider201ResponseHeaders{ETag: etag(p.Version), Location: location("providers/" + p.ID)}}, nil
}

// GetProvider returns a provider.
func (h *handlers) GetProvider(ctx context.Context, req apigen.GetProviderRequestObject) (apigen.GetProviderResponseObject, error) {
	p, err := h.ctl.GetProvider(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetProvider200JSONResponse{Body: providerOut(p), Headers: apigen.GetProvider200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

// UpdateProvider applies a merge patch to a provider.
func (h *handlers) UpdateProvider(ctx context.Context, req apigen.UpdateProviderRequestObject) (apigen.UpdateProviderResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	p, err := h.ctl.UpdateProvider(ctx, actorFrom(ctx), req.Id, version, func(p *switchyard.Provider) error {
		return applyProviderPatch(p, req.Body)
	})
	if err != nil {
		return nil, err
	}
	return apigen.UpdateProvider200JSONResponse{Body: providerOut(p), Headers: apigen.UpdateProvider200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

// DeleteProvider deletes a provider.
func (h *handlers) DeleteProvider(ctx context.Context, req apigen.DeleteProviderRequestObject) (apigen.DeleteProviderResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.DeleteProvider(ctx, actorFrom(ctx), req.Id, version); err != nil {
		return nil, err
	}
	return apigen.DeleteProvider204Response{}, nil
}

// EnableProvider enables a provider.
func (h *handlers) EnableProvider(ctx context.Context, req apigen.EnableProviderRequestObject) (apigen.EnableProviderResponseObject, error) {
	p, err := h.ctl.SetProviderEnabled(ctx, actorFrom(ctx), req.Id, true)
	if err != nil {
		return nil, err
	}
	return apigen.EnableProvider200JSONResponse{Body: providerOut(p), Headers: apigen.EnableProvider200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

// DisableProvider disables a provider.
func (h *handlers) DisableProvider(ctx context.Context, req apigen.DisableProviderRequestObject) (apigen.DisableProviderResponseObject, error) {
	p, err := h.ctl.SetProviderEnabled(ctx, actorFrom(ctx), req.Id, false)
	if err != nil {
		return nil, err
	}
	return apigen.DisableProvider200JSONResponse{Body: providerOut(p), Headers: apigen.DisableProvider200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

// TestProvider runs a stored provider's connectivity test.
func (h *handlers) TestProvider(ctx context.Context, req apigen.TestProviderRequestObject) (apigen.TestProviderResponseObject, error) {
	res, err := h.ctl.TestProvider(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.TestProvider200JSONResponse(providerTestOut(res)), nil
}

// TestProviderConfig tests a configuration without saving it.
func (h *handlers) TestProviderConfig(ctx context.Context, req apigen.TestProviderConfigRequestObject) (apigen.TestProviderConfigResponseObject, error) {
	res, err := h.ctl.TestProviderConfig(ctx, actorFrom(ctx), providerIn(req.Body))
	if err != nil {
		return nil, err
	}
	return apigen.TestProviderConfig200JSONResponse(providerTestOut(res)), nil
}

// GetRegistry shows what the gateway routes to.
func (h *handlers) GetRegistry(ctx context.Context, _ apigen.GetRegistryRequestObject) (apigen.GetRegistryResponseObject, error) {
	v, err := h.ctl.Registry(ctx, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	s := v.Snapshot
	out := apigen.GetRegistry200JSONResponse{Version: int64(s.Version), StoreVersion: s.StoreVersion, BuiltAt: s.BuiltAt,
		Reason: s.Reason, Models: s.Models, Providers: []apigen.RegistryProvider{}, Errors: []apigen.RegistryError{}}
	for _, p := range s.Providers {
		out.Providers = append(out.Providers, apigen.RegistryProvider{Id: p.ID, Slug: p.Slug, Protocol: apigen.Protocol(p.Protocol),
			Keys: len(p.Keys), Models: p.Models})
	}
	for _, e := range s.Errors {
		out.Errors = append(out.Errors, apigen.RegistryError{ProviderId: e.ProviderID, Provider: e.Provider, Message: e.Message})
	}
	if v.StaleError != "" {
		out.Stale = &apigen.RegistryStale{Since: v.StaleSince, Error: v.StaleError}
	}
	return out, nil
}
