package storetest

import (
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
)

func testHealthChecks(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "checked")
	other := mustCreateProvider(t, db, "other")
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		c := &switchyard.HealthCheck{ProviderID: p.ID, At: base.Add(time.Duration(i) * time.Minute), OK: i%2 == 0, LatencyMS: int64(10 + i)}
		if !c.OK {
			c.Code = "upstream_error"
		}
		if err := db.AddHealthCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.ID == "" {
			t.Fatal("AddHealthCheck did not set the id")
		}
	}
	if err := db.AddHealthCheck(ctx, &switchyard.HealthCheck{ProviderID: other.ID, OK: true}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.AddHealthCheck(ctx, &switchyard.HealthCheck{ProviderID: "00000000-0000-0000-0000-000000000000"}), switchyard.ENOTFOUND)
	page, err := db.ListHealthChecks(ctx, p.ID, switchyard.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.NextCursor == "" || !page.Items[0].At.Equal(base.Add(4*time.Minute)) ||
		page.Items[0].LatencyMS != 14 || !page.Items[0].OK || page.Items[1].Code != "upstream_error" || page.Items[1].OK {
		t.Fatalf("first page = %+v", page)
	}
	next, err := db.ListHealthChecks(ctx, p.ID, switchyard.ListOptions{Limit: 3, Cursor: page.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Items) != 2 || next.NextCursor != "" || !next.Items[1].At.Equal(base) {
		t.Fatalf("second page = %+v", next)
	}
	// Pruning removes what is older than the retention, for every provider.
	n, err := db.PruneHealth(ctx, base.Add(150*time.Second))
	if err != nil || n != 3 {
		t.Fatalf("pruned %d (%v), want 3", n, err)
	}
	if page, _ := db.ListHealthChecks(ctx, p.ID, switchyard.ListOptions{}); len(page.Items) != 2 {
		t.Fatalf("after prune %d checks, want 2", len(page.Items))
	}
	// Checks go with their provider.
	if err := db.DeleteProvider(ctx, other.ID, 0); err != nil {
		t.Fatal(err)
	}
	if page, _ := db.ListHealthChecks(ctx, other.ID, switchyard.ListOptions{}); len(page.Items) != 0 {
		t.Fatal("checks outlived their provider")
	}
}

func testStatusChanges(t *testing.T, _ Backend, db *sqlstore.DB) {
	p := mustCreateProvider(t, db, "flappy")
	for _, c := range []struct {
		to     switchyard.ProviderStatus
		reason string
	}{
		{switchyard.StatusHealthy, "first check succeeded"},
		{switchyard.StatusDown, "3 checks in a row failed (upstream_error)"},
		{switchyard.StatusHealthy, "2 checks in a row succeeded"},
	} {
		if err := db.ChangeProviderStatus(ctx, &switchyard.StatusChange{ProviderID: p.ID, To: c.to, Reason: c.reason}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.GetProvider(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != switchyard.StatusHealthy || got.Version != p.Version {
		t.Fatalf("provider status %q version %d; want healthy, version %d unchanged", got.Status, got.Version, p.Version)
	}
	page, err := db.ListStatusChanges(ctx, p.ID, switchyard.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 {
		t.Fatalf("%d changes, want 3", len(page.Items))
	}
	newest, oldest := page.Items[0], page.Items[2]
	if newest.From != switchyard.StatusDown || newest.To != switchyard.StatusHealthy || newest.Reason != "2 checks in a row succeeded" ||
		oldest.From != switchyard.StatusUnknown || oldest.To != switchyard.StatusHealthy || newest.At.IsZero() {
		t.Fatalf("changes = %+v, %+v", newest, oldest)
	}
	wantCode(t, db.ChangeProviderStatus(ctx, &switchyard.StatusChange{ProviderID: p.ID, To: "on-fire"}), switchyard.EINVALID)
	wantCode(t, db.ChangeProviderStatus(ctx, &switchyard.StatusChange{ProviderID: "00000000-0000-0000-0000-000000000000",
		To: switchyard.StatusDown}), switchyard.ENOTFOUND)
	// A status change inside a transaction that fails is not kept.
	_ = db.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.ChangeProviderStatus(ctx, &switchyard.StatusChange{ProviderID: p.ID, To: switchyard.StatusDown}); err != nil {
			t.Fatal(err)
		}
		return switchyard.Errorf(switchyard.EINVALID, "roll back")
	})
	if got, _ := db.GetProvider(ctx, p.ID); got.Status != switchyard.StatusHealthy {
		t.Fatalf("rolled-back status change kept: %q", got.Status)
	}
}

// testLeaderElection: one replica at a time holds the leadership; when its
// connection goes, another takes it.
func testLeaderElection(t *testing.T, b Backend, _ *sqlstore.DB) {
	a, c := b.OpenPair(t)
	la, ok, err := a.TryLead(ctx, "health")
	if err != nil || !ok {
		t.Fatalf("first replica: ok %v, err %v", ok, err)
	}
	if err := la.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Dialect() != "postgres" {
		// SQLite has one process: it leads.
		la.Release()
		return
	}
	if _, ok, err := c.TryLead(ctx, "health"); err != nil || ok {
		t.Fatalf("second replica took a held leadership: ok %v, err %v", ok, err)
	}
	if _, ok, err := c.TryLead(ctx, "another-job"); err != nil || !ok {
		t.Fatalf("another job's leadership: ok %v, err %v", ok, err)
	}
	// A follower's elector keeps trying on the connection it has.
	el := c.Elector("health")
	defer el.Close()
	for range 2 {
		if _, ok, err := el.TryLead(ctx); err != nil || ok {
			t.Fatalf("elector took a held leadership: ok %v, err %v", ok, err)
		}
	}
	la.Release()
	if la.Check(ctx) == nil {
		t.Fatal("a released lease still checks as held")
	}
	le, ok, err := el.TryLead(ctx)
	if err != nil || !ok {
		t.Fatalf("elector after release: ok %v, err %v", ok, err)
	}
	le.Release()
	lc, ok, err := c.TryLead(ctx, "health")
	if err != nil || !ok {
		t.Fatalf("second replica after release: ok %v, err %v", ok, err)
	}
	lc.Release()
}
