package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
)

// errBadLogin is the one answer for a wrong username, a wrong password and a
// disabled user, so that a login does not reveal which users exist.
var errBadLogin = switchyard.Errorf(switchyard.EUNAUTHORIZED, "the username or password is wrong")

// errBadCredentials is the one answer for a token or session that is
// unknown, expired, revoked, or whose user is disabled.
var errBadCredentials = switchyard.Errorf(switchyard.EUNAUTHORIZED,
	"the API token or session is not valid (unknown, expired or revoked); log in again or create a new token")

// touchEvery limits last-used writes to one per token or session per minute.
const touchEvery = time.Minute

// NewSession is a started session: Token goes into the cookie, once.
type NewSession struct {
	Session *switchyard.Session
	Token   string
	User    *switchyard.User
}

// Login checks a username and password and starts a session. Failed attempts
// are limited per user and per address (ERATELIMIT with RetryAfter).
func (s *Service) Login(ctx context.Context, username, password, addr string) (*NewSession, error) {
	username = strings.TrimSpace(strings.ToLower(username))
	if ok, wait := s.limiter.Allow(username, addr); !ok {
		return nil, &switchyard.Error{Code: switchyard.ERATELIMIT, RetryAfter: wait,
			Message: fmt.Sprintf("too many failed logins; try again in %s", wait.Round(time.Second))}
	}
	u, err := s.store.GetUserByUsername(ctx, username)
	hash := s.timingHash()
	if err == nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	} else if err != nil && switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
		return nil, err
	}
	ok, rehash, err := s.verifyPassword(ctx, hash, password)
	if err != nil {
		s.log.Error("login: stored password hash is unusable", "user", username, "error", err)
	}
	if u == nil || u.PasswordHash == "" || u.Disabled || !ok {
		s.limiter.Failure(username, addr)
		return nil, errBadLogin
	}
	s.limiter.Success(username, addr)
	token, tokenHash, _, err := auth.NewToken(auth.PrefixSession)
	if err != nil {
		return nil, err
	}
	csrf, err := auth.NewCSRFToken()
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	se := &switchyard.Session{UserID: u.ID, Hash: tokenHash, CSRFToken: csrf, RemoteAddr: addr,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.sessionTTL)}
	err = s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.CreateSession(ctx, se); err != nil {
			return err
		}
		if err := tx.RecordLogin(ctx, u.ID, now); err != nil {
			return err
		}
		if rehash {
			fresh, err := tx.GetUser(ctx, u.ID)
			if err != nil {
				return err
			}
			if h, err := s.hashPassword(ctx, password); err == nil {
				fresh.PasswordHash = h
				if err := tx.UpdateUser(ctx, fresh); err != nil {
					return err
				}
			}
		}
		fresh, err := tx.GetUser(ctx, u.ID)
		if err != nil {
			return err
		}
		u = fresh
		return s.audit(ctx, tx, &Actor{User: u, RemoteAddr: addr}, "login", "session", se.ID, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	return &NewSession{Session: se, Token: token, User: u}, nil
}

// Logout ends the actor's session, if they have one.
func (s *Service) Logout(ctx context.Context, a *Actor) error {
	if a == nil || a.Session == nil {
		return nil
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.DeleteSession(ctx, a.Session.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "logout", "session", a.Session.ID, nil, nil)
	})
}

