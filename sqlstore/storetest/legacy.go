package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
)

// testLegacyMigrations: records of migrations from hardcoded configurations
// read back byte for byte, newest first, and are rolled back only once.
func testLegacyMigrations(t *testing.T, _ Backend, db *sqlstore.DB) {
	base := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	// Keys out of sorted order and spacing that jsonb would normalise.
	report := json.RawMessage(`{"z":1,  "a":[{"status":"maps cleanly"}]}`)
	var ids []string
	for i := range 3 {
		m := &switchyard.LegacyMigration{CreatedAt: base.Add(time.Duration(i) * time.Hour), Sources: []string{"env", "litellm"},
			Report: report, Changes: json.RawMessage(`[]`)}
		if err := db.CreateLegacyMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	wantCode(t, db.CreateLegacyMigration(ctx, &switchyard.LegacyMigration{Sources: []string{"env"}, Report: json.RawMessage(`{`), Changes: json.RawMessage(`[]`)}), switchyard.EINVALID)

	got, err := db.GetLegacyMigration(ctx, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Report) != string(report) || string(got.Changes) != `[]` || len(got.Sources) != 2 || !got.CreatedAt.Equal(base.Add(time.Hour)) || got.RolledBackAt != nil {
		t.Fatalf("read back %+v", got)
	}
	page, err := db.ListLegacyMigrations(ctx, switchyard.ListOptions{Limit: 2})
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != ids[2] || page.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	page, err = db.ListLegacyMigrations(ctx, switchyard.ListOptions{Limit: 2, Cursor: page.NextCursor})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids[0] {
		t.Fatalf("second page: %+v, %v", page, err)
	}

	at := base.Add(5 * time.Hour)
	if err := db.MarkLegacyMigrationRolledBack(ctx, ids[0], at); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.MarkLegacyMigrationRolledBack(ctx, ids[0], at), switchyard.ECONFLICT)
	wantCode(t, db.MarkLegacyMigrationRolledBack(ctx, "0190e6b2-0000-7000-8000-000000000000", at), switchyard.ENOTFOUND)
	if got, err := db.GetLegacyMigration(ctx, ids[0]); err != nil || got.RolledBackAt == nil || !got.RolledBackAt.Equal(at) {
		t.Fatalf("after rollback: %+v, %v", got, err)
	}
	_, err = db.GetLegacyMigration(ctx, "nope")
	wantCode(t, err, switchyard.ENOTFOUND)
}
