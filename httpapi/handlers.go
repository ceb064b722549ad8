package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// handlers implements every operation of the OpenAPI document. Each one
// translates the wire types to the domain, calls the control plane, and
// translates back; an error it returns becomes a problem in problem.go.
type handlers struct {
	ctl           *control.Service
	log           *slog.Logger
	secureCookies bool
	sessionTTL    time.Duration
	events        *events.Broker
	streams       context.Context
	heartbeat     time.Duration
}

// Interface guard.
var _ apigen.StrictServerInterface = (*handlers)(nil)

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// etag is a resource's ETag: its version, quoted.
func etag(version int64) *string { return ptr(`"` + strconv.FormatInt(version, 10) + `"`) }

// ifMatch reads an If-Match header: absent or "*" is 0 (any version).
func ifMatch(h *string) (int64, error) {
	v := strings.TrimSpace(deref(h))
	if v == "" || v == "*" {
		return 0, nil
	}
	v = strings.TrimPrefix(v, "W/")
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n <= 0 {
		return 0, &switchyard.Error{Code: switchyard.ESTALE,
			Message: "If-Match must be the ETag from a GET of this resource, such as \"3\""}
	}
	return n, nil
}

func listOptions(limit *int, cursor *string) switchyard.ListOptions {
	return switchyard.ListOptions{Limit: deref(limit), Cursor: deref(cursor)}
}

func nextCursor(c string) *string {
	if c == "" {
		return nil
	}
	return &c
}

// location is the URL of a resource under /api/v1.
func location(path string) *string { return ptr("/api/v1/" + path) }

// --- session ---

func (h *handlers) sessionCookie(value string, maxAge int) *string {
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: h.secureCookies, MaxAge: maxAge}
	return ptr(c.String())
}

// CreateSession logs in.
func (h *handlers) CreateSession(ctx context.Context, req apigen.CreateSessionRequestObject) (apigen.CreateSessionResponseObject, error) {
	ns, err := h.ctl.Login(ctx, req.Body.Username, req.Body.Password, remoteAddrFrom(ctx))
	if err != nil {
		return nil, err
	}
	return apigen.CreateSession200JSONResponse{
		Body: apigen.Session{User: userOut(ns.User), CsrfToken: &ns.Session.CSRFToken, ExpiresAt: &ns.Session.ExpiresAt},
		Headers: apigen.CreateSession200ResponseHeaders{
			SetCookie: h.sessionCookie(ns.Token, int(time.Until(ns.Session.ExpiresAt).Seconds()))},
	}, nil
}

// GetSession returns the caller.
func (h *handlers) GetSession(ctx context.Context, _ apigen.GetSessionRequestObject) (apigen.GetSessionResponseObject, error) {
	a := actorFrom(ctx)
	out := apigen.Session{User: userOut(a.User)}
	if a.Session != nil {
		out.CsrfToken, out.ExpiresAt = &a.Session.CSRFToken, &a.Session.ExpiresAt
	}
	return apigen.GetSession200JSONResponse(out), nil
}

// DeleteSession logs out.
func (h *handlers) DeleteSession(ctx context.Context, _ apigen.DeleteSessionRequestObject) (apigen.DeleteSessionResponseObject, error) {
	if err := h.ctl.Logout(ctx, actorFrom(ctx)); err != nil {
		return nil, err
	}
	return apigen.DeleteSession204Response{Headers: apigen.DeleteSession204ResponseHeaders{SetCookie: h.sessionCookie("", -1)}}, nil
}
