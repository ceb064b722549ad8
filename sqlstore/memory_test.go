package sqlstore_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

func TestInMemorySQLiteKeepsDataAcrossCalls(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite::memory:", sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadKeyring(ctx, storetest.MasterKey(t)); err != nil {
		t.Fatal(err)
	}
	u := &switchyard.User{Username: "mem", Role: switchyard.RoleAdmin}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	// A transaction and a later read see the same database.
	if err := db.InTx(ctx, func(tx switchyard.Store) error {
		_, err := tx.GetUser(ctx, u.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "sqlite://", "/tmp/x.db"} {
		_, err := sqlstore.Open(context.Background(), u, sqlstore.Options{})
		if switchyard.ErrorCode(err) != switchyard.EINVALID {
			t.Errorf("Open(%q) = %v, want an invalid-URL error", u, err)
		}
	}
}

func TestMigrateDownToZeroAndUpAgain(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := b.Open(t)
			st, err := db.MigrationStatus(ctx)
			if err != nil || len(st) == 0 || !st[len(st)-1].Applied {
				t.Fatalf("status after up = %+v, %v", st, err)
			}
			n, err := db.MigrateDown(ctx, 0)
			if err != nil || n != len(st) {
				t.Fatalf("down to 0 rolled back %d of %d: %v", n, len(st), err)
			}
			st, _ = db.MigrationStatus(ctx)
			for _, s := range st {
				if s.Applied {
					t.Fatalf("migration %d still applied after down to 0", s.Version)
				}
			}
			if _, err := db.CountUsers(ctx); err == nil {
				t.Fatal("tables remain after down to 0")
			}
			if n, err := db.MigrateUp(ctx); err != nil || n != len(st) {
				t.Fatalf("up again applied %d: %v", n, err)
			}
			if _, err := db.LoadKeyring(ctx, storetest.MasterKey(t)); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateUser(ctx, &switchyard.User{Username: "again", Role: switchyard.RoleUser}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
