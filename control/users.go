package control

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
)

// ListUsers lists users; admins only.
func (s *Service) ListUsers(ctx context.Context, a *Actor, f switchyard.UserFilter) (switchyard.Page[*switchyard.User], error) {
	if err := requireAdmin(a, "list users"); err != nil {
		return switchyard.Page[*switchyard.User]{}, err
	}
	return s.store.ListUsers(ctx, f)
}

// GetUser returns a user: admins get anyone, users only themselves.
func (s *Service) GetUser(ctx context.Context, a *Actor, id string) (*switchyard.User, error) {
	if err := selfOrAdmin(a, id); err != nil {
		return nil, err
	}
	return s.store.GetUser(ctx, id)
}

// selfOrAdmin lets admins reach any user and users only themselves; others
// are hidden.
func selfOrAdmin(a *Actor, id string) error {
	if a == nil || a.User == nil {
		return requireAdmin(a, "read users")
	}
	if !a.Admin() && a.User.ID != id {
		return hidden("user", id)
	}
	return nil
}

// CreateUser stores a new user, with password (hashed) when not empty;
// admins only.
func (s *Service) CreateUser(ctx context.Context, a *Actor, u *switchyard.User, password string) error {
	if err := requireAdmin(a, "create users"); err != nil {
		return err
	}
	u.ID, u.PasswordHash, u.LastLoginAt = "", "", nil
	var pr switchyard.Problems
	pr.Merge("", u.Validate())
	if password != "" {
		pr.Merge("", auth.ValidatePassword(password))
	}
	if err := pr.Err("user"); err != nil {
		return err
	}
	if password != "" {
		h, err := s.hashPassword(ctx, password)
		if err != nil {
			return err
		}
		u.PasswordHash = h
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "user", u.ID, nil, userAudit(u))
	})
}

// UserChange is a change to a user; nil fields are left as they are.
type UserChange struct {
	Email    *string
	Role     *switchyard.Role
	Disabled *bool
	Password *string
	// CurrentPassword must accompany a change of one's own password.
	CurrentPassword *string
}

// UpdateUser changes a user if ifVersion (0: any) is still current. Admins
// change anyone's email, role, password and disabled flag; users only their
// own email and password. Whoever changes their own password must give the
// current one (if they have one). The last active admin cannot be demoted
// or disabled. A password change, a demotion or a disabling ends the user's
// sessions.
func (s *Service) UpdateUser(ctx context.Context, a *Actor, id string, ifVersion int64, ch UserChange) (*switchyard.User, error) {
	if err := selfOrAdmin(a, id); err != nil {
		return nil, err
	}
	self := a.User.ID == id
	if !a.Admin() && (ch.Role != nil && *ch.Role != a.User.Role || ch.Disabled != nil && *ch.Disabled != a.User.Disabled) {
		return nil, switchyard.Errorf(switchyard.EFORBIDDEN, "only admins may change roles or disable users; you may change your email and password")
	}
	// Report every bad field at once, before any password is hashed.
	var pr switchyard.Problems
	if ch.Email != nil {
		probe := switchyard.User{Username: "probe", Role: switchyard.RoleUser, Email: *ch.Email}
		pr.Merge("", probe.Validate())
	}
	if ch.Password != nil {
		pr.Merge("", auth.ValidatePassword(*ch.Password))
	}
	if err := pr.Err("user"); err != nil {
		return nil, err
	}
	var newHash string
	if ch.Password != nil {
		if self {
			if err := s.checkCurrentPassword(ctx, a, ch.CurrentPassword); err != nil {
				return nil, err
			}
		}
		h, err := s.hashPassword(ctx, *ch.Password)
		if err != nil {
			return nil, err
		}
		newHash = h
	}
	var out *switchyard.User
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("user", id, ifVersion, u.Version); err != nil {
			return err
		}
		before := userAudit(u)
		wasActiveAdmin := u.Role == switchyard.RoleAdmin && !u.Disabled
		demoted := ch.Role != nil && u.Role == switchyard.RoleAdmin && *ch.Role != switchyard.RoleAdmin
		disabled := ch.Disabled != nil && *ch.Disabled && !u.Disabled
		if ch.Email != nil {
			u.Email = *ch.Email
		}
		if ch.Role != nil {
			u.Role = *ch.Role
		}
		if ch.Disabled != nil {
			u.Disabled = *ch.Disabled
		}
		if newHash != "" {
			u.PasswordHash = newHash
		}
		if wasActiveAdmin && (demoted || disabled) {
			if err := lastAdminGuard(ctx, tx, id, "demote or disable"); err != nil {
				return err
			}
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if newHash != "" || demoted || disabled {
			if _, err := tx.DeleteUserSessions(ctx, id); err != nil {
				return err
			}
		}
		out = u
		after := userAudit(u)
		after.PasswordChanged = newHash != ""
		return s.audit(ctx, tx, a, "update", "user", id, before, after)
	})
	return out, err
}