// AuthenticateToken resolves an API token to its actor.
func (s *Service) AuthenticateToken(ctx context.Context, token, addr string) (*Actor, error) {
	t, err := s.store.GetTokenByHash(ctx, auth.HashToken(token))
	if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !t.Active(now) {
		return nil, errBadCredentials
	}
	u, err := s.activeUser(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > touchEvery {
		if err := s.store.TouchToken(ctx, t.ID, now.UTC()); err != nil {
			s.log.Warn("could not record token use", "token_id", t.ID, "error", err)
		}
	}
	return &Actor{User: u, TokenID: t.ID, RemoteAddr: addr}, nil
}

// AuthenticateSession resolves a session cookie to its actor and slides the
// session's expiry forward.
func (s *Service) AuthenticateSession(ctx context.Context, cookie, addr string) (*Actor, error) {
	now := s.now()
	se, err := s.store.GetSessionByHash(ctx, auth.HashToken(cookie), now)
	if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	u, err := s.activeUser(ctx, se.UserID)
	if err != nil {
		return nil, err
	}
	if now.Sub(se.LastSeenAt) > touchEvery {
		se.LastSeenAt, se.ExpiresAt = now.UTC(), now.UTC().Add(s.sessionTTL)
		if err := s.store.TouchSession(ctx, se.ID, se.LastSeenAt, se.ExpiresAt); err != nil {
			s.log.Warn("could not extend session", "session_id", se.ID, "error", err)
		}
	}
	return &Actor{User: u, Session: se, RemoteAddr: addr}, nil
}

// activeUser loads the user on every request, so that a demotion or a
// disabling takes effect at once.
func (s *Service) activeUser(ctx context.Context, id string) (*switchyard.User, error) {
	u, err := s.store.GetUser(ctx, id)
	if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errBadCredentials
	}
	return u, nil
}

// verifyPassword checks a password with bounded concurrency.
func (s *Service) verifyPassword(ctx context.Context, hash, password string) (ok, rehash bool, err error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, false, ctx.Err()
	}
	defer func() { <-s.hashing }()
	return auth.VerifyPassword(hash, password)
}

func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashing }()
	return auth.HashPassword(password)
}

// BootstrapResult says what Bootstrap created.
type BootstrapResult struct {
	// Created is true on first start, when the admin user was made.
	Created  bool
	Username string
	// Password is the one-time password, when no admin token was given.
	Password string
	// Token is true when the admin token was registered.
	Token bool
}

// BootstrapUsername is the first admin's username.
const BootstrapUsername = "admin"

// Bootstrap creates the first admin when there are no users: with the given
// admin token registered as its API token, or otherwise with a generated
// one-time password for the caller to print once. With users present it
// does nothing.
func (s *Service) Bootstrap(ctx context.Context, adminToken string) (BootstrapResult, error) {
	var res BootstrapResult
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		n, err := tx.CountUsers(ctx)
		if err != nil || n > 0 {
			return err
		}
		u := &switchyard.User{Username: BootstrapUsername, Role: switchyard.RoleAdmin}
		res = BootstrapResult{Created: true, Username: u.Username}
		if adminToken == "" {
			pw, err := auth.GeneratePassword()
			if err != nil {
				return err
			}
			if u.PasswordHash, err = s.hashPassword(ctx, pw); err != nil {
				return err
			}
			res.Password = pw
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		actor := &Actor{User: u}
		if err := s.audit(ctx, tx, actor, "create", "user", u.ID, nil, u); err != nil {
			return err
		}
		if adminToken == "" {
			return nil
		}
		t := &switchyard.APIToken{UserID: u.ID, Name: "bootstrap (SWITCHYARD_ADMIN_TOKEN)", Hash: auth.HashToken(adminToken),
			Prefix: displayOf(adminToken)}
		if err := tx.CreateToken(ctx, t); err != nil {
			return err
		}
		res.Token = true
		return s.audit(ctx, tx, actor, "create", "token", t.ID, nil, t)
	})
	return res, err
}

// displayOf shows the first characters of a caller-chosen token.
func displayOf(token string) string {
	if len(token) <= 8 {
		return "…"
	}
	return token[:4] + "…"
}

// PruneSessions deletes expired sessions every interval until ctx ends.
func (s *Service) PruneSessions(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.store.DeleteExpiredSessions(ctx, s.now())
			if err != nil && ctx.Err() == nil {
				s.log.Warn("could not delete expired sessions", "error", err)
			} else if n > 0 {
				s.log.Debug("deleted expired sessions", "count", n)
			}
		}
	}
}

// timingHash returns the hash a login without a user is checked against.
func (s *Service) timingHash() string {
	s.dummy.Do(func() {
		h, err := auth.HashPassword("timing-equaliser-not-a-password")
		if err != nil {
			s.log.Error("cannot make the timing hash for logins", "error", err)
			return
		}
		s.dummyHash = h
	})
	return s.dummyHash
}
