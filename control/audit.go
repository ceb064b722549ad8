package control

import (
	"context"

	"github.com/switchyard/switchyard"
)

// ListAudit reads the audit log, newest first; admins only.
func (s *Service) ListAudit(ctx context.Context, a *Actor, f switchyard.AuditFilter) (switchyard.Page[*switchyard.AuditEntry], error) {
	if err := requireAdmin(a, "read the audit log"); err != nil {
		return switchyard.Page[*switchyard.AuditEntry]{}, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return switchyard.Page[*switchyard.AuditEntry]{}, &switchyard.Error{Code: switchyard.EINVALID,
			Message: "until must be after since",
			Fields:  []switchyard.FieldError{{Field: "until", Code: "out_of_range", Message: "must be later than since"}}}
	}
	return s.store.ListAudit(ctx, f)
}
