package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/transfer"
)

func newBackups(cfg *config.Config, db *sqlstore.DB, log *slog.Logger) *transfer.Backups {
	return transfer.NewBackups(transfer.BackupsConfig{Dir: cfg.BackupDir, DB: db, Keep: cfg.BackupKeep, Log: log})
}

// migrateUp applies the pending schema migrations. When the database
// already has a schema and a migration is pending, a pre-migrate backup is
// taken first (unless skipped): restoring it, after migrate down to its
// schema version, undoes the upgrade.
func migrateUp(ctx context.Context, cfg *config.Config, db *sqlstore.DB, log *slog.Logger, backup bool) (int, *transfer.BackupInfo, error) {
	var info *transfer.BackupInfo
	if backup {
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			return 0, nil, err
		}
		applied, pending := 0, 0
		for _, m := range st {
			if m.Applied {
				applied++
			} else {
				pending++
			}
		}
		if applied > 0 && pending > 0 {
			info, err = newBackups(cfg, db, log).Create(ctx, transfer.BackupPreMigrate)
			if err != nil {
				return 0, nil, fmt.Errorf("the backup before migrating failed, nothing was migrated (use migrate up -no-backup to migrate without one): %w", err)
			}
		}
	}
	n, err := db.MigrateUp(ctx)
	return n, info, err
}

func backupFlags() (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, fs.String("o", "", "write the backup to this file (mode 0600) instead of the backup directory")
}

func restoreFlags() (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, fs.Bool("yes", false, "replace the database's content without asking (required)")
}

// backupCmd takes a backup: into the backup directory, or to -o FILE.
func backupCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs, out := backupFlags()
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageError{"backup takes only -o FILE"}
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if *out == "" {
		info, err := newBackups(cfg, db, log).Create(ctx, transfer.BackupManual)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup %s in %s: %d rows, %d bytes\n", info.Name, cfg.BackupDir, info.Manifest.Rows(), info.Size)
		return nil
	}
	f, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	m, err := db.Backup(ctx, f, transfer.BackupManual)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s: %d rows\n", *out, m.Rows())
	return nil
}

// restoreCmd restores a backup file, after a pre-restore backup.
func restoreCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs, yes := restoreFlags()
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return usageError{"restore needs the backup's file name: restore -yes FILE"}
	}
	if !*yes {
		return usageError{"restore replaces every table's content with the backup's (a pre-restore backup is taken first): add -yes to go ahead"}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	mk, err := loadMasterKey(cfg, log)
	if err != nil {
		return err
	}
	if _, err := db.LoadKeyring(ctx, mk); err != nil {
		return err
	}
	undo, err := newBackups(cfg, db, log).RestoreFrom(ctx, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s; to undo, restore %s\n", fs.Arg(0), undo.Name)
	return nil
}
