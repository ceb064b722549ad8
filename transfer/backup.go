package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard"
)

// Snapshotter takes and restores backups of the whole database
// (sqlstore.DB).
type Snapshotter interface {
	Backup(ctx context.Context, w io.Writer, note string) (*switchyard.BackupManifest, error)
	Restore(ctx context.Context, r io.Reader) (*switchyard.BackupManifest, error)
	// ReadManifest reads the manifest at the head of a backup.
	ReadManifest(r io.Reader) (*switchyard.BackupManifest, error)
}

// Backup kinds, the note of each backup.
const (
	BackupScheduled  = "scheduled"
	BackupManual     = "manual"
	BackupPreRestore = "pre-restore"
	BackupPreMigrate = "pre-migrate"
)

// BackupInfo is a backup file and its manifest.
type BackupInfo struct {
	Name     string                    `json:"name"`
	Size     int64                     `json:"size"`
	Manifest switchyard.BackupManifest `json:"manifest"`
}

// BackupsConfig configures Backups.
type BackupsConfig struct {
	Dir  string
	DB   Snapshotter
	Keep int // backups of each kind kept (default 7)
	Log  *slog.Logger
	Now  func() time.Time
}

// Backups keeps backup files in a directory: taking them (atomically, mode
// 0600), listing, restoring with a backup taken first so that a restore
// can be undone, on a schedule, and pruning old ones.
type Backups struct {
	cfg BackupsConfig
	mu  sync.Mutex // one backup or restore at a time
}

// NewBackups returns the backups kept in cfg.Dir.
func NewBackups(cfg BackupsConfig) *Backups {
	if cfg.Keep <= 0 {
		cfg.Keep = 7
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Backups{cfg: cfg}
}

// nameRE is the shape of the files Backups writes; anything else in the
// directory is left alone, and no other name can be opened.
var nameRE = regexp.MustCompile(`^switchyard-\d{8}T\d{6}(\.\d{3})?Z-(scheduled|manual|pre-restore|pre-migrate)\.tar\.gz$`)

// Create takes a backup of the given kind.
func (b *Backups) Create(ctx context.Context, kind string) (*BackupInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.create(ctx, kind)
}

func (b *Backups) create(ctx context.Context, kind string) (*BackupInfo, error) {
	if err := os.MkdirAll(b.cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup directory: %w", err)
	}
	name := "switchyard-" + b.cfg.Now().UTC().Format("20060102T150405.000Z") + "-" + kind + ".tar.gz"
	tmp, err := os.CreateTemp(b.cfg.Dir, ".partial-*")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	m, err := b.cfg.DB.Backup(ctx, tmp, kind)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	path := filepath.Join(b.cfg.Dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b.cfg.Log.Info("backup taken", "file", path, "kind", kind, "rows", m.Rows(), "bytes", fi.Size())
	b.prune(kind)
	return &BackupInfo{Name: name, Size: fi.Size(), Manifest: *m}, nil
}

// List returns the backups, newest first.
func (b *Backups) List() ([]BackupInfo, error) {
	entries, err := os.ReadDir(b.cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return []BackupInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []BackupInfo{}
	for _, e := range entries {
		if !nameRE.MatchString(e.Name()) {
			continue
		}
		info, err := b.info(e.Name())
		if err != nil {
			b.cfg.Log.Warn("backup: unreadable file in the backup directory", "file", e.Name(), "err", err)
			continue
		}
		out = append(out, *info)
	}
	slices.SortFunc(out, func(x, y BackupInfo) int { return strings.Compare(y.Name, x.Name) })
	return out, nil
}

func (b *Backups) info(name string) (*BackupInfo, error) {
	f, err := b.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := b.cfg.DB.ReadManifest(f)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return &BackupInfo{Name: name, Size: fi.Size(), Manifest: *m}, nil
}

// Open opens a backup file by name.
func (b *Backups) Open(name string) (*os.File, error) {
	if !nameRE.MatchString(name) {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "no backup named %q", name)
	}
	f, err := os.Open(filepath.Join(b.cfg.Dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "no backup named %q", name)
	}
	return f, err
}

// Restore restores the named backup, after taking a pre-restore backup
// of the current state; restoring that one undoes the restore.
func (b *Backups) Restore(ctx context.Context, name string) (restored, undo *BackupInfo, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	restored, err = b.info(name)
	if err != nil {
		return nil, nil, err
	}
	f, err := b.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	undo, err = b.restore(ctx, f)
	return restored, undo, err
}

// RestoreFrom restores a backup read from r (a file from elsewhere), after
// taking a pre-restore backup.
func (b *Backups) RestoreFrom(ctx context.Context, r io.Reader) (undo *BackupInfo, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.restore(ctx, r)
}

func (b *Backups) restore(ctx context.Context, r io.Reader) (*BackupInfo, error) {
	undo, err := b.create(ctx, BackupPreRestore)
	if err != nil {
		return nil, fmt.Errorf("the backup before the restore failed, nothing was restored: %w", err)
	}
	if _, err := b.cfg.DB.Restore(ctx, r); err != nil {
		return undo, err
	}
	b.cfg.Log.Warn("backup restored", "undo_with", undo.Name)
	return undo, nil
}

// prune deletes the oldest backups of a kind beyond Keep.
func (b *Backups) prune(kind string) {
	entries, err := os.ReadDir(b.cfg.Dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range entries {
		if nameRE.MatchString(e.Name()) && strings.HasSuffix(e.Name(), "-"+kind+".tar.gz") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for len(names) > b.cfg.Keep {
		if err := os.Remove(filepath.Join(b.cfg.Dir, names[0])); err != nil {
			b.cfg.Log.Warn("backup: deleting an old backup failed", "file", names[0], "err", err)
		}
		names = names[1:]
	}
}

// Lease is the leadership of the scheduled backups among replicas.
type Lease interface {
	// Check reports whether the lease is still held.
	Check(ctx context.Context) error
	Release()
}

// Run takes a scheduled backup every interval until ctx ends. With elect
// set, only the replica holding the lease takes them: it keeps the lease
// between backups, and another replica takes over when it is lost (the
// holder died, or its database connection did).
func (b *Backups) Run(ctx context.Context, every time.Duration, elect func(context.Context) (Lease, bool, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	var lease Lease
	defer func() {
		if lease != nil {
			lease.Release()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if elect != nil {
			if lease != nil && lease.Check(ctx) != nil {
				lease.Release()
				lease = nil
			}
			if lease == nil {
				l, ok, err := elect(ctx)
				if err != nil {
					b.cfg.Log.Warn("scheduled backups: the leadership could not be tried", "err", err)
					continue
				}
				if !ok {
					continue // another replica takes them
				}
				lease = l
			}
		}
		if _, err := b.Create(ctx, BackupScheduled); err != nil && ctx.Err() == nil {
			b.cfg.Log.Error("scheduled backup failed", "err", err)
		}
	}
}
