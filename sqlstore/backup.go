package sqlstore

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// backupOrder is the order tables are restored in: every table after those
// its foreign keys point to. Tables not listed (added by later migrations
// without foreign keys to these, or pointing only to listed ones) follow in
// name order.
var backupOrder = []string{"encryption_keys", "users", "api_tokens", "sessions", "provider_templates", "providers",
	"provider_credentials", "models", "connections", "benchmarks", "audit_log", "usage_events"}

// notBackedUp are tables a backup leaves out: the schema's own bookkeeping
// (a backup is restored at the same schema version) and the change counter
// (a restore moves it forward, so that every replica reloads).
var notBackedUp = []string{"goose_db_version", "change_version"}

const manifestName = "manifest.json"

// Backup writes a consistent snapshot of every table to w as a gzipped tar:
// manifest.json, then tables/<name>.jsonl, one JSON array per row. SQLite
// is copied first with VACUUM INTO (writers go on meanwhile); PostgreSQL is
// read in one read-only repeatable-read transaction. Secrets stay as stored,
// encrypted: the backup restores only with the same master key.
func (db *DB) Backup(ctx context.Context, w io.Writer, note string) (*switchyard.BackupManifest, error) {
	src, done, err := db.snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer done()
	m := &switchyard.BackupManifest{Format: switchyard.BackupFormat, Version: switchyard.BackupVersion,
		CreatedAt: db.now().UTC().Truncate(time.Second), Dialect: db.dialect.name(), Note: note}
	if err := src.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&m.SchemaVersion); err != nil {
		return nil, fmt.Errorf("backup: schema version: %w", err)
	}
	tables, err := db.tables(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if slices.Contains(tables, "encryption_keys") {
		rows, err := src.QueryContext(ctx, `SELECT DISTINCT master_key_id FROM encryption_keys ORDER BY master_key_id`)
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			m.MasterKeyIDs = append(m.MasterKeyIDs, id)
		}
		rows.Close()
	}
	// Each table goes to a temporary file first: the manifest, written
	// first, holds their sizes and checksums.
	tmp, err := os.MkdirTemp("", "switchyard-backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, t := range tables {
		bt, err := dumpTable(ctx, src, t, filepath.Join(tmp, t))
		if err != nil {
			return nil, fmt.Errorf("backup: table %s: %w", t, err)
		}
		m.Tables = append(m.Tables, bt)
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeEntry(tw, manifestName, int64(len(mb)), m.CreatedAt, strings.NewReader(string(mb))); err != nil {
		return nil, err
	}
	for _, t := range m.Tables {
		f, err := os.Open(filepath.Join(tmp, t.Name))
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err == nil {
			err = writeEntry(tw, "tables/"+t.Name+".jsonl", fi.Size(), m.CreatedAt, f)
		}
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

func writeEntry(tw *tar.Writer, name string, size int64, at time.Time, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: at, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := io.Copy(tw, r)
	return err
}

// source is what a backup reads from.
type source interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// snapshot returns a consistent, read-only view of the database.
func (db *DB) snapshot(ctx context.Context) (source, func(), error) {
	if db.dialect.name() == "sqlite" {
		dir, err := os.MkdirTemp("", "switchyard-snapshot-")
		if err != nil {
			return nil, nil, err
		}
		path := filepath.Join(dir, "snapshot.db")
		if _, err := db.sql.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
			os.RemoveAll(dir)
			return nil, nil, fmt.Errorf("copy the database: %w", err)
		}
		cp, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return cp, func() { cp.Close(); os.RemoveAll(dir) }, nil
	}
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, nil, err
	}
	return tx, func() { _ = tx.Rollback() }, nil
}

