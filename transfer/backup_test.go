package transfer_test

import (
	"os"
	"path/filepath"
	"strings"
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
