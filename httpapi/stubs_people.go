package httpapi

import (
	"context"

	"github.com/switchyard/switchyard/httpapi/apigen"
)

// Placeholders for the connection, user, token and audit operations until their handlers land;
// each answers 501 through errNotImplemented.

func (h *handlers) ListAudit(context.Context, apigen.ListAuditRequestObject) (apigen.ListAuditResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) ListConnections(context.Context, apigen.ListConnectionsRequestObject) (apigen.ListConnectionsResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) CreateConnection(context.Context, apigen.CreateConnectionRequestObject) (apigen.CreateConnectionResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) DeleteConnection(context.Context, apigen.DeleteConnectionRequestObject) (apigen.DeleteConnectionResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) GetConnection(context.Context, apigen.GetConnectionRequestObject) (apigen.GetConnectionResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) UpdateConnection(context.Context, apigen.UpdateConnectionRequestObject) (apigen.UpdateConnectionResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) RotateConnectionKey(context.Context, apigen.RotateConnectionKeyRequestObject) (apigen.RotateConnectionKeyResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) ListTokens(context.Context, apigen.ListTokensRequestObject) (apigen.ListTokensResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) CreateToken(context.Context, apigen.CreateTokenRequestObject) (apigen.CreateTokenResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) RevokeToken(context.Context, apigen.RevokeTokenRequestObject) (apigen.RevokeTokenResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) ListUsers(context.Context, apigen.ListUsersRequestObject) (apigen.ListUsersResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) CreateUser(context.Context, apigen.CreateUserRequestObject) (apigen.CreateUserResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) DeleteUser(context.Context, apigen.DeleteUserRequestObject) (apigen.DeleteUserResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) GetUser(context.Context, apigen.GetUserRequestObject) (apigen.GetUserResponseObject, error) {
	return nil, errNotImplemented
}

func (h *handlers) UpdateUser(context.Context, apigen.UpdateUserRequestObject) (apigen.UpdateUserResponseObject, error) {
	return nil, errNotImplemented
}
