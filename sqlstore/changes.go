package sqlstore

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangeChannel is the PostgreSQL notification channel of configuration
// changes; the payload is "<version>:<reason>". Notifications are
// database-wide, so a database URL naming a search_path (several
// installations, or tests, in one database) gets "<channel>_<schema>".
const ChangeChannel = "switchyard_changes"

// channelFor returns the notification channel of a PostgreSQL URL.
func channelFor(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ChangeChannel
	}
	sp := u.Query().Get("search_path")
	if sp == "" {
		return ChangeChannel
	}
	var b strings.Builder
	for _, r := range strings.ToLower(sp) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		}
	}
	return ChangeChannel + "_" + b.String()
}

// BumpChangeVersion increments the configuration's change counter and, on
// PostgreSQL, notifies the other replicas. Called inside the transaction of
// the change, the notification is delivered only if that transaction
// commits.
func (s *store) BumpChangeVersion(ctx context.Context, reason string) (int64, error) {
	reason = truncateReason(reason)
	if _, err := s.exec(ctx, `UPDATE change_version SET version = version + 1, reason = ?, changed_at = ? WHERE id = 1`,
		reason, s.ts(s.nowUTC())); err != nil {
		return 0, fmt.Errorf("bump change version: %w", err)
	}
	v, err := s.ChangeVersion(ctx)
	if err != nil {
		return 0, err
	}
	if s.db.dialect.name() == "postgres" {
		if _, err := s.exec(ctx, `SELECT pg_notify(?, ?)`, channelFor(s.db.dsn), strconv.FormatInt(v, 10)+":"+reason); err != nil {
			return 0, fmt.Errorf("notify change: %w", err)
		}
	}
	return v, nil
}

// ChangeVersion returns the configuration's change counter.
func (s *store) ChangeVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.queryRow(ctx, `SELECT version FROM change_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read change version: %w", s.db.dialect.classify(err))
	}
	return v, nil
}

func truncateReason(r string) string {
	if len(r) > 200 {
		r = r[:200]
	}
	return strings.ReplaceAll(r, "\n", " ")
}

// Listen calls fn with the version of every change other replicas (and this
// one) notify, until ctx ends. On PostgreSQL it holds a connection of its
// own for LISTEN and reconnects with backoff when it drops, calling
// reconnected after each reconnection (changes may have been missed). On
// SQLite, which has no notifications, it returns at once: use polling.
func (db *DB) Listen(ctx context.Context, fn func(version int64, reason string), reconnected func()) {
	if db.dialect.name() != "postgres" {
		return
	}
	backoff := time.Second
	first := true
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, fn, func() {
			backoff = time.Second
			if !first && reconnected != nil {
				reconnected()
			}
			first = false
		})
		if ctx.Err() != nil {
			return
		}
		db.log.Warn("change listener lost its connection; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

func (db *DB) listenOnce(ctx context.Context, fn func(int64, string), connected func()) error {
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+channelFor(db.dsn)); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		vs, reason, _ := strings.Cut(n.Payload, ":")
		v, _ := strconv.ParseInt(vs, 10, 64)
		fn(v, reason)
	}
}
