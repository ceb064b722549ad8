package sqlstore

import (
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchyard/switchyard"
)

// sqliteDialect is SQLite; memory marks a private in-memory database.
type sqliteDialect struct{ memory bool }

func (sqliteDialect) name() string   { return "sqlite" }
func (sqliteDialect) driver() string { return "sqlite" }

// sqliteDSN turns a path into a DSN with WAL, foreign keys, a busy timeout
// and IMMEDIATE transactions: a writer takes the write lock when it begins,
// so a concurrent writer waits (up to the busy timeout) instead of failing
// with SQLITE_BUSY when it upgrades a read transaction.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// PrepareSQLitePath creates the directory of a SQLite database file.
func PrepareSQLitePath(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		return os.MkdirAll(dir, 0o700)
	}
	return nil
}

func (d sqliteDialect) configure(db *sql.DB, maxOpen int) {
	if d.memory {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
		return
	}
	if maxOpen <= 0 {
		maxOpen = 8
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) like() string           { return "LIKE" }
func (sqliteDialect) forUpdate() string      { return "" }

func (sqliteDialect) time(t time.Time) any { return t.UTC().Format(timeLayout) }

func (sqliteDialect) classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	msg := se.Error()
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		key := msg
		if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
			key = msg[i+len("constraint failed: "):]
			if j := strings.Index(key, " ("); j >= 0 {
				key = key[:j]
			}
		}
		return uniqueViolation(key, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyViolation(err)
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return checkViolation(err)
	}
	// Busy and locked come with extended codes (SQLITE_BUSY_SNAPSHOT, …);
	// their primary code is the low byte.
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &switchyard.Error{Code: switchyard.EUNAVAILABLE, Message: "the database is busy; try again", Err: err}
	}
	return err
}
