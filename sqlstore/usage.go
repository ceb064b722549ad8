package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

const usageCols = `id, at, request_id, connection_id, user_id, provider_id, model_id, model, upstream_model, stream,
	status, error_class, http_status, input_tokens, output_tokens, cached_input_tokens, latency_ms, ttft_ms,
	cost_usd, attempts`

// usageColCount is the number of columns in usageCols.
const usageColCount = 20

// usageChunk is how many rows one INSERT statement carries: 20 columns ×
// 100 rows stays far below both dialects' limits on bound parameters, and
// larger chunks were no faster (see docs/benchmarks.md).
const usageChunk = 100

// usageInsert returns a multi-row INSERT for n events. A row whose id is
// already stored is skipped, so that a retried batch is written once.
func usageInsert(n int) string {
	row := "(" + strings.Repeat("?, ", usageColCount-1) + "?)"
	var b strings.Builder
	b.Grow(len(usageCols) + 64 + n*(len(row)+2))
	b.WriteString("INSERT INTO usage_events (" + usageCols + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT (id) DO NOTHING")
	return b.String()
}

var usageInsertChunk = usageInsert(usageChunk)

// AppendUsage stores events in one transaction, in multi-row INSERTs of up
// to usageChunk rows. It sets the ID and At of events that lack them.
func (s *store) AppendUsage(ctx context.Context, events []switchyard.UsageEvent) error {
	if len(events) == 0 {
		return nil
	}
	var pr switchyard.Problems
	for i := range events {
		pr.Merge(fmt.Sprintf("[%d]", i), events[i].Validate())
	}
	if err := pr.Err("usage batch"); err != nil {
		return err
	}
	now := s.nowUTC()
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			e.ID = newID()
		}
		if e.At.IsZero() {
			e.At = now
		}
		e.At = e.At.UTC().Truncate(time.Microsecond)
	}
	var full *sql.Stmt
	if len(events) >= usageChunk {
		full = s.fullUsageChunkStmt(ctx)
	}
	return s.tx(ctx, func(t *store) error {
		args := make([]any, 0, min(len(events), usageChunk)*usageColCount)
		for start := 0; start < len(events); start += usageChunk {
			chunk := events[start:min(start+usageChunk, len(events))]
			args = args[:0]
			for i := range chunk {
				e := &chunk[i]
				args = append(args, e.ID, t.ts(e.At), e.RequestID, e.ConnectionID, e.UserID, e.ProviderID, e.ModelID,
					e.Model, e.UpstreamModel, e.Stream, e.Status, e.ErrorClass, e.HTTPStatus, e.InputTokens,
					e.OutputTokens, e.CachedInputTokens, e.LatencyMS, e.TTFTMS, e.CostUSD, e.Attempts)
			}
			var err error
			if tx, ok := t.q.(*sql.Tx); ok && full != nil && len(chunk) == usageChunk {
				_, err = tx.StmtContext(ctx, full).ExecContext(ctx, args...)
				err = t.db.dialect.classify(err)
			} else {
				q := usageInsertChunk
				if len(chunk) < usageChunk {
					q = usageInsert(len(chunk))
				}
				_, err = t.exec(ctx, q, args...)
			}
			if err != nil {
				return fmt.Errorf("append usage: %w", err)
			}
		}
		return touchConnections(ctx, t, events)
	})
}

// fullUsageChunkStmt returns the full-chunk INSERT, prepared on first
// use, or nil when it cannot be prepared now (the INSERT is then run
// unprepared). It is called outside any transaction: preparing takes a
// connection of the pool, which inside a transaction may be the only one.
func (s *store) fullUsageChunkStmt(ctx context.Context) *sql.Stmt {
	if s.inTx {
		return nil
	}
	p := &s.db.usageInsert
	p.Lock()
	defer p.Unlock()
	if p.stmt == nil {
		stmt, err := s.db.sql.PrepareContext(ctx, s.db.dialect.rebind(usageInsertChunk))
		if err != nil {
			return nil
		}
		p.stmt = stmt
	}
	return p.stmt
}

func scanUsage(sc interface{ Scan(...any) error }) (*switchyard.UsageEvent, error) {
	var e switchyard.UsageEvent
	err := sc.Scan(&e.ID, dbTime{&e.At}, &e.RequestID, &e.ConnectionID, &e.UserID, &e.ProviderID, &e.ModelID,
		&e.Model, &e.UpstreamModel, &e.Stream, &e.Status, &e.ErrorClass, &e.HTTPStatus, &e.InputTokens,
		&e.OutputTokens, &e.CachedInputTokens, &e.LatencyMS, &e.TTFTMS, &e.CostUSD, &e.Attempts)
	return &e, err
}

// ListUsage returns one page of events, newest first. The cursor holds the
// time and id of the last event of the previous page, so that a page never
// repeats or skips an event however many share a timestamp.
func (s *store) ListUsage(ctx context.Context, f switchyard.UsageFilter) (switchyard.Page[*switchyard.UsageEvent], error) {
	var none switchyard.Page[*switchyard.UsageEvent]
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return none, err
	}
	var w where
	if f.Cursor != "" {
		at, id, err := decodeUsageCursor(f.Cursor)
		if err != nil {
			return none, err
		}
		w.add("(at < ? OR (at = ? AND id < ?))", s.ts(at), s.ts(at), id)
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", s.ts(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", s.ts(f.Until))
	}
	for _, c := range []struct{ col, v string }{
		{"connection_id", f.ConnectionID}, {"provider_id", f.ProviderID}, {"model_id", f.ModelID}, {"status", f.Status},
	} {
		if c.v != "" {
			w.add(c.col+" = ?", c.v)
		}
	}
	q := `SELECT ` + usageCols + ` FROM usage_events` + w.String() + fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT %d", limit+1)
	items, err := queryAll(ctx, s, q, w.args, scanUsage)
	if err != nil {
		return none, fmt.Errorf("list usage: %w", err)
	}
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		return switchyard.Page[*switchyard.UsageEvent]{Items: items, NextCursor: encodeUsageCursor(last.At, last.ID)}, nil
	}
	return switchyard.Page[*switchyard.UsageEvent]{Items: items}, nil
}

// A usage cursor is the fixed-width time of the last event, "/", its id.
func encodeUsageCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(timeLayout) + "/" + id))
}

func decodeUsageCursor(c string) (time.Time, string, error) {
	bad := &switchyard.Error{Code: switchyard.EINVALID, Message: "cursor is not valid; pass the next_cursor of the previous page",
		Fields: []switchyard.FieldError{{Field: "cursor", Code: "invalid_cursor", Message: "pass the next_cursor of the previous page unchanged"}}}
	b, err := base64.RawURLEncoding.DecodeString(c)
	n := len(timeLayout)
	if err != nil || len(b) < n+2 || len(b) > 1024 || b[n] != '/' {
		return time.Time{}, "", bad
	}
	at, err := time.Parse(timeLayout, string(b[:n]))
	if err != nil {
		return time.Time{}, "", bad
	}
	return at, string(b[n+1:]), nil
}
