package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchyard/switchyard"
)

const auditCols = `id, at, actor_id, actor_name, action, resource_type, resource_id, before, after, remote_addr`

// AppendAudit records one entry. The caller removes secrets from Before and
// After; the store keeps what it is given.
func (s *store) AppendAudit(ctx context.Context, e *switchyard.AuditEntry) error {
	if e.Action == "" || e.ResourceType == "" {
		return switchyard.Errorf(switchyard.EINVALID, "an audit entry needs an action and a resource type")
	}
	if e.ID == "" {
		e.ID = newID()
	}
	if e.At.IsZero() {
		e.At = s.nowUTC()
	}
	_, err := s.exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, s.ts(e.At), e.ActorID, e.ActorName, e.Action, e.ResourceType, e.ResourceID, rawOrNil(e.Before), rawOrNil(e.After), e.RemoteAddr)
	return err
}

func rawOrNil(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return string(r)
}

func scanAudit(sc interface{ Scan(...any) error }) (*switchyard.AuditEntry, error) {
	var e switchyard.AuditEntry
	var before, after json.RawMessage
	err := sc.Scan(&e.ID, dbTime{&e.At}, &e.ActorID, &e.ActorName, &e.Action, &e.ResourceType, &e.ResourceID,
		jsonCol{&before}, jsonCol{&after}, &e.RemoteAddr)
	e.Before, e.After = before, after
	return &e, err
}

// ListAudit returns one page of entries, newest first.
func (s *store) ListAudit(ctx context.Context, f switchyard.AuditFilter) (switchyard.Page[*switchyard.AuditEntry], error) {
	var w where
	if f.ResourceType != "" {
		w.add("resource_type = ?", f.ResourceType)
	}
	if f.ResourceID != "" {
		w.add("resource_id = ?", f.ResourceID)
	}
	if f.ActorID != "" {
		w.add("actor_id = ?", f.ActorID)
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", s.ts(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", s.ts(f.Until))
	}
	tail, limit, err := paginate(&w, f.ListOptions, true)
	if err != nil {
		return switchyard.Page[*switchyard.AuditEntry]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT `+auditCols+` FROM audit_log`+w.String()+tail, w.args, scanAudit)
	if err != nil {
		return switchyard.Page[*switchyard.AuditEntry]{}, fmt.Errorf("list audit: %w", err)
	}
	return finishPage(items, limit, func(e *switchyard.AuditEntry) string { return e.ID }), nil
}
