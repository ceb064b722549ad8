// Package storetest is the contract suite that every switchyard.Store
// implementation must pass. It runs against SQLite always and against a
// real PostgreSQL when SWITCHYARD_TEST_POSTGRES_URL names one; each test
// gets its own database file or schema, so packages can run in parallel.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/secret"
	"github.com/switchyard/switchyard/sqlstore"
)

// PostgresURLEnv names the PostgreSQL server the tests use.
const PostgresURLEnv = "SWITCHYARD_TEST_POSTGRES_URL"

// Backend opens fresh, migrated databases with a loaded keyring and can dump
// every byte they store.
type Backend struct {
	Name string
	// Open returns a new empty database; it is closed when the test ends.
	Open func(t testing.TB) *sqlstore.DB
	// OpenPair returns two handles on one new database, as two replicas
	// would have.
	OpenPair func(t testing.TB) (*sqlstore.DB, *sqlstore.DB)
	// Dump returns everything the database holds, as stored.
	Dump func(t testing.TB, db *sqlstore.DB) []byte
}

// MasterKey returns a fixed master key for tests.
func MasterKey(t testing.TB) *secret.MasterKey {
	t.Helper()
	mk, err := secret.NewMasterKey(bytes.Repeat([]byte{0x42}, secret.KeySize), secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// Backends returns SQLite and, when configured, PostgreSQL.
func Backends() []Backend {
	return []Backend{SQLite(), Postgres()}
}

// SQLite keeps each database in its own file under the test's temp dir.
func SQLite() Backend {
	return Backend{
		Name: "sqlite",
		Open: func(t testing.TB) *sqlstore.DB {
			t.Helper()
			path := filepath.Join(t.TempDir(), "switchyard.db")
			return openMigrated(t, "sqlite://"+path)
		},
		OpenPair: func(t testing.TB) (*sqlstore.DB, *sqlstore.DB) {
			t.Helper()
			path := filepath.Join(t.TempDir(), "switchyard.db")
			return openMigrated(t, "sqlite://"+path), openMigrated(t, "sqlite://"+path)
		},
		Dump: func(t testing.TB, db *sqlstore.DB) []byte {
			t.Helper()
			var path string
			if err := db.SQL().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				t.Fatal(err)
			}
			var out []byte
			for _, p := range []string{path, path + "-wal", path + "-journal"} {
				b, err := os.ReadFile(p)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				out = append(out, b...)
			}
			return out
		},
	}
}

// Postgres gives each test its own schema in the server named by
// SWITCHYARD_TEST_POSTGRES_URL, and skips when that is unset.
func Postgres() Backend {
	return Backend{
		Name: "postgres",
		Open: func(t testing.TB) *sqlstore.DB {
			t.Helper()
			return openMigrated(t, postgresSchema(t))
		},
		OpenPair: func(t testing.TB) (*sqlstore.DB, *sqlstore.DB) {
			t.Helper()
			u := postgresSchema(t)
			return openMigrated(t, u), openMigrated(t, u)
		},
		Dump: func(t testing.TB, db *sqlstore.DB) []byte {
			t.Helper()
			rows, err := db.SQL().Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
			if err != nil {
				t.Fatal(err)
			}
			var tables []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				tables = append(tables, n)
			}
			rows.Close()
			var out bytes.Buffer
			for _, tbl := range tables {
				var s sql.NullString
				if err := db.SQL().QueryRow(`SELECT string_agg(t::text, E'\n') FROM ` + tbl + ` t`).Scan(&s); err != nil {
					t.Fatal(err)
				}
				out.WriteString(s.String)
			}
			return out.Bytes()
		},
	}
}

// PostgresURL creates an empty schema of its own for the test and returns
// a database URL that uses it (for tests that start whole programs); it
// skips the test when no PostgreSQL is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return postgresSchema(t)
}

// postgresSchema creates a schema of its own for the test in the server
// named by SWITCHYARD_TEST_POSTGRES_URL and returns a URL that uses it; it
// skips the test when that is unset.
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		t.Skipf("%s is not set; PostgreSQL tests skipped", PostgresURLEnv)
	}
	schema := "t_" + randomHex(t, 8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openMigrated(t testing.TB, dbURL string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := db.LoadKeyring(ctx, MasterKey(t)); err != nil {
		t.Fatalf("keyring: %v", err)
	}
	return db
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.ToLower(hex.EncodeToString(b))
}

func otherMasterKey(t testing.TB) (*secret.MasterKey, error) {
	t.Helper()
	mk, err := secret.NewMasterKey(bytes.Repeat([]byte{0x17}, secret.KeySize), secret.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mk, nil
}
