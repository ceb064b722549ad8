package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

func TestTrackReloadsAfterCommit(t *testing.T) {
	db := storetest.SQLite().Open(t)
	r := registry.New(registry.Config{Source: db, NewAdapter: adapters})
	if err := r.Reload(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	s := r.Track(db)
	start, _ := db.ChangeVersion(ctx)
	p := addProvider(t, db, "alpha", true)
	// Written through the tracked store: routable at once.
	m := model("m1", "one")
	m.ProviderID = p.ID
	if err := s.CreateModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	if len(r.Current().Resolve("one")) != 1 {
		t.Fatal("a model created through the tracked store is not routable")
	}
	v1, _ := db.ChangeVersion(ctx)
	if v1 != start+1 || r.Current().StoreVersion != v1 {
		t.Fatalf("change version %d (was %d), snapshot at %d", v1, start, r.Current().StoreVersion)
	}
	// Several changes in one transaction bump once.
	err := s.InTx(ctx, func(tx switchyard.Store) error {
		m2, m3 := model("m2"), model("m3")
		m2.ProviderID, m3.ProviderID = p.ID, p.ID
		if err := tx.CreateModel(ctx, m2); err != nil {
			return err
		}
		return tx.CreateModel(ctx, m3)
	})
	if err != nil {
		t.Fatal(err)
	}
	if v2, _ := db.ChangeVersion(ctx); v2 != v1+1 || len(r.Current().Resolve("m3")) != 1 {
		t.Fatalf("after a transaction of two changes: version %d, want %d", v2, v1+1)
	}
	// A failed transaction changes nothing: no bump, no reload.
	before := r.Current()
	err = s.InTx(ctx, func(tx switchyard.Store) error {
		m4 := model("m4")
		m4.ProviderID = p.ID
		if err := tx.CreateModel(ctx, m4); err != nil {
			return err
		}
		return errors.New("abort")
	})
	if err == nil || r.Current() != before {
		t.Fatal("a rolled-back change reloaded the registry")
	}
	if v3, _ := db.ChangeVersion(ctx); v3 != v1+1 {
		t.Fatal("a rolled-back change bumped the version")
	}
	// Reads and unrelated writes do not bump.
	if _, err := s.GetProvider(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &switchyard.User{Username: "u", Role: switchyard.RoleUser}); err != nil {
		t.Fatal(err)
	}
	if v4, _ := db.ChangeVersion(ctx); v4 != v1+1 {
		t.Fatal("a read or a user change bumped the version")
	}
}

// TestReplicasFollowChanges runs two registries on two handles of one
// database, as two replicas: a change made through one is routable through
// the other within a second, by notification on PostgreSQL and by the
// version check on SQLite.
func TestReplicasFollowChanges(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			one, two := b.OpenPair(t)
			ra := registry.New(registry.Config{Source: one, NewAdapter: adapters})
			rb := registry.New(registry.Config{Source: two, NewAdapter: adapters})
			for _, r := range []*registry.Registry{ra, rb} {
				if err := r.Reload(ctx, "start"); err != nil {
					t.Fatal(err)
				}
			}
			wctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			interval := 200 * time.Millisecond
			if b.Name == "postgres" {
				// Long enough that only the notification can meet the deadline.
				interval = time.Minute
			}
			go rb.Watch(wctx, two, two.Listen, interval)
			time.Sleep(300 * time.Millisecond) // the listener connects

			s := ra.Track(one)
			p := &switchyard.Provider{Name: "p", Slug: "shared-p", Protocol: switchyard.ProtocolOpenAICompatible, BaseURL: "https://p.example/v1",
				Enabled: true, Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthNone}}}
			if err := s.CreateProvider(ctx, p); err != nil {
				t.Fatal(err)
			}
			m := model("replicated")
			m.ProviderID = p.ID
			if err := s.CreateModel(ctx, m); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the other replica routes the new model", func() bool { return len(rb.Current().Resolve("replicated")) == 1 })
			p.Enabled = false
			if err := s.UpdateProvider(ctx, p); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the other replica stops routing the disabled provider", func() bool { return len(rb.Current().Resolve("replicated")) == 0 })
		})
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > time.Second {
			t.Fatalf("%s: not within a second", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
}
