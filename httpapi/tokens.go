package httpapi

import (
	"context"

	"github.com/switchyard/switchyard/httpapi/apigen"
)

// ListTokens lists the caller's API tokens, or (admins) another user's.
func (h *handlers) ListTokens(ctx context.Context, req apigen.ListTokensRequestObject) (apigen.ListTokensResponseObject, error) {
	ts, err := h.ctl.ListTokens(ctx, actorFrom(ctx), deref(req.Params.UserId))
	if err != nil {
		return nil, err
	}
	out := apigen.ListTokens200JSONResponse{Items: make([]apigen.Token, len(ts))}
	for i, t := range ts {
		out.Items[i] = tokenOut(t)
	}
	return out, nil
}

// CreateToken creates an API token for the caller; the response carries it,
// this once.
func (h *handlers) CreateToken(ctx context.Context, req apigen.CreateTokenRequestObject) (apigen.CreateTokenResponseObject, error) {
	t, token, err := h.ctl.CreateToken(ctx, actorFrom(ctx), req.Body.Name, deref(req.Body.ExpiresInDays))
	if err != nil {
		return nil, err
	}
	return apigen.CreateToken201JSONResponse(tokenWithSecretOut(t, token)), nil
}

// RevokeToken revokes an API token.
func (h *handlers) RevokeToken(ctx context.Context, req apigen.RevokeTokenRequestObject) (apigen.RevokeTokenResponseObject, error) {
	if err := h.ctl.RevokeToken(ctx, actorFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return apigen.RevokeToken204Response{}, nil
}
