package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// ListAudit reads the audit log (admins), newest first.
func (h *handlers) ListAudit(ctx context.Context, req apigen.ListAuditRequestObject) (apigen.ListAuditResponseObject, error) {
	p := req.Params
	f := switchyard.AuditFilter{ListOptions: listOptions(p.Limit, p.Cursor), ResourceType: deref(p.ResourceType),
		ResourceID: deref(p.ResourceId), ActorID: deref(p.ActorId), Since: deref(p.Since), Until: deref(p.Until)}
	page, err := h.ctl.ListAudit(ctx, actorFrom(ctx), f)
	if err != nil {
		return nil, err
	}
	out := apigen.ListAudit200JSONResponse{Items: make([]apigen.AuditEntry, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, e := range page.Items {
		out.Items[i] = auditOut(e)
	}
	return out, nil
}
