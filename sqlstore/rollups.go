package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// Interface guard.
var _ switchyard.RollupStore = (*DB)(nil)

// rollupLockKey is the PostgreSQL advisory lock (transaction-scoped) that
// makes rollup writers on several replicas take turns. It is this
// project's own number, apart from goose's migration lock.
const rollupLockKey int64 = 0x5359_0009_0000_0001

const rollupCols = `resolution, bucket, provider_id, model_id, connection_id, user_id, requests, errors, cancelled,
	error_classes, input_tokens, output_tokens, cached_input_tokens, cost_usd, latency_sum_ms, latency,
	ttft_count, ttft_sum_ms, ttft`

// rollupAllSQL is switchyard.RollupAll as an SQL literal.
const rollupAllSQL = "'" + switchyard.RollupAll + "'"

const (
	rollupColCount = 19
	rollupChunk    = 100
)

// ScanUsage calls fn with every event in [since, until), oldest first.
// Only the fields rollups use are read.
func (s *store) ScanUsage(ctx context.Context, since, until time.Time, fn func(*switchyard.UsageEvent) error) error {
	rows, err := s.query(ctx, `SELECT at, connection_id, user_id, provider_id, model_id, status, error_class,
		input_tokens, output_tokens, cached_input_tokens, latency_ms, ttft_ms, cost_usd
		FROM usage_events WHERE at >= ? AND at < ? ORDER BY at`, s.ts(since), s.ts(until))
	if err != nil {
		return fmt.Errorf("scan usage: %w", err)
	}
	var e switchyard.UsageEvent
	for rows.Next() {
		e = switchyard.UsageEvent{}
		if err := rows.Scan(dbTime{&e.At}, &e.ConnectionID, &e.UserID, &e.ProviderID, &e.ModelID, &e.Status,
			&e.ErrorClass, &e.InputTokens, &e.OutputTokens, &e.CachedInputTokens, &e.LatencyMS, &e.TTFTMS, &e.CostUSD); err != nil {
			rows.Close()
			return fmt.Errorf("scan usage: %w", err)
		}
		if err := fn(&e); err != nil {
			rows.Close()
			return err
		}
	}
	return closeRows(rows)
}

// FirstUsage returns the time of the oldest usage event.
func (s *store) FirstUsage(ctx context.Context) (time.Time, error) {
	var at time.Time
	err := s.queryRow(ctx, `SELECT at FROM usage_events ORDER BY at LIMIT 1`).Scan(dbTime{&at})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("first usage: %w", s.db.dialect.classify(err))
	}
	return at, nil
}

