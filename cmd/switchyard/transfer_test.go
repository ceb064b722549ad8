package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// switchyard export and import, from one installation's directory to a
// fresh one's, with the secrets sealed by a passphrase from a file.
func TestExportImportCommands(t *testing.T) {
	const adminToken = "syt_transfer-cli-admin-token-0123456789"
	const secretKey = "sk-cli-transfer-canary-0123456789abcdef"
	src, dst := t.TempDir(), t.TempDir()
	addr, _, stop := startServe(t, map[string]string{"SWITCHYARD_DATA_DIR": src, "SWITCHYARD_ADMIN_TOKEN": adminToken})
	api(t, addr, adminToken, "POST", "/providers", map[string]any{"name": "Mine", "slug": "mine", "protocol": "openai",
		"base_url": "https://api.openai.com/v1", "credentials": []map[string]any{{"name": "k", "method": "api_key", "secrets": map[string]any{"api_key": secretKey}}}})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	cli := func(dir string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, env(map[string]string{"SWITCHYARD_DATA_DIR": dir}), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	must := func(dir string, args ...string) string {
		t.Helper()
		out, err := cli(dir, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	work := t.TempDir()
	pf := filepath.Join(work, "passphrase")
	if err := os.WriteFile(pf, []byte("a passphrase of some length\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(work, "export.yaml")
	if out := must(src, "export", "--format", "yaml", "-o", doc, "--passphrase-file", pf); !strings.Contains(out, "secrets sealed") {
		t.Fatalf("export: %s", out)
	}
	raw, _ := os.ReadFile(doc)
	if !strings.Contains(string(raw), "slug: mine") || strings.Contains(string(raw), secretKey) || strings.Contains(string(raw), "abcdef") {
		t.Fatalf("the export lacks the provider or shows its key:\n%s", raw)
	}
	if fi, _ := os.Stat(doc); fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v, want 0600", fi.Mode().Perm())
	}
	plan := must(dst, "import", doc)
	if !strings.Contains(plan, "dry run") || !strings.Contains(plan, "create") || !strings.Contains(plan, "mine") || !strings.Contains(plan, "not_opened") {
		t.Fatalf("dry run:\n%s", plan)
	}
	if out := must(dst, "export"); strings.Contains(out, `"slug": "mine"`) {
		t.Fatal("a dry run wrote the provider")
	}
	if out := must(dst, "import", doc, "--apply", "--passphrase-file", pf); !strings.Contains(out, "applied") || !strings.Contains(out, "secrets imported") {
		t.Fatalf("apply:\n%s", out)
	}
	if out := must(dst, "export"); !strings.Contains(out, `"slug": "mine"`) {
		t.Fatalf("after import, the export lacks the provider:\n%.500s", out)
	}
	if out := must(dst, "import", doc, "--passphrase-file", pf); !strings.Contains(out, "unchanged") || strings.Contains(out, " create ") {
		t.Fatalf("importing again:\n%s", out)
	}
	// Mistakes are named.
	if _, err := cli(dst, "import"); exitCode(err) != 2 {
		t.Fatalf("import without a file: %v", err)
	}
	if out, err := cli(dst, "import", doc, "--apply", "--on-conflict", "merge"); err == nil || !strings.Contains(err.Error()+out, "on_conflict") {
		t.Fatalf("bad --on-conflict: %v %s", err, out)
	}
	if out := must(dst, "export", "--schema"); !strings.Contains(out, `"switchyard-export"`) {
		t.Fatalf("schema: %.200s", out)
	}
}

// switchyard backup and restore, and the backup migrate up takes first.
func TestBackupRestoreAndMigrateCommands(t *testing.T) {
	const adminToken = "syt_backup-cli-admin-token-0123456789ab"
	dir := t.TempDir()
	environ := map[string]string{"SWITCHYARD_DATA_DIR": dir, "SWITCHYARD_ADMIN_TOKEN": adminToken}
	addr, _, stop := startServe(t, environ)
	p := api(t, addr, adminToken, "POST", "/providers", map[string]any{"name": "Before", "slug": "kept", "protocol": "openai",
		"base_url": "https://api.openai.com/v1", "credentials": []map[string]any{{"name": "k", "method": "api_key", "secrets": map[string]any{"api_key": "sk-cli-backup-0123456789abcdef"}}}})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, env(map[string]string{"SWITCHYARD_DATA_DIR": dir}), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	file := filepath.Join(t.TempDir(), "b.tar.gz")
	if out, err := cli("backup", "-o", file); err != nil || !strings.Contains(out, "backup written to") {
		t.Fatalf("backup: %v %s", err, out)
	}
	if out, err := cli("backup"); err != nil || !strings.Contains(out, "-manual.tar.gz") {
		t.Fatalf("backup to the directory: %v %s", err, out)
	}
	// Change the provider, then restore.
	addr, _, stop = startServe(t, environ)
	api(t, addr, adminToken, "PATCH", "/providers/"+p["id"].(string), map[string]any{"name": "After"})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("restore", file); exitCode(err) != 2 {
		t.Fatalf("restore without -yes: %v", err)
	}
	out, err := cli("restore", "-yes", file)
	if err != nil || !strings.Contains(out, "to undo, restore switchyard-") {
		t.Fatalf("restore: %v %s", err, out)
	}
	addr, _, stop = startServe(t, environ)
	if got := api(t, addr, adminToken, "GET", "/providers/"+p["id"].(string), nil); got["name"] != "Before" {
		t.Fatalf("after restore the provider is named %v", got["name"])
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Upgrading a database that has a schema takes a backup first.
	if out, err := cli("migrate", "down"); err != nil {
		t.Fatalf("migrate down: %v %s", err, out)
	}
	out, err = cli("migrate", "up")
	if err != nil || !strings.Contains(out, "-pre-migrate.tar.gz") || !strings.Contains(out, "applied 1 migration") {
		t.Fatalf("migrate up: %v %s", err, out)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "backups"))
	kinds := map[string]bool{}
	for _, e := range entries {
		for _, k := range []string{"manual", "pre-restore", "pre-migrate"} {
			if strings.HasSuffix(e.Name(), "-"+k+".tar.gz") {
				kinds[k] = true
			}
		}
	}
	if len(kinds) != 3 {
		t.Fatalf("backup directory holds %v", entries)
	}
}
