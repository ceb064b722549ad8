package switchyard

import (
	"net/mail"
	"regexp"
	"time"
)

// Role is what a user may do.
type Role string

const (
	// RoleAdmin manages providers, models, templates, users and sees the audit log.
	RoleAdmin Role = "admin"
	// RoleUser sees enabled providers and models and manages their own connections.
	RoleUser Role = "user"
)

// User is a person who logs in to the dashboard or calls the API.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Role     Role   `json:"role"`
	// PasswordHash is an argon2id or bcrypt hash; empty for token-only users.
	PasswordHash string     `json:"-"`
	Disabled     bool       `json:"disabled"`
	LastLoginAt  *time.Time `json:"last_login_at"`
	Version      int64      `json:"version"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks every field and reports every problem at once.
func (u *User) Validate() error {
	var pr Problems
	if !usernameRE.MatchString(u.Username) {
		pr.Add("username", "invalid_username", "must be 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			pr.Add("email", "invalid_email", "must be an e-mail address such as \"ada@example.com\"")
		}
	}
	if u.Role != RoleAdmin && u.Role != RoleUser {
		pr.Add("role", "invalid_enum", "must be admin or user")
	}
	return pr.Err("user")
}

// APIToken is a bearer token for the API, owned by a user. The token itself
// is shown once, at creation, and stored only as a hash.
type APIToken struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Hash       string     `json:"-"`
	Prefix     string     `json:"prefix"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Active reports whether the token may be used at time now.
func (t *APIToken) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// Validate checks every field and reports every problem at once.
func (t *APIToken) Validate() error {
	var pr Problems
	validateName(&pr, "name", t.Name)
	if t.UserID == "" {
		pr.Add("user_id", "required", "a token belongs to a user")
	}
	if t.Hash == "" {
		pr.Add("hash", "required", "a token is stored as its hash")
	}
	return pr.Err("token")
}

// Session is a dashboard login. The cookie holds a random token; the store
// keeps only its hash. CSRFToken must accompany unsafe requests made with
// the cookie.
type Session struct {
	ID         string
	UserID     string
	Hash       string
	CSRFToken  string
	RemoteAddr string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}
