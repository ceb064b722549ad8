package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

func healthCheckOut(c *switchyard.HealthCheck) apigen.HealthCheck {
	out := apigen.HealthCheck{Id: c.ID, ProviderId: c.ProviderID, At: c.At, Ok: c.OK, LatencyMs: c.LatencyMS}
	if c.Code != "" {
		out.Code = ptr(c.Code)
	}
	if c.ModelID != "" {
		out.ModelId = ptr(c.ModelID)
	}
	return out
}

func statusChangeOut(c *switchyard.StatusChange) apigen.StatusChange {
	return apigen.StatusChange{Id: c.ID, ProviderId: c.ProviderID, At: c.At, From: apigen.ProviderStatus(c.From),
		To: apigen.ProviderStatus(c.To), Reason: c.Reason}
}

func cursorOut(c string) *string {
	if c == "" {
		return nil
	}
	return &c
}

// GetHealth shows every provider's health.
func (h *handlers) GetHealth(ctx context.Context, _ apigen.GetHealthRequestObject) (apigen.GetHealthResponseObject, error) {
	v, err := h.ctl.Health(ctx, actorFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := apigen.GetHealth200JSONResponse{ChecksEnabled: v.ChecksEnabled, Leader: v.Leader, Providers: []apigen.ProviderHealth{}}
	for _, ph := range v.Providers {
		p := ph.Provider
		o := apigen.ProviderHealth{ProviderId: p.ID, Name: p.Name, Slug: p.Slug, Status: apigen.ProviderStatus(p.EffectiveStatus()),
			ChecksEnabled: !p.Settings.HealthCheckDisabled}
		if ph.Change != nil {
			o.Reason, o.ChangedAt = ptr(ph.Change.Reason), ptr(ph.Change.At)
		}
		if ph.LastCheck != nil {
			o.LastCheck = ptr(healthCheckOut(ph.LastCheck))
		}
		out.Providers = append(out.Providers, o)
	}
	return out, nil
}

// GetProviderHealth shows a provider's status history and checks.
func (h *handlers) GetProviderHealth(ctx context.Context, req apigen.GetProviderHealthRequestObject) (apigen.GetProviderHealthResponseObject, error) {
	d, err := h.ctl.ProviderHealth(ctx, actorFrom(ctx), req.Id, deref(req.Params.Limit), deref(req.Params.ChangesCursor), deref(req.Params.ChecksCursor))
	if err != nil {
		return nil, err
	}
	out := apigen.GetProviderHealth200JSONResponse{ProviderId: d.Provider.ID, Status: apigen.ProviderStatus(d.Provider.EffectiveStatus()),
		Changes: apigen.StatusChangeList{Items: []apigen.StatusChange{}, NextCursor: cursorOut(d.Changes.NextCursor)},
		Checks:  apigen.HealthCheckList{Items: []apigen.HealthCheck{}, NextCursor: cursorOut(d.Checks.NextCursor)}}
	for _, c := range d.Changes.Items {
		out.Changes.Items = append(out.Changes.Items, statusChangeOut(c))
	}
	for _, c := range d.Checks.Items {
		out.Checks.Items = append(out.Checks.Items, healthCheckOut(c))
	}
	return out, nil
}

// CheckProviderHealth runs a health check now.
func (h *handlers) CheckProviderHealth(ctx context.Context, req apigen.CheckProviderHealthRequestObject) (apigen.CheckProviderHealthResponseObject, error) {
	c, err := h.ctl.CheckProviderHealth(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.CheckProviderHealth200JSONResponse(healthCheckOut(c)), nil
}

// StreamEvents serves the live event stream.
func (h *handlers) StreamEvents(ctx context.Context, req apigen.StreamEventsRequestObject) (apigen.StreamEventsResponseObject, error) {
	a := actorFrom(ctx)
	if a == nil || a.User == nil {
		return nil, switchyard.Errorf(switchyard.EUNAUTHORIZED, "authentication required")
	}
	if h.events == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "live events are not available in this process")
	}
	var after uint64
	if v := strings.TrimSpace(deref(req.Params.LastEventID)); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, &switchyard.Error{Code: switchyard.EINVALID, Message: "Last-Event-ID must be the id of an event this stream sent, such as 42",
				Fields: []switchyard.FieldError{{Field: "Last-Event-ID", Code: "invalid", Message: "must be a whole number"}}}
		}
		after = n
	}
	return eventStream{ctx: ctx, stop: h.streams, sub: h.events.Subscribe(after), admin: a.Admin(), heartbeat: h.heartbeat}, nil
}

// eventStream writes a subscription as server-sent events until the
// client goes, the subscription is cut off (the client then resumes with
// Last-Event-ID), or the server shuts down.
type eventStream struct {
	ctx, stop context.Context
	sub       *events.Subscription
	admin     bool
	heartbeat time.Duration
}

func (s eventStream) VisitStreamEventsResponse(w http.ResponseWriter) error {
	defer s.sub.Close()
	// The server's middleware wraps w; ResponseController finds the
	// flusher through Unwrap.
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 3000\n\n"); err != nil {
		return nil
	}
	if s.sub.Gap {
		_, _ = io.WriteString(w, "event: gap\ndata: {\"message\":\"some events were missed; read the current state again\"}\n\n")
	}
	if rc.Flush() != nil {
		return nil
	}
	t := time.NewTicker(s.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return nil
		case <-s.stop.Done():
			return nil
		case e, ok := <-s.sub.C():
			if !ok {
				return nil
			}
			if e.AdminOnly && !s.admin {
				continue
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, e.Data); err != nil {
				return nil
			}
		case <-t.C:
			if _, err := io.WriteString(w, ": heartbeat\n\n"); err != nil {
				return nil
			}
		}
		if rc.Flush() != nil {
			return nil
		}
	}
}