// checkCurrentPassword verifies the caller's current password before they
// change it. Wrong attempts count against the same limits as failed logins.
func (s *Service) checkCurrentPassword(ctx context.Context, a *Actor, current *string) error {
	if a.User.PasswordHash == "" {
		return nil // nothing to confirm: the first password of a token-only user
	}
	if current == nil || *current == "" {
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "send your current password to change it",
			Fields: []switchyard.FieldError{{Field: "current_password", Code: "required", Message: "is required to change your own password"}}}
	}
	if ok, wait := s.limiter.Allow(a.User.Username, a.RemoteAddr); !ok {
		return &switchyard.Error{Code: switchyard.ERATELIMIT, RetryAfter: wait,
			Message: fmt.Sprintf("too many wrong passwords; try again in %s", wait.Round(time.Second))}
	}
	ok, _, err := s.verifyPassword(ctx, a.User.PasswordHash, *current)
	if err != nil {
		s.log.Error("password change: stored password hash is unusable", "user", a.User.Username, "error", err)
	}
	if !ok {
		s.limiter.Failure(a.User.Username, a.RemoteAddr)
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "the current password is wrong",
			Fields: []switchyard.FieldError{{Field: "current_password", Code: "wrong_password", Message: "is not your current password"}}}
	}
	s.limiter.Success(a.User.Username, a.RemoteAddr)
	return nil
}

// lastAdminGuard refuses to take away the last active admin other than id.
// ActiveAdmins locks the admin rows, so concurrent demotions queue here.
func lastAdminGuard(ctx context.Context, tx switchyard.Store, id, what string) error {
	ids, err := tx.ActiveAdmins(ctx)
	if err != nil {
		return err
	}
	for _, other := range ids {
		if other != id {
			return nil
		}
	}
	return switchyard.Errorf(switchyard.ECONFLICT,
		"cannot %s the last active admin; make another user an admin first", what)
}

// DeleteUser deletes a user and their tokens and sessions; admins only.
// Refused while the user owns connections, and for the last active admin.
func (s *Service) DeleteUser(ctx context.Context, a *Actor, id string, ifVersion int64) error {
	if a != nil && a.User != nil && !a.Admin() && a.User.ID != id {
		return hidden("user", id)
	}
	if err := requireAdmin(a, "delete users"); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		u, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("user", id, ifVersion, u.Version); err != nil {
			return err
		}
		if u.Role == switchyard.RoleAdmin && !u.Disabled {
			if err := lastAdminGuard(ctx, tx, id, "delete"); err != nil {
				return err
			}
		}
		if _, err := tx.DeleteUserSessions(ctx, id); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id, u.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "user", id, userAudit(u), nil)
	})
}

// userRecord is a user as the audit log shows it: never the password hash.
type userRecord struct {
	*switchyard.User
	HasPassword     bool `json:"has_password"`
	PasswordChanged bool `json:"password_changed,omitempty"`
}

func userAudit(u *switchyard.User) *userRecord {
	c := *u
	return &userRecord{User: &c, HasPassword: u.PasswordHash != ""}
}
