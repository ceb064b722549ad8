package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
)

// maxReason bounds a stored status change reason.
const maxReason = 500

// AddHealthCheck stores a check result.
func (s *store) AddHealthCheck(ctx context.Context, c *switchyard.HealthCheck) error {
	if c.ProviderID == "" {
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "a health check belongs to a provider",
			Fields: []switchyard.FieldError{{Field: "provider_id", Code: "required", Message: "is required"}}}
	}
	if c.LatencyMS < 0 {
		c.LatencyMS = 0
	}
	if c.ID == "" {
		c.ID = newID()
	}
	if c.At.IsZero() {
		c.At = s.nowUTC()
	}
	c.At = c.At.UTC().Truncate(time.Microsecond)
	_, err := s.exec(ctx, `INSERT INTO health_checks (id, provider_id, model_id, at, ok, latency_ms, code) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.ProviderID, c.ModelID, s.ts(c.At), c.OK, c.LatencyMS, truncate(c.Code, 100))
	if err != nil {
		if switchyard.ErrorCode(err) == switchyard.ECONFLICT {
			return notFound("provider", c.ProviderID)
		}
		return fmt.Errorf("add health check: %w", err)
	}
	return nil
}

func scanHealthCheck(sc interface{ Scan(...any) error }) (*switchyard.HealthCheck, error) {
	var c switchyard.HealthCheck
	err := sc.Scan(&c.ID, &c.ProviderID, &c.ModelID, dbTime{&c.At}, &c.OK, &c.LatencyMS, &c.Code)
	return &c, err
}

// ListHealthChecks lists a provider's checks, newest first.
func (s *store) ListHealthChecks(ctx context.Context, providerID string, opts switchyard.ListOptions) (switchyard.Page[*switchyard.HealthCheck], error) {
	var w where
	w.add("provider_id = ?", providerID)
	tail, limit, err := paginate(&w, opts, true)
	if err != nil {
		return switchyard.Page[*switchyard.HealthCheck]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT id, provider_id, model_id, at, ok, latency_ms, code FROM health_checks`+w.String()+tail, w.args, scanHealthCheck)
	if err != nil {
		return switchyard.Page[*switchyard.HealthCheck]{}, fmt.Errorf("list health checks: %w", err)
	}
	return finishPage(items, limit, func(c *switchyard.HealthCheck) string { return c.ID }), nil
}

// ChangeProviderStatus sets the status and records the change in one
// transaction; the provider's version does not change.
func (s *store) ChangeProviderStatus(ctx context.Context, c *switchyard.StatusChange) error {
	switch c.To {
	case switchyard.StatusUnknown, switchyard.StatusHealthy, switchyard.StatusDegraded, switchyard.StatusDown:
	default:
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "status must be unknown, healthy, degraded or down",
			Fields: []switchyard.FieldError{{Field: "to", Code: "invalid_enum", Message: "must be unknown, healthy, degraded or down"}}}
	}
	return s.tx(ctx, func(t *store) error {
		if c.ID == "" {
			c.ID = newID()
		}
		if c.At.IsZero() {
			c.At = t.nowUTC()
		}
		c.At = c.At.UTC().Truncate(time.Microsecond)
		var from string
		err := t.queryRow(ctx, `SELECT health_status FROM providers WHERE id = ?`+t.db.dialect.forUpdate(), c.ProviderID).Scan(&from)
		if isNoRows(err) {
			return notFound("provider", c.ProviderID)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		if c.From == "" {
			c.From = switchyard.ProviderStatus(from)
		}
		if _, err := t.exec(ctx, `UPDATE providers SET health_status = ?, status_changed_at = ? WHERE id = ?`,
			string(c.To), t.ts(c.At), c.ProviderID); err != nil {
			return err
		}
		_, err = t.exec(ctx, `INSERT INTO provider_status_changes (id, provider_id, at, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.ProviderID, t.ts(c.At), string(c.From), string(c.To), truncate(c.Reason, maxReason))
		return err
	})
}

func scanStatusChange(sc interface{ Scan(...any) error }) (*switchyard.StatusChange, error) {
	var c switchyard.StatusChange
	err := sc.Scan(&c.ID, &c.ProviderID, dbTime{&c.At}, &c.From, &c.To, &c.Reason)
	return &c, err
}

// ListStatusChanges lists a provider's status changes, newest first.
func (s *store) ListStatusChanges(ctx context.Context, providerID string, opts switchyard.ListOptions) (switchyard.Page[*switchyard.StatusChange], error) {
	var w where
	w.add("provider_id = ?", providerID)
	tail, limit, err := paginate(&w, opts, true)
	if err != nil {
		return switchyard.Page[*switchyard.StatusChange]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT id, provider_id, at, from_status, to_status, reason FROM provider_status_changes`+w.String()+tail, w.args, scanStatusChange)
	if err != nil {
		return switchyard.Page[*switchyard.StatusChange]{}, fmt.Errorf("list status changes: %w", err)
	}
	return finishPage(items, limit, func(c *switchyard.StatusChange) string { return c.ID }), nil
}

// PruneHealth deletes checks and status changes older than before.
func (s *store) PruneHealth(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, table := range []string{"health_checks", "provider_status_changes"} {
		res, err := s.exec(ctx, `DELETE FROM `+table+` WHERE at < ?`, s.ts(before.UTC()))
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", table, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
