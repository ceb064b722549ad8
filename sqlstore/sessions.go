package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
)

const sessionCols = `id, user_id, hash, csrf_token, remote_addr, created_at, expires_at, last_seen_at`

// CreateSession stores a new session (its token's hash).
func (s *store) CreateSession(ctx context.Context, se *switchyard.Session) error {
	if se.UserID == "" || se.Hash == "" || se.CSRFToken == "" || se.ExpiresAt.IsZero() {
		return switchyard.Errorf(switchyard.EINVALID, "a session needs a user, a token hash, a CSRF token and an expiry")
	}
	if se.ID == "" {
		se.ID = newID()
	}
	now := s.nowUTC()
	if se.CreatedAt.IsZero() {
		se.CreatedAt = now
	}
	if se.LastSeenAt.IsZero() {
		se.LastSeenAt = now
	}
	_, err := s.exec(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		se.ID, se.UserID, se.Hash, se.CSRFToken, se.RemoteAddr, s.ts(se.CreatedAt), s.ts(se.ExpiresAt), s.ts(se.LastSeenAt))
	return err
}

// GetSessionByHash returns an unexpired session.
func (s *store) GetSessionByHash(ctx context.Context, hash string, now time.Time) (*switchyard.Session, error) {
	var se switchyard.Session
	err := s.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE hash = ? AND expires_at > ?`, hash, s.ts(now)).Scan(
		&se.ID, &se.UserID, &se.Hash, &se.CSRFToken, &se.RemoteAddr, dbTime{&se.CreatedAt}, dbTime{&se.ExpiresAt}, dbTime{&se.LastSeenAt})
	if isNoRows(err) {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "no such session, or it expired")
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", s.db.dialect.classify(err))
	}
	return &se, nil
}

// TouchSession records activity and moves the expiry forward.
func (s *store) TouchSession(ctx context.Context, id string, seen, expires time.Time) error {
	_, err := s.exec(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?`, s.ts(seen), s.ts(expires), id)
	return err
}

// DeleteSession ends one session; ending an ended one is not an error.
func (s *store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

// DeleteUserSessions ends every session of a user.
func (s *store) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeleteExpiredSessions removes sessions that expired before now.
func (s *store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, s.ts(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