// ReplaceRollups rewrites the rollups of res in [since, until).
func (s *store) ReplaceRollups(ctx context.Context, res switchyard.Resolution, since, until time.Time,
	rows []switchyard.UsageRollup, mark time.Time) error {
	if !res.Valid() {
		return switchyard.Errorf(switchyard.EINVALID, "resolution %q is not minute, hour or day", res)
	}
	for i := range rows {
		r := &rows[i]
		if r.Resolution != res || r.Bucket.Before(since) || !r.Bucket.Before(until) {
			return switchyard.Errorf(switchyard.EINVALID, "rollup %d (%s at %s) is outside the %s window [%s, %s)",
				i, r.Resolution, r.Bucket.Format(time.RFC3339), res, since.Format(time.RFC3339), until.Format(time.RFC3339))
		}
	}
	return s.tx(ctx, func(t *store) error {
		if t.db.dialect.name() == "postgres" {
			if _, err := t.exec(ctx, "SELECT pg_advisory_xact_lock(?)", rollupLockKey); err != nil {
				return fmt.Errorf("rollup lock: %w", err)
			}
		}
		if _, err := t.exec(ctx, "DELETE FROM usage_rollups WHERE resolution = ? AND bucket >= ? AND bucket < ?",
			string(res), t.ts(since), t.ts(until)); err != nil {
			return fmt.Errorf("replace rollups: %w", err)
		}
		args := make([]any, 0, min(len(rows), rollupChunk)*rollupColCount)
		for start := 0; start < len(rows); start += rollupChunk {
			chunk := rows[start:min(start+rollupChunk, len(rows))]
			args = args[:0]
			for i := range chunk {
				r := &chunk[i]
				classes, err := jsonArg(r.ErrorClasses, "{}")
				if err != nil {
					return err
				}
				args = append(args, string(r.Resolution), t.ts(r.Bucket), r.ProviderID, r.ModelID, r.ConnectionID, r.UserID,
					r.Requests, r.Errors, r.Cancelled, classes, r.InputTokens, r.OutputTokens, r.CachedInputTokens,
					r.CostUSD, r.LatencySumMS, nullBytes(r.Latency), r.TTFTCount, r.TTFTSumMS, nullBytes(r.TTFT))
			}
			row := "(" + strings.Repeat("?, ", rollupColCount-1) + "?)"
			q := "INSERT INTO usage_rollups (" + rollupCols + ") VALUES " + strings.Repeat(row+", ", len(chunk)-1) + row
			if _, err := t.exec(ctx, q, args...); err != nil {
				return fmt.Errorf("replace rollups: %w", err)
			}
		}
		if mark.IsZero() {
			return nil
		}
		// The watermark only moves forward, whoever writes last.
		_, err := t.exec(ctx, `INSERT INTO usage_rollup_state (name, done_until) VALUES ('minute', ?)
			ON CONFLICT (name) DO UPDATE SET done_until = excluded.done_until
			WHERE usage_rollup_state.done_until < excluded.done_until`, t.ts(mark))
		if err != nil {
			return fmt.Errorf("rollup watermark: %w", err)
		}
		return nil
	})
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// ListRollups calls fn with every rollup f selects, oldest first.
func (s *store) ListRollups(ctx context.Context, f switchyard.RollupFilter, fn func(*switchyard.UsageRollup) error) error {
	if !f.Resolution.Valid() {
		return switchyard.Errorf(switchyard.EINVALID, "resolution %q is not minute, hour or day", f.Resolution)
	}
	if f.ConnectionIDs != nil && len(f.ConnectionIDs) == 0 {
		return nil
	}
	var w where
	w.add("resolution = ?", string(f.Resolution))
	// The kinds are told apart by literals, not parameters, so that the
	// planner knows which rows a query reads: the connections' totals
	// have a partial index of their own.
	switch f.Kind {
	case switchyard.RollupModelTotals:
		w.add("connection_id = " + rollupAllSQL)
	case switchyard.RollupConnectionTotals:
		w.add("provider_id = " + rollupAllSQL)
	default:
		w.add("connection_id <> " + rollupAllSQL + " AND provider_id <> " + rollupAllSQL)
	}
	if !f.Since.IsZero() {
		w.add("bucket >= ?", s.ts(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("bucket < ?", s.ts(f.Until))
	}
	for _, c := range []struct{ col, v string }{
		{"provider_id", f.ProviderID}, {"model_id", f.ModelID}, {"connection_id", f.ConnectionID},
	} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	if len(f.ConnectionIDs) > 0 {
		args := make([]any, len(f.ConnectionIDs))
		for i, id := range f.ConnectionIDs {
			args[i] = id
		}
		w.add("connection_id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+")", args...)
	}
	rows, err := s.query(ctx, "SELECT "+rollupCols+" FROM usage_rollups"+w.String()+" ORDER BY bucket", w.args...)
	if err != nil {
		return fmt.Errorf("list rollups: %w", err)
	}
	var r switchyard.UsageRollup
	var res, classes string
	// The histograms are read in place, not copied: fn must not keep them.
	var latency, ttft sql.RawBytes
	for rows.Next() {
		r = switchyard.UsageRollup{}
		if err := rows.Scan(&res, dbTime{&r.Bucket}, &r.ProviderID, &r.ModelID, &r.ConnectionID, &r.UserID,
			&r.Requests, &r.Errors, &r.Cancelled, &classes, &r.InputTokens, &r.OutputTokens, &r.CachedInputTokens,
			&r.CostUSD, &r.LatencySumMS, &latency, &r.TTFTCount, &r.TTFTSumMS, &ttft); err != nil {
			rows.Close()
			return fmt.Errorf("list rollups: %w", err)
		}
		r.Resolution = switchyard.Resolution(res)
		r.Latency, r.TTFT = latency, ttft
		if r.ErrorClasses, err = decodeErrorClasses(classes); err != nil {
			rows.Close()
			return fmt.Errorf("list rollups: error classes: %w", err)
		}
		if err := fn(&r); err != nil {
			rows.Close()
			return err
		}
	}
	return closeRows(rows)
}

// decodeErrorClasses reads the counts of error classes as ReplaceRollups
// wrote them ({"class":n,...}, or {} for none) without reflection: a report
// over many rollups reads one per row. Anything else goes through
// encoding/json.
func decodeErrorClasses(s string) (map[string]int64, error) {
	if s == "{}" || s == "" {
		return nil, nil
	}
	if m, ok := decodeClassesFast(s); ok {
		return m, nil
	}
	var m map[string]int64
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeClassesFast(s string) (map[string]int64, bool) {
	if len(s) < 2 || s[0] != '{' {
		return nil, false
	}
	m := map[string]int64{}
	rest := s[1:]
	for {
		if len(rest) == 0 || rest[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, false
		}
		key := rest[1 : 1+end]
		if strings.IndexByte(key, '\\') >= 0 {
			return nil, false
		}
		rest = rest[2+end:]
		if len(rest) == 0 || rest[0] != ':' {
			return nil, false
		}
		rest = rest[1:]
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return nil, false
		}
		m[key] = n
		rest = rest[i:]
		switch {
		case rest == "}":
			return m, true
		case len(rest) == 0 || rest[0] != ',':
			return nil, false
		}
		rest = rest[1:]
	}
}

// RollupWatermark returns how far the minute rollups have been built.
func (s *store) RollupWatermark(ctx context.Context) (time.Time, error) {
	var at time.Time
	err := s.queryRow(ctx, "SELECT done_until FROM usage_rollup_state WHERE name = 'minute'").Scan(dbTime{&at})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("rollup watermark: %w", s.db.dialect.classify(err))
	}
	return at, nil
}

// PruneUsage deletes raw events before t.
func (s *store) PruneUsage(ctx context.Context, before time.Time) (int64, error) {
	// Most runs find nothing to delete. The oldest event says so through
	// the index, whatever the planner knows of the table: without
	// statistics (autovacuum off, or not yet run) PostgreSQL reads the
	// whole table for the DELETE, a few seconds at 10 million events.
	first, err := s.FirstUsage(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune usage: %w", err)
	}
	if first.IsZero() || !first.Before(before) {
		return 0, nil
	}
	res, err := s.exec(ctx, "DELETE FROM usage_events WHERE at < ?", s.ts(before))
	if err != nil {
		return 0, fmt.Errorf("prune usage: %w", err)
	}
	return res.RowsAffected()
}

// PruneRollups deletes rollups of res before t.
func (s *store) PruneRollups(ctx context.Context, res switchyard.Resolution, before time.Time) (int64, error) {
	out, err := s.exec(ctx, "DELETE FROM usage_rollups WHERE resolution = ? AND bucket < ?", string(res), s.ts(before))
	if err != nil {
		return 0, fmt.Errorf("prune rollups: %w", err)
	}
	return out.RowsAffected()
}

// IngestWatermark returns how far (by write time) events have been looked
// at for late arrivals.
func (s *store) IngestWatermark(ctx context.Context) (time.Time, error) {
	var at time.Time
	err := s.queryRow(ctx, "SELECT done_until FROM usage_rollup_state WHERE name = 'ingested'").Scan(dbTime{&at})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("ingest watermark: %w", s.db.dialect.classify(err))
	}
	return at, nil
}

// SetIngestWatermark moves the ingest watermark forward.
func (s *store) SetIngestWatermark(ctx context.Context, t time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO usage_rollup_state (name, done_until) VALUES ('ingested', ?)
		ON CONFLICT (name) DO UPDATE SET done_until = excluded.done_until
		WHERE usage_rollup_state.done_until < excluded.done_until`, s.ts(t))
	if err != nil {
		return fmt.Errorf("ingest watermark: %w", err)
	}
	return nil
}

// idFloor is the smallest UUIDv7 text of the millisecond t: event ids are
// UUIDv7 made when the event is written, so an id range is a write-time
// range (the primary key's index answers it).
func idFloor(t time.Time) string {
	ms := uint64(t.UnixMilli())
	return fmt.Sprintf("%08x-%04x-0000-0000-000000000000", ms>>16, ms&0xffff)
}

// UsageMinutesWritten returns the distinct minutes of the events written
// after the given time and up to settle before now.
func (s *store) UsageMinutesWritten(ctx context.Context, after time.Time, settle time.Duration) ([]time.Time, time.Time, error) {
	upTo := s.now().UTC().Add(-settle)
	if after.IsZero() || !upTo.After(after) {
		return nil, upTo, nil
	}
	// By whole milliseconds, as the ids count time: the events of the
	// milliseconds in (after, upTo].
	next := func(t time.Time) string { return idFloor(t.Truncate(time.Millisecond).Add(time.Millisecond)) }
	rows, err := s.query(ctx, `SELECT at FROM usage_events WHERE id >= ? AND id < ?`, next(after), next(upTo))
	if err != nil {
		return nil, upTo, fmt.Errorf("usage minutes written: %w", err)
	}
	seen := map[time.Time]bool{}
	var out []time.Time
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(dbTime{&at}); err != nil {
			rows.Close()
			return nil, upTo, fmt.Errorf("usage minutes written: %w", err)
		}
		m := at.UTC().Truncate(time.Minute)
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, upTo, err
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out, upTo, nil
}
