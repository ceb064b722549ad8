package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// ListUsers lists users (admins).
func (h *handlers) ListUsers(ctx context.Context, req apigen.ListUsersRequestObject) (apigen.ListUsersResponseObject, error) {
	p := req.Params
	f := switchyard.UserFilter{ListOptions: listOptions(p.Limit, p.Cursor)}
	if p.Role != nil {
		f.Role = switchyard.Role(*p.Role)
	}
	page, err := h.ctl.ListUsers(ctx, actorFrom(ctx), f)
	if err != nil {
		return nil, err
	}
	out := apigen.ListUsers200JSONResponse{Items: make([]apigen.User, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, u := range page.Items {
		out.Items[i] = userOut(u)
	}
	return out, nil
}

// CreateUser creates a user (admins).
func (h *handlers) CreateUser(ctx context.Context, req apigen.CreateUserRequestObject) (apigen.CreateUserResponseObject, error) {
	b := req.Body
	u := &switchyard.User{Username: b.Username, Email: deref(b.Email), Role: switchyard.Role(b.Role), Disabled: deref(b.Disabled)}
	if err := h.ctl.CreateUser(ctx, actorFrom(ctx), u, deref(b.Password)); err != nil {
		return nil, err
	}
	return apigen.CreateUser201JSONResponse{Body: userOut(u),
		Headers: apigen.CreateUser201ResponseHeaders{ETag: etag(u.Version), Location: location("users/" + u.ID)}}, nil
}

// GetUser returns a user: anyone for admins, oneself for users.
func (h *handlers) GetUser(ctx context.Context, req apigen.GetUserRequestObject) (apigen.GetUserResponseObject, error) {
	u, err := h.ctl.GetUser(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetUser200JSONResponse{Body: userOut(u), Headers: apigen.GetUser200ResponseHeaders{ETag: etag(u.Version)}}, nil
}

// UpdateUser changes a user.
func (h *handlers) UpdateUser(ctx context.Context, req apigen.UpdateUserRequestObject) (apigen.UpdateUserResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	b := req.Body
	ch := control.UserChange{Email: b.Email, Disabled: b.Disabled, Password: b.Password, CurrentPassword: b.CurrentPassword}
	if b.Role != nil {
		ch.Role = ptr(switchyard.Role(*b.Role))
	}
	u, err := h.ctl.UpdateUser(ctx, actorFrom(ctx), req.Id, version, ch)
	if err != nil {
		return nil, err
	}
	return apigen.UpdateUser200JSONResponse{Body: userOut(u), Headers: apigen.UpdateUser200ResponseHeaders{ETag: etag(u.Version)}}, nil
}

// DeleteUser deletes a user (admins).
func (h *handlers) DeleteUser(ctx context.Context, req apigen.DeleteUserRequestObject) (apigen.DeleteUserResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.DeleteUser(ctx, actorFrom(ctx), req.Id, version); err != nil {
		return nil, err
	}
	return apigen.DeleteUser204Response{}, nil
}
