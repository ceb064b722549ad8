package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// ConnectionSpend sums the cost of the connections' events at or after
// since, by connection (index usage_events_connection_at).
func (s *store) ConnectionSpend(ctx context.Context, ids []string, since time.Time) (map[string]float64, error) {
	out := make(map[string]float64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(ids)+1)
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, s.ts(since))
	q := `SELECT connection_id, SUM(cost_usd) FROM usage_events WHERE connection_id IN (` +
		strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `) AND at >= ? GROUP BY connection_id`
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("connection spend: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var usd float64
		if err := rows.Scan(&id, &usd); err != nil {
			return nil, fmt.Errorf("connection spend: %w", err)
		}
		out[id] = usd
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("connection spend: %w", err)
	}
	return out, nil
}

// touchConnections moves each connection's last_used_at forward to its
// newest event in the batch. It changes neither the version nor
// updated_at: being used is not an edit.
func touchConnections(ctx context.Context, t *store, events []switchyard.UsageEvent) error {
	latest := map[string]time.Time{}
	for i := range events {
		e := &events[i]
		if e.ConnectionID != "" && e.At.After(latest[e.ConnectionID]) {
			latest[e.ConnectionID] = e.At
		}
	}
	for id, at := range latest {
		if _, err := t.exec(ctx, `UPDATE connections SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
			t.ts(at), id, t.ts(at)); err != nil {
			return fmt.Errorf("connection last used: %w", err)
		}
	}
	return nil
}
