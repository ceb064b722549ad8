package transfer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/secret"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
	"github.com/switchyard/switchyard/transfer"
)

// Backup, change things, restore: the export is byte-for-byte the one
// taken at the backup; restoring the automatic pre-restore backup undoes
// the restore.
func TestBackupRestoreAndUndo(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			seed(t, db)
			clock := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			now := func() time.Time { clock = clock.Add(time.Second); return clock }
			dir := filepath.Join(t.TempDir(), "backups")
			bk := transfer.NewBackups(transfer.BackupsConfig{Dir: dir, DB: db, Keep: 2, Now: now})
			exportOf := func() string {
				_, raw := export(t, db, transfer.ExportOptions{Passphrase: ""})
				return string(raw)
			}
			taken, err := bk.Create(ctx, transfer.BackupManual)
			if err != nil {
				t.Fatal(err)
			}
			at := exportOf()

			// Change things.
			p, _ := db.GetProviderBySlug(ctx, "openai-prod")
			p.Name = "renamed after the backup"
			if err := db.UpdateProvider(ctx, p); err != nil {
				t.Fatal(err)
			}
			page, _ := db.ListConnections(ctx, switchyard.ConnectionFilter{})
			if err := db.DeleteConnection(ctx, page.Items[0].ID, 0); err != nil {
				t.Fatal(err)
			}
			changed := exportOf()
			if changed == at {
				t.Fatal("the changes did not change the export")
			}

			restored, undo, err := bk.Restore(ctx, taken.Name)
			if err != nil {
				t.Fatal(err)
			}
			if restored.Name != taken.Name || undo.Manifest.Note != transfer.BackupPreRestore {
				t.Fatalf("restored %s, undo %+v", restored.Name, undo)
			}
			if got := exportOf(); got != at {
				t.Fatalf("after restore the export differs from the one at the backup:\n%s\nwant\n%s", got, at)
			}
			if _, _, err := bk.Restore(ctx, undo.Name); err != nil {
				t.Fatal(err)
			}
			if got := exportOf(); got != changed {
				t.Fatal("restoring the pre-restore backup did not undo the restore")
			}

			// Listing, retention, file modes, names that are not backups.
			for range 3 {
				if _, err := bk.Create(ctx, transfer.BackupManual); err != nil {
					t.Fatal(err)
				}
			}
			list, err := bk.List()
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for i, info := range list {
				kinds[info.Manifest.Note]++
				if i > 0 && info.Name > list[i-1].Name {
					t.Fatalf("list not newest first: %s after %s", info.Name, list[i-1].Name)
				}
				fi, _ := os.Stat(filepath.Join(dir, info.Name))
				if fi.Mode().Perm() != 0o600 || info.Size != fi.Size() || info.Manifest.Rows() == 0 {
					t.Fatalf("%s: mode %v, size %d/%d, rows %d", info.Name, fi.Mode().Perm(), info.Size, fi.Size(), info.Manifest.Rows())
				}
			}
			if kinds[transfer.BackupManual] != 2 || kinds[transfer.BackupPreRestore] != 2 {
				t.Fatalf("kept %v, want 2 of each kind", kinds)
			}
			if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
				t.Fatalf("backup directory mode %v", di.Mode().Perm())
			}
			for _, name := range []string{"../" + filepath.Base(dir) + "/x", "switchyard.db", "/etc/passwd"} {
				if _, err := bk.Open(name); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
					t.Fatalf("Open(%q) = %v, want not found", name, err)
				}
			}
		})
	}
}

// A backup from another installation restores only with its master key.
func TestRestoreNeedsTheSameMasterKey(t *testing.T) {
	src := storetest.SQLite().Open(t)
	seed(t, src)
	dir := t.TempDir()
	taken, err := transfer.NewBackups(transfer.BackupsConfig{Dir: dir, DB: src}).Create(ctx, transfer.BackupManual)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "other.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	mk, err := secret.NewMasterKey([]byte(strings.Repeat("k", secret.KeySize)), secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.LoadKeyring(ctx, mk); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, taken.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = transfer.NewBackups(transfer.BackupsConfig{Dir: t.TempDir(), DB: other}).RestoreFrom(ctx, f)
	if switchyard.ErrorCode(err) != switchyard.EINVALID || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("restore with another master key: %v", err)
	}
}

// fakeLock is a leadership two replicas compete for.
type fakeLock struct {
	mu     sync.Mutex
	holder string
}

type fakeLease struct {
	l    *fakeLock
	name string
}

func (f fakeLease) Check(context.Context) error {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.holder != f.name {
		return errors.New("lost")
	}
	return nil
}

func (f fakeLease) Release() {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.holder == f.name {
		f.l.holder = ""
	}
}

func (l *fakeLock) elect(name string) func(context.Context) (transfer.Lease, bool, error) {
	return func(context.Context) (transfer.Lease, bool, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.holder != "" && l.holder != name {
			return nil, false, nil
		}
		l.holder = name
		return fakeLease{l, name}, true, nil
	}
}

// With several replicas, only the one holding the lease takes the
// scheduled backups; another takes over when the lease is lost.
func TestScheduledBackupsOnOneReplica(t *testing.T) {
	db := storetest.SQLite().Open(t)
	lock := &fakeLock{}
	count := func(dir string) int { // finished backups only
		entries, _ := os.ReadDir(dir)
		n := 0
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), "-scheduled.tar.gz") {
				n++
			}
		}
		return n
	}
	dirs := map[string]string{"a": t.TempDir(), "b": t.TempDir()}
	stop := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	for name, dir := range dirs {
		b := transfer.NewBackups(transfer.BackupsConfig{Dir: dir, DB: db, Keep: 1000})
		rctx, cancel := context.WithCancel(ctx)
		stop[name] = cancel
		wg.Add(1)
		go func() { defer wg.Done(); b.Run(rctx, 20*time.Millisecond, lock.elect(name)) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for count(dirs["a"])+count(dirs["b"]) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lock.mu.Lock()
	leader := lock.holder
	lock.mu.Unlock()
	follower := map[string]string{"a": "b", "b": "a"}[leader]
	if leader == "" || count(dirs[follower]) != 0 {
		t.Fatalf("leader %q; the follower took %d backups while it led", leader, count(dirs[follower]))
	}
	stop[leader]() // the leader stops (its lease is released)
	for count(dirs[follower]) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop[follower]()
	wg.Wait()
	if count(dirs[follower]) == 0 {
		t.Fatal("no replica took over the scheduled backups")
	}
}
