package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
)

// SetModelTest stores a model's latest test and status without changing its
// version.
func (s *store) SetModelTest(ctx context.Context, id string, status switchyard.ModelStatus, t *switchyard.TestResult) error {
	switch status {
	case switchyard.ModelUnknown, switchyard.ModelAvailable, switchyard.ModelUnavailable, switchyard.ModelDeprecated:
	default:
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "status must be unknown, available, unavailable or deprecated",
			Fields: []switchyard.FieldError{{Field: "status", Code: "invalid_enum", Message: "must be unknown, available, unavailable or deprecated"}}}
	}
	v, err := nullJSONArg(t)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, `UPDATE models SET status = ?, last_test = ? WHERE id = ?`, string(status), v, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("model", id)
	}
	return nil
}

// AddBenchmark keeps a finished benchmark in the model's history; a
// completed one also becomes the model's last benchmark.
func (s *store) AddBenchmark(ctx context.Context, b *switchyard.BenchmarkResult) error {
	if b.ModelID == "" {
		return switchyard.Errorf(switchyard.EINVALID, "a benchmark belongs to a model")
	}
	if b.Status != switchyard.BenchmarkCompleted && b.Status != switchyard.BenchmarkCancelled {
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "a stored benchmark is completed or cancelled",
			Fields: []switchyard.FieldError{{Field: "status", Code: "invalid_enum", Message: "must be completed or cancelled"}}}
	}
	return s.tx(ctx, func(t *store) error {
		if b.ID == "" {
			b.ID = newID()
		}
		if b.At.IsZero() {
			b.At = t.nowUTC()
		}
		b.At = b.At.UTC().Truncate(time.Microsecond)
		v, err := jsonArg(b, "{}")
		if err != nil {
			return err
		}
		var one int
		err = t.queryRow(ctx, `SELECT 1 FROM models WHERE id = ?`, b.ModelID).Scan(&one)
		if isNoRows(err) {
			return notFound("model", b.ModelID)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		if _, err := t.exec(ctx, `INSERT INTO benchmarks (id, model_id, at, status, result) VALUES (?, ?, ?, ?, ?)`,
			b.ID, b.ModelID, t.ts(b.At), b.Status, v); err != nil {
			return err
		}
		if b.Status != switchyard.BenchmarkCompleted {
			return nil
		}
		_, err = t.exec(ctx, `UPDATE models SET last_benchmark = ? WHERE id = ?`, v, b.ModelID)
		return err
	})
}

func scanBenchmark(sc interface{ Scan(...any) error }) (*switchyard.BenchmarkResult, error) {
	var b switchyard.BenchmarkResult
	var id string
	if err := sc.Scan(&id, jsonCol{&b}); err != nil {
		return nil, err
	}
	b.ID = id
	return &b, nil
}

// ListBenchmarks lists a model's benchmarks, newest first.
func (s *store) ListBenchmarks(ctx context.Context, modelID string, opts switchyard.ListOptions) (switchyard.Page[*switchyard.BenchmarkResult], error) {
	var w where
	w.add("model_id = ?", modelID)
	tail, limit, err := paginate(&w, opts, true)
	if err != nil {
		return switchyard.Page[*switchyard.BenchmarkResult]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT id, result FROM benchmarks`+w.String()+tail, w.args, scanBenchmark)
	if err != nil {
		return switchyard.Page[*switchyard.BenchmarkResult]{}, fmt.Errorf("list benchmarks: %w", err)
	}
	return finishPage(items, limit, func(b *switchyard.BenchmarkResult) string { return b.ID }), nil
}
