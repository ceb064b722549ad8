package sqlstore

import (
	"context"
	"errors"
	"hash/fnv"
	"net/url"
	"sync"
	"time"

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

// TryLead tries once to become the one replica that runs the job called
// name; see Elector.
func (db *DB) TryLead(ctx context.Context, name string) (Lease, bool, error) {
	e := db.Elector(name)
	defer e.Close()
	return e.TryLead(ctx)
}

// Elector campaigns for the leadership of one job. On PostgreSQL it takes
// a session advisory lock (pg_try_advisory_lock) on a connection of its
// own, so that the lock goes when this process or its connection dies;
// between failed attempts it keeps that connection, so a follower that
// tries every few seconds does not reconnect each time. On SQLite, which
// one process owns, it always succeeds.
type Elector struct {
	db   *DB
	name string
	mu   sync.Mutex
	conn *pgx.Conn
}

// Elector returns an elector for the job called name.
func (db *DB) Elector(name string) *Elector { return &Elector{db: db, name: name} }

// TryLead tries to take the leadership; false means another replica holds
// it. The lease returned owns the connection the lock was taken on.
func (e *Elector) TryLead(ctx context.Context) (Lease, bool, error) {
	if e.db.dialect.name() != "postgres" {
		return localLease{}, true, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil || e.conn.IsClosed() {
		conn, err := pgx.Connect(ctx, e.db.dsn)
		if err != nil {
			return nil, false, err
		}
		e.conn = conn
	}
	var got bool
	key := leaderKey(e.db.dsn, e.name)
	if err := e.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		_ = e.conn.Close(context.WithoutCancel(ctx))
		e.conn = nil
		return nil, false, err
	}
	if !got {
		return nil, false, nil
	}
	l := &pgLease{conn: e.conn, key: key}
	e.conn = nil
	return l, true, nil
}

// Close closes the connection kept between attempts; a lease already
// taken is not affected.
func (e *Elector) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		_ = e.conn.Close(context.Background())
		e.conn = nil
	}
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
	key  int64
}

func (l *pgLease) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return errLeaseReleased
	}
	return l.conn.Ping(ctx)
}

// Release unlocks and closes the lease's connection. The unlock is
// explicit because the server frees a closed session's locks a moment
// later: another replica may try at once.
func (l *pgLease) Release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
		_ = l.conn.Close(ctx)
		l.conn = nil
	}
}
