// Package sqlstore implements switchyard.Store on SQLite (the embedded
// default, through modernc.org/sqlite) and PostgreSQL (through pgx), with one
// body of SQL. The dialect files hold only what differs between the two.
//
// Secrets are encrypted before they reach the database: each secret field is
// sealed by a Keyring with additional data naming its table, row and field,
// so a ciphertext copied into another row does not open.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/secret"
)

//go:embed migrations
var migrations embed.FS

// Keyring seals and opens secret fields. *secret.Keyring implements it.
type Keyring interface {
	Encrypt(plaintext []byte, aad string) (string, error)
	Decrypt(stored, aad string) ([]byte, error)
}

// Options configure Open.
type Options struct {
	// MaxOpenConns bounds the connection pool (0: the dialect's default).
	MaxOpenConns int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives migration and store messages (default: discard).
	Logger *slog.Logger
}

// DB is an open Switchyard database. It implements switchyard.Store; the
// Keyring must be set (SetKeyring or LoadKeyring) before secrets are read or
// written.
type DB struct {
	*store
	sql     *sql.DB
	dialect dialect
	// dsn is kept for connections of their own (LISTEN on PostgreSQL).
	dsn string
	log *slog.Logger
	// mk is the master key the keyring was loaded with (LoadKeyring); a
	// restore checks a backup against it and reloads the keyring.
	mk *secret.MasterKey
	// usageInsert is the full-chunk INSERT of AppendUsage, prepared once:
	// parsing a 100-row statement cost about a fifth of writing the batch
	// on SQLite (the driver caches no statements).
	usageInsert struct {
		sync.Mutex
		stmt *sql.Stmt
	}
}

// Interface guard.
var _ switchyard.Store = (*DB)(nil)

// Open connects to the database named by url: "sqlite:///abs/path.db",
// "sqlite://relative/path.db" or "postgres://…". It does not migrate.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	d, dsn, err := dialectFor(url)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(d.driver(), dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d.name(), err)
	}
	d.configure(db, opts.MaxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, &switchyard.Error{Code: switchyard.EUNAVAILABLE,
			Message: fmt.Sprintf("cannot reach the %s database: %s", d.name(), redactDSN(err.Error(), dsn)), Err: err}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	out := &DB{sql: db, dialect: d, log: opts.Logger, dsn: dsn}
	out.store = &store{q: db, db: out, now: opts.Now}
	return out, nil
}

// Close closes the database.
func (db *DB) Close() error {
	db.usageInsert.Lock()
	if db.usageInsert.stmt != nil {
		_ = db.usageInsert.stmt.Close()
	}
	db.usageInsert.Unlock()
	return db.sql.Close()
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name() }

// SQL returns the underlying database handle, for tests and for backups.
func (db *DB) SQL() *sql.DB { return db.sql }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// SetKeyring sets the keyring that seals and opens secrets.
func (db *DB) SetKeyring(k Keyring) { db.store.keys = k }

func (db *DB) migrator() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+db.dialect.name())
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	if db.dialect.name() == "postgres" {
		// Replicas starting together take turns instead of racing.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	dia := goose.DialectSQLite3
	if db.dialect.name() == "postgres" {
		dia = goose.DialectPostgres
	}
	return goose.NewProvider(dia, db.sql, sub, opts...)
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// MigrateUp applies every pending migration and returns how many it applied.
func (db *DB) MigrateUp(ctx context.Context) (int, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	for _, r := range res {
		db.log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	return len(res), nil
}

// MigrateDown rolls back migrations until the schema is at version to
// (0 removes everything). It returns how many it rolled back.
func (db *DB) MigrateDown(ctx context.Context, to int64) (int, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	res, err := p.DownTo(ctx, to)
	for _, r := range res {
		db.log.Info("migration rolled back", "version", r.Source.Version, "file", r.Source.Path)
	}
	if err != nil {
		return len(res), fmt.Errorf("migrate down: %w", err)
	}
	return len(res), nil
}

// MigrationStatus lists every known migration.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, len(st))
	for i, s := range st {
		out[i] = MigrationStatus{Version: s.Source.Version, Name: strings.TrimSuffix(s.Source.Path, ".sql"),
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt}
	}
	return out, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// store runs queries on the database or inside one transaction.
type store struct {
	q    querier
	db   *DB
	now  func() time.Time
	keys Keyring
	inTx bool
}

// InTx runs fn in one transaction. SQLite transactions begin IMMEDIATE, so
// concurrent writers wait for each other instead of failing.
func (s *store) InTx(ctx context.Context, fn func(tx switchyard.Store) error) error {
	return s.tx(ctx, func(t *store) error { return fn(t) })
}

func (s *store) tx(ctx context.Context, fn func(*store) error) (err error) {
	if s.inTx {
		return fn(s)
	}
	tx, err := s.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return s.db.dialect.classify(fmt.Errorf("begin transaction: %w", err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	t := &store{q: tx, db: s.db, now: s.now, keys: s.keys, inTx: true}
	if err := fn(t); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.db.dialect.classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}

func (s *store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := s.q.ExecContext(ctx, s.db.dialect.rebind(query), args...)
	if err != nil {
		return nil, s.db.dialect.classify(err)
	}
	return res, nil
}

func (s *store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := s.q.QueryContext(ctx, s.db.dialect.rebind(query), args...)
	if err != nil {
		return nil, s.db.dialect.classify(err)
	}
	return rows, nil
}

func (s *store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.q.QueryRowContext(ctx, s.db.dialect.rebind(query), args...)
}

// ts converts a time for storage in the current dialect.
func (s *store) ts(t time.Time) any { return s.db.dialect.time(t) }

// tsp converts an optional time.
func (s *store) tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.db.dialect.time(*t)
}

func (s *store) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func notFound(what, id string) error {
	return switchyard.Errorf(switchyard.ENOTFOUND, "%s %q not found", what, id)
}

// checkVersioned turns the result of "UPDATE … WHERE id = ? AND version = ?"
// into ENOTFOUND or ESTALE when no row changed.
func (s *store) checkVersioned(ctx context.Context, res sql.Result, table, what, id string, version int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var current int64
	err = s.queryRow(ctx, "SELECT version FROM "+table+" WHERE id = ?", id).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(what, id)
	}
	if err != nil {
		return s.db.dialect.classify(err)
	}
	return &switchyard.Error{Code: switchyard.ESTALE,
		Message: fmt.Sprintf("%s %q was changed by someone else (you sent version %d, it is now at version %d); read it again and reapply your change", what, id, version, current)}
}

// deleteVersioned deletes one row, checking its version unless it is 0.
func (s *store) deleteVersioned(ctx context.Context, table, what, id string, version int64) error {
	q, args := "DELETE FROM "+table+" WHERE id = ?", []any{id}
	if version != 0 {
		q += " AND version = ?"
		args = append(args, version)
	}
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	return s.checkVersioned(ctx, res, table, what, id, version)
}
