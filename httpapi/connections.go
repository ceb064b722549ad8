package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// ListConnections lists connections: a user's own, or (admins) all.
func (h *handlers) ListConnections(ctx context.Context, req apigen.ListConnectionsRequestObject) (apigen.ListConnectionsResponseObject, error) {
	p := req.Params
	f := switchyard.ConnectionFilter{ListOptions: listOptions(p.Limit, p.Cursor), OwnerID: deref(p.OwnerId), ProviderID: deref(p.ProviderId)}
	page, err := h.ctl.ListConnections(ctx, actorFrom(ctx), f)
	if err != nil {
		return nil, err
	}
	out := apigen.ListConnections200JSONResponse{Items: make([]apigen.Connection, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, c := range page.Items {
		out.Items[i] = connectionOut(c)
	}
	return out, nil
}

// CreateConnection creates a connection; the response carries its gateway
// key, this once.
func (h *handlers) CreateConnection(ctx context.Context, req apigen.CreateConnectionRequestObject) (apigen.CreateConnectionResponseObject, error) {
	c, err := connectionIn(req.Body)
	if err != nil {
		return nil, err
	}
	key, err := h.ctl.CreateConnection(ctx, actorFrom(ctx), c)
	if err != nil {
		return nil, err
	}
	return apigen.CreateConnection201JSONResponse{Body: connectionWithKeyOut(c, key),
		Headers: apigen.CreateConnection201ResponseHeaders{ETag: etag(c.Version), Location: location("connections/" + c.ID)}}, nil
}

// GetConnection returns a connection.
func (h *handlers) GetConnection(ctx context.Context, req apigen.GetConnectionRequestObject) (apigen.GetConnectionResponseObject, error) {
	c, err := h.ctl.GetConnection(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetConnection200JSONResponse{Body: connectionOut(c), Headers: apigen.GetConnection200ResponseHeaders{ETag: etag(c.Version)}}, nil
}

// UpdateConnection applies a merge patch to a connection.
func (h *handlers) UpdateConnection(ctx context.Context, req apigen.UpdateConnectionRequestObject) (apigen.UpdateConnectionResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, err := h.ctl.UpdateConnection(ctx, actorFrom(ctx), req.Id, version, func(c *switchyard.Connection) error {
		return applyConnectionPatch(c, req.Body)
	})
	if err != nil {
		return nil, err
	}
	return apigen.UpdateConnection200JSONResponse{Body: connectionOut(c), Headers: apigen.UpdateConnection200ResponseHeaders{ETag: etag(c.Version)}}, nil
}

// DeleteConnection deletes a connection.
func (h *handlers) DeleteConnection(ctx context.Context, req apigen.DeleteConnectionRequestObject) (apigen.DeleteConnectionResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.DeleteConnection(ctx, actorFrom(ctx), req.Id, version); err != nil {
		return nil, err
	}
	return apigen.DeleteConnection204Response{}, nil
}

// RotateConnectionKey replaces a connection's gateway key; the response
// carries the new one, this once.
func (h *handlers) RotateConnectionKey(ctx context.Context, req apigen.RotateConnectionKeyRequestObject) (apigen.RotateConnectionKeyResponseObject, error) {
	c, key, err := h.ctl.RotateConnectionKey(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.RotateConnectionKey200JSONResponse{Body: connectionWithKeyOut(c, key),
		Headers: apigen.RotateConnectionKey200ResponseHeaders{ETag: etag(c.Version)}}, nil
}
