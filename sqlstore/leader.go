package sqlstore

import (
	"context"
	"errors"
	"hash/fnv"
	"net/url"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Lease is the leadership of a background job, held until Release or until
// its connection is lost.
type Lease interface {
	// Check reports whether the lease is still held: on PostgreSQL it asks
	// the server over the lease's own connection, so a lost connection
	// (and with it the lock) shows here.
	Check(ctx context.Context) error
	// Release gives the leadership up.
	Release()
}

// TryLead tries to become the one replica that runs the job called name.
// On PostgreSQL it takes a session advisory lock (pg_try_advisory_lock) on
// a connection of its own, so that the lock goes when this process or its
// connection dies; it returns false when another replica holds it. On
// SQLite, which one process owns, it always succeeds.
func (db *DB) TryLead(ctx context.Context, name string) (Lease, bool, error) {
	if db.dialect.name() != "postgres" {
		return localLease{}, true, nil
	}
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return nil, false, err
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, leaderKey(db.dsn, name)).Scan(&got); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, false, err
	}
	if !got {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, false, nil
	}
	return &pgLease{conn: conn}, true, nil
}

// leaderKey is the advisory lock key of a job: the same for every replica
// of one installation (one database and search_path), different between
// installations sharing a server.
func leaderKey(dsn, name string) int64 {
	h := fnv.New64a()
	schema := ""
	if u, err := url.Parse(dsn); err == nil {
		schema = u.Query().Get("search_path")
	}
	_, _ = h.Write([]byte("switchyard-leader\x00" + schema + "\x00" + name))
	return int64(h.Sum64())
}

var errLeaseReleased = errors.New("the leadership was released")

type localLease struct{}

func (localLease) Check(context.Context) error { return nil }
func (localLease) Release()                    {}

type pgLease struct {
	mu   sync.Mutex
	conn *pgx.Conn
}

func (l *pgLease) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return errLeaseReleased
	}
	return l.conn.Ping(ctx)
}

// Release closes the lease's connection, which releases the lock.
func (l *pgLease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		_ = l.conn.Close(context.Background())
		l.conn = nil
	}
}
