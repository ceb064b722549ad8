package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/secret"
	"github.com/switchyard/switchyard/sqlstore"
)

// Set by the release build with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	var c *config.Error
	if errors.As(err, &u) || errors.As(err, &c) {
		return 2
	}
	return 1
}

const usage = `Usage: switchyard <command> [flags]

Commands:
  serve                     start the control plane and gateway (the default)
  migrate up|down|status    apply (after a pre-migrate backup; -no-backup skips it), roll back (down rolls back one;
                            down -to N to version N, 0 for all) or list migrations
  keys status|rotate        show how many secrets each data key protects, or rotate to a new data key
  export [-o FILE]          write providers, models, templates and connections as one document
                            (--format yaml, --provider SLUG, --template SLUG, --passphrase-file FILE, --schema)
  import FILE [--apply]     plan (and with --apply, apply) a document: --on-conflict skip|overwrite|rename,
                            --passphrase-file FILE (or SWITCHYARD_EXPORT_PASSPHRASE for both)
  backup [-o FILE]          take a backup of the whole database into SWITCHYARD_BACKUP_DIR (or FILE)
  restore -yes FILE         restore a backup, after taking a pre-restore backup that undoes it
  legacy plan|apply         migrate hardcoded configurations: --from-env, --litellm-config FILE, --connections
                            (plan reports per item; apply records a migration); --json for the report as JSON
  legacy rollback [ID]      restore the state before a migration (the latest by default); --force discards later edits
  legacy status             list migrations
  version                   print the version

Run "switchyard <command> -h" for the settings every command takes.
`

// run is the whole program: it parses args and the environment (through
// getenv), writes to stdout and stderr, and returns when ctx is cancelled or
// the command is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "serve", "migrate", "keys", "export", "import", "backup", "restore", "legacy":
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	var cmdArgs []string
	switch cmd {
	case "export":
		fs, _, _, _, _, _, _ := exportFlags()
		cmdArgs, args = splitFlags(fs, args)
	case "import":
		fs, _, _, _ := importFlags()
		cmdArgs, args = splitFlags(fs, args)
	case "backup":
		fs, _ := backupFlags()
		cmdArgs, args = splitFlags(fs, args)
	case "restore":
		fs, _ := restoreFlags()
		cmdArgs, args = splitFlags(fs, args)
	case "legacy":
		fs, _ := legacyFlags()
		cmdArgs, args = splitFlags(fs, args)
	}
	cfg, rest, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage+"\n"+config.Usage())
		return nil
	}
	if err != nil {
		return fmt.Errorf("invalid settings:\n%w", err)
	}
	log := newLogger(cfg, stderr)
	switch cmd {
	case "serve":
		if len(rest) > 0 {
			return usageError{fmt.Sprintf("serve takes no arguments (got %q)", rest)}
		}
		return serve(ctx, cfg, log, stdout)
	case "migrate":
		return migrateCmd(ctx, cfg, log, rest, stdout)
	case "export":
		return exportCmd(ctx, cfg, log, append(cmdArgs, rest...), getenv, stdout)
	case "import":
		return importCmd(ctx, cfg, log, append(cmdArgs, rest...), getenv, stdout)
	case "backup":
		return backupCmd(ctx, cfg, log, append(cmdArgs, rest...), stdout)
	case "restore":
		return restoreCmd(ctx, cfg, log, append(cmdArgs, rest...), stdout)
	case "legacy":
		return legacyCmd(ctx, cfg, log, append(cmdArgs, rest...), getenv, stdout)
	default:
		return keysCmd(ctx, cfg, log, rest, stdout)
	}
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func versionString() string {
	v, c, d := version, commit, date
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	out := "switchyard " + v
	if c != "" {
		out += " commit " + c
	}
	if d != "" {
		out += " built " + d
	}
	return out + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// openStore opens the configured database, creating the data directory for
// SQLite.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*sqlstore.DB, error) {
	if p := cfg.SQLitePath(); p != "" && p != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("create the directory of the database %s: %w", p, err)
		}
		// The database holds password hashes and sealed secrets: only its
		// owner reads it (SQLite gives its WAL files the same mode).
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create the database file %s: %w", p, err)
		}
		f.Close()
	}
	return sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{MaxOpenConns: maxConns(cfg), Logger: log})
}

func maxConns(cfg *config.Config) int {
	if cfg.DatabaseDialect() == "postgres" {
		return cfg.DBMaxOpenConns
	}
	return 0
}

// loadMasterKey finds or creates the master key and warns when it was
// created, since without it the stored secrets cannot be read.
func loadMasterKey(cfg *config.Config, log *slog.Logger) (*secret.MasterKey, error) {
	mk, generated, err := secret.LoadMasterKey(cfg.MasterKey.Reveal(), cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if generated {
		log.Warn("generated a new master key: back up this file, without it the stored secrets cannot be decrypted; in production set SWITCHYARD_MASTER_KEY instead",
			"file", filepath.Join(cfg.DataDir, secret.MasterKeyFile), "key_id", mk.ID())
	}
	return mk, nil
}

func migrateCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"migrate needs a subcommand: up, down or status"}
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "up":
		fs := flag.NewFlagSet("migrate up", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		noBackup := fs.Bool("no-backup", false, "do not take a pre-migrate backup")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{"migrate up: " + err.Error() + "; use migrate up [-no-backup]"}
		}
		n, info, err := migrateUp(ctx, cfg, db, log, !*noBackup)
		if info != nil {
			fmt.Fprintf(stdout, "took backup %s in %s first\n", info.Name, cfg.BackupDir)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	case "down":
		fs := flag.NewFlagSet("migrate down", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		to := fs.Int64("to", -1, "roll back to this version (0 removes every table)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{"migrate down: " + err.Error() + "; use migrate down [-to VERSION]"}
		}
		target := *to
		if target < 0 {
			// One step back: to the version before the last applied one.
			st, err := db.MigrationStatus(ctx)
			if err != nil {
				return err
			}
			var applied []int64
			for _, s := range st {
				if s.Applied {
					applied = append(applied, s.Version)
				}
			}
			if len(applied) == 0 {
				fmt.Fprintln(stdout, "nothing to roll back")
				return nil
			}
			target = 0
			if len(applied) > 1 {
				target = applied[len(applied)-2]
			}
		}
		n, err := db.MigrateDown(ctx, target)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rolled back %d migration(s); the schema is at version %d\n", n, target)
	case "status":
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATE\tAPPLIED AT\tNAME")
		for _, s := range st {
			state, at := "pending", "-"
			if s.Applied {
				state, at = "applied", s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.Version, state, at, s.Name)
		}
		return tw.Flush()
	default:
		return usageError{fmt.Sprintf("unknown migrate subcommand %q: use up, down or status", args[0])}
	}
	return nil
}

func keysCmd(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "status" && args[0] != "rotate") {
		return usageError{"keys needs one subcommand: status or rotate"}
	}
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.MigrateUp(ctx); err != nil {
		return err
	}
	mk, err := loadMasterKey(cfg, log)
	if err != nil {
		return err
	}
	if _, err := db.LoadKeyring(ctx, mk); err != nil {
		return err
	}
	if args[0] == "rotate" {
		id, n, err := db.RotateKeys(ctx, mk)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "data key %s is now active; re-encrypted %d secret(s)\n", id, n)
	}
	st, err := db.KeyStatuses(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tACTIVE\tCREATED\tSECRETS")
	for _, k := range st {
		created := "-"
		if !k.CreatedAt.IsZero() {
			created = k.CreatedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, strconv.FormatBool(k.Active), created, strconv.Itoa(k.Secrets))
	}
	return tw.Flush()
}
