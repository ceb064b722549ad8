package sqlstore_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// The error classes of a rollup read back as they were counted, whether
// the column holds them as ReplaceRollups writes them (read without
// encoding/json) or in any other JSON form.
func TestRollupErrorClassesReadBack(t *testing.T) {
	ctx := context.Background()
	stored := []string{
		`{}`,
		`{"rate_limited":3}`,
		`{"rate_limit_exceeded":1,"rate_limited":12,"timeout":1,"upstream_error":4}`,
		`{"big":9223372036854775807}`,
		`{ "spaced" : 2 , "out": 1 }`,
		`{"quo\"ted":5,"uni\u00e9":6}`,
		`{"a":1,"a":2}`,
		`{"neg":-1}`,
	}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			db := b.Open(t)
			at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			var rows []switchyard.UsageRollup
			for i := range stored {
				rows = append(rows, switchyard.UsageRollup{Resolution: switchyard.ResolutionHour, Bucket: at.Add(time.Duration(i) * time.Hour),
					ProviderID: "p", ModelID: "m", ConnectionID: "c", UserID: "u", Requests: 1})
			}
			if err := db.ReplaceRollups(ctx, switchyard.ResolutionHour, at, at.Add(24*time.Hour), rows, time.Time{}); err != nil {
				t.Fatal(err)
			}
			for i, s := range stored {
				q := "UPDATE usage_rollups SET error_classes = $1 WHERE resolution = 'hour' AND bucket = $2"
				var bucket any = at.Add(time.Duration(i) * time.Hour)
				if b.Name == "sqlite" {
					bucket = at.Add(time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05.000000Z")
				}
				if _, err := db.SQL().ExecContext(ctx, q, s, bucket); err != nil {
					t.Fatal(err)
				}
			}
			i := 0
			err := db.ListRollups(ctx, switchyard.RollupFilter{Resolution: switchyard.ResolutionHour}, func(r *switchyard.UsageRollup) error {
				var want map[string]int64
				if err := json.Unmarshal([]byte(stored[i]), &want); err != nil {
					t.Fatal(err)
				}
				if len(want) == 0 {
					want = nil
				}
				if !maps.Equal(r.ErrorClasses, want) || (want == nil) != (r.ErrorClasses == nil) {
					t.Errorf("%s read back as %v; want %v", stored[i], r.ErrorClasses, want)
				}
				i++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if i != len(stored) {
				t.Fatalf("read %d rollups; want %d", i, len(stored))
			}
		})
	}
}
