package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
)

// Interface guard.
var _ switchyard.HealthRollupStore = (*DB)(nil)

// ScanHealthChecks calls fn with every check in [since, until), oldest
// first.
func (s *store) ScanHealthChecks(ctx context.Context, since, until time.Time, fn func(*switchyard.HealthCheck) error) error {
	rows, err := s.query(ctx, `SELECT id, provider_id, model_id, at, ok, latency_ms, code FROM health_checks
		WHERE at >= ? AND at < ? ORDER BY at`, s.ts(since), s.ts(until))
	if err != nil {
		return fmt.Errorf("scan health checks: %w", err)
	}
	for rows.Next() {
		c, err := scanHealthCheck(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("scan health checks: %w", err)
		}
		if err := fn(c); err != nil {
			rows.Close()
			return err
		}
	}
	return closeRows(rows)
}

// ReplaceHealthRollups rewrites the health rollups of res in [since,
// until) in one transaction (on PostgreSQL under the rollup lock, so that
// replicas take turns).
func (s *store) ReplaceHealthRollups(ctx context.Context, res switchyard.Resolution, since, until time.Time, rows []switchyard.HealthRollup) error {
	if !res.Valid() {
		return switchyard.Errorf(switchyard.EINVALID, "resolution %q is not minute, hour or day", res)
	}
	for i := range rows {
		if r := &rows[i]; r.Resolution != res || r.Bucket.Before(since) || !r.Bucket.Before(until) {
			return switchyard.Errorf(switchyard.EINVALID, "health rollup %d (%s at %s) is outside the %s window", i, r.Resolution, r.Bucket.Format(time.RFC3339), res)
		}
	}
	return s.tx(ctx, func(t *store) error {
		if t.db.dialect.name() == "postgres" {
			if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(?)", rollupLockKey); err != nil {
				return fmt.Errorf("rollup lock: %w", err)
			}
		}
		if _, err := t.exec(ctx, "DELETE FROM health_rollups WHERE resolution = ? AND bucket >= ? AND bucket < ?",
			string(res), t.ts(since), t.ts(until)); err != nil {
			return fmt.Errorf("replace health rollups: %w", err)
		}
		for i := range rows {
			r := &rows[i]
			if _, err := t.exec(ctx, `INSERT INTO health_rollups (resolution, provider_id, bucket, checks, ok, latency_sum_ms, latency)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, string(r.Resolution), r.ProviderID, t.ts(r.Bucket), r.Checks, r.OK, r.LatencySumMS, nullBytes(r.Latency)); err != nil {
				return fmt.Errorf("replace health rollups: %w", err)
			}
		}
		return nil
	})
}

// ListHealthRollups calls fn with the rollups of res in [since, until),
// oldest first.
func (s *store) ListHealthRollups(ctx context.Context, res switchyard.Resolution, providerID string, since, until time.Time, fn func(*switchyard.HealthRollup) error) error {
	var w where
	w.add("resolution = ?", string(res))
	w.add("bucket >= ?", s.ts(since))
	w.add("bucket < ?", s.ts(until))
	if providerID != "" {
		w.add("provider_id = ?", providerID)
	}
	rows, err := s.query(ctx, `SELECT resolution, provider_id, bucket, checks, ok, latency_sum_ms, latency FROM health_rollups`+
		w.String()+` ORDER BY bucket, provider_id`, w.args...)
	if err != nil {
		return fmt.Errorf("list health rollups: %w", err)
	}
	var r switchyard.HealthRollup
	for rows.Next() {
		r = switchyard.HealthRollup{}
		if err := rows.Scan(&r.Resolution, &r.ProviderID, dbTime{&r.Bucket}, &r.Checks, &r.OK, &r.LatencySumMS, &r.Latency); err != nil {
			rows.Close()
			return fmt.Errorf("list health rollups: %w", err)
		}
		if err := fn(&r); err != nil {
			rows.Close()
			return err
		}
	}
	return closeRows(rows)
}

// PruneHealthRollups deletes rollups of res older than before.
func (s *store) PruneHealthRollups(ctx context.Context, res switchyard.Resolution, before time.Time) (int64, error) {
	out, err := s.exec(ctx, "DELETE FROM health_rollups WHERE resolution = ? AND bucket < ?", string(res), s.ts(before))
	if err != nil {
		return 0, fmt.Errorf("prune health rollups: %w", err)
	}
	return out.RowsAffected()
}