// tables lists the tables a backup holds, in restore order.
func (db *DB) tables(ctx context.Context, src source) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.dialect.name() != "sqlite" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := src.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if !slices.Contains(notBackedUp, n) {
			all = append(all, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(all)
	var out []string
	for _, t := range backupOrder {
		if slices.Contains(all, t) {
			out = append(out, t)
		}
	}
	for _, t := range all {
		if !slices.Contains(backupOrder, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// dumpTable writes a table's rows, ordered by their first column, one JSON
// array per line.
func dumpTable(ctx context.Context, src source, table, path string) (switchyard.BackupTable, error) {
	bt := switchyard.BackupTable{Name: table}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return bt, err
	}
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(f, h))
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY 1`)
	if err != nil {
		return bt, err
	}
	defer rows.Close()
	if bt.Columns, err = rows.Columns(); err != nil {
		return bt, err
	}
	vals := make([]any, len(bt.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	enc := json.NewEncoder(bw)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return bt, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = encodeValue(v)
		}
		if err := enc.Encode(row); err != nil {
			return bt, err
		}
		bt.Rows++
	}
	if err := rows.Err(); err != nil {
		return bt, err
	}
	if err := bw.Flush(); err != nil {
		return bt, err
	}
	bt.SHA256 = hex.EncodeToString(h.Sum(nil))
	return bt, f.Close()
}

// encodeValue keeps the types JSON would lose: bytes and times are tagged.
func encodeValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]string{"bytes": base64.StdEncoding.EncodeToString(x)}
	case time.Time:
		return map[string]string{"time": x.UTC().Format(time.RFC3339Nano)}
	}
	return v
}

func decodeValue(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		return x.Float64()
	case map[string]any:
		if s, ok := x["bytes"].(string); ok {
			return base64.StdEncoding.DecodeString(s)
		}
		if s, ok := x["time"].(string); ok {
			return time.Parse(time.RFC3339Nano, s)
		}
		return nil, errors.New("an unknown tagged value")
	}
	return v, nil
}

// ReadManifest reads the manifest at the head of a backup.
func (db *DB) ReadManifest(r io.Reader) (*switchyard.BackupManifest, error) {
	_, m, err := openBackup(r)
	return m, err
}

func openBackup(r io.Reader) (*tar.Reader, *switchyard.BackupManifest, error) {
	bad := func(format string, args ...any) error {
		return switchyard.Errorf(switchyard.EINVALID, "not a Switchyard backup: "+format, args...)
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, bad("%v", err)
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil || h.Name != manifestName {
		return nil, nil, bad("it does not begin with %s", manifestName)
	}
	var m switchyard.BackupManifest
	if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(&m); err != nil {
		return nil, nil, bad("its manifest cannot be read: %v", err)
	}
	if m.Format != switchyard.BackupFormat {
		return nil, nil, bad("its format is %q", m.Format)
	}
	if m.Version > switchyard.BackupVersion {
		return nil, nil, switchyard.Errorf(switchyard.EINVALID, "the backup is of format version %d, written by a newer Switchyard; this one reads up to %d", m.Version, switchyard.BackupVersion)
	}
	return tr, &m, nil
}

// Restore replaces every table's rows with a backup's, in one transaction:
// if anything fails (a checksum, a row, a constraint) nothing changes. The
// backup must come from the same kind of database at the same schema
// version, and its secrets must open with this installation's master key.
// The change counter moves forward, so every replica reloads.
func (db *DB) Restore(ctx context.Context, r io.Reader) (*switchyard.BackupManifest, error) {
	tr, m, err := openBackup(r)
	if err != nil {
		return nil, err
	}
	if m.Dialect != db.dialect.name() {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the backup was taken from %s and this database is %s: move configuration between kinds of database with export and import", m.Dialect, db.dialect.name())
	}
	var current int64
	if err := db.sql.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&current); err != nil {
		return nil, fmt.Errorf("restore: schema version: %w", err)
	}
	if m.SchemaVersion != current {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the backup is of schema version %d and this database is at %d: restore it into a database at %d (switchyard migrate down -to %d, or a fresh one migrated to it), then migrate up", m.SchemaVersion, current, m.SchemaVersion, m.SchemaVersion)
	}
	if db.mk != nil && len(m.MasterKeyIDs) > 0 && !slices.Contains(m.MasterKeyIDs, db.mk.ID()) {
		return nil, switchyard.Errorf(switchyard.EINVALID, "the backup's secrets are wrapped by master key %s and this installation uses %s: restore with the master key it was taken with", strings.Join(m.MasterKeyIDs, ", "), db.mk.ID())
	}
	have, err := db.tables(ctx, db.sql)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range m.Tables {
		names = append(names, t.Name)
	}
	for _, t := range have {
		if !slices.Contains(names, t) {
			return nil, switchyard.Errorf(switchyard.EINVALID, "the backup has no table %s, which this database has", t)
		}
	}
	for _, t := range names {
		if !slices.Contains(have, t) {
			return nil, switchyard.Errorf(switchyard.EINVALID, "the backup has a table %s, which this database does not", t)
		}
	}
	err = db.tx(ctx, func(t *store) error {
		for i := len(have) - 1; i >= 0; i-- {
			if _, err := t.exec(ctx, `DELETE FROM `+have[i]); err != nil {
				return fmt.Errorf("restore: empty %s: %w", have[i], err)
			}
		}
		for _, bt := range m.Tables {
			h, err := tr.Next()
			if err != nil || h.Name != "tables/"+bt.Name+".jsonl" {
				return switchyard.Errorf(switchyard.EINVALID, "the backup is damaged: table %s is missing or out of order", bt.Name)
			}
			if err := t.restoreTable(ctx, bt, tr); err != nil {
				return err
			}
		}
		if db.mk != nil {
			kr, err := t.readKeyring(ctx, db.mk)
			if err != nil {
				return fmt.Errorf("restore: the restored data keys do not open: %w", err)
			}
			t.keys = kr
		}
		_, err := t.BumpChangeVersion(ctx, "backup restored")
		return err
	})
	if err != nil {
		return nil, err
	}
	if db.mk != nil {
		if _, err := db.LoadKeyring(ctx, db.mk); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// restoreTable inserts a table's rows, checking their count and checksum.
func (t *store) restoreTable(ctx context.Context, bt switchyard.BackupTable, r io.Reader) error {
	h := sha256.New()
	dec := json.NewDecoder(io.TeeReader(r, h))
	dec.UseNumber()
	q := `INSERT INTO ` + bt.Name + ` (` + strings.Join(bt.Columns, ", ") + `) VALUES (` +
		strings.TrimSuffix(strings.Repeat("?, ", len(bt.Columns)), ", ") + `)`
	var n int64
	for {
		var row []any
		err := dec.Decode(&row)
		if err == io.EOF {
			break
		}
		if err != nil || len(row) != len(bt.Columns) {
			return switchyard.Errorf(switchyard.EINVALID, "the backup is damaged: table %s, row %d cannot be read", bt.Name, n+1)
		}
		for i := range row {
			if row[i], err = decodeValue(row[i]); err != nil {
				return switchyard.Errorf(switchyard.EINVALID, "the backup is damaged: table %s, row %d: %v", bt.Name, n+1, err)
			}
		}
		if _, err := t.exec(ctx, q, row...); err != nil {
			return fmt.Errorf("restore: table %s, row %d: %w", bt.Name, n+1, err)
		}
		n++
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != bt.Rows || sum != bt.SHA256 {
		return switchyard.Errorf(switchyard.EINVALID, "the backup is damaged: table %s has %d rows with checksum %s, its manifest says %d rows with %s", bt.Name, n, sum[:12], bt.Rows, bt.SHA256[:min(12, len(bt.SHA256))])
	}
	return nil
}
