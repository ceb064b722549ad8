package switchyard

import (
	"context"
	"time"
)

// Page sizes for every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// ListOptions pages through a list. Cursor is opaque: pass back the
// NextCursor of the previous page.
type ListOptions struct {
	Limit  int
	Cursor string
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// ProviderFilter selects providers. Zero fields select everything.
type ProviderFilter struct {
	ListOptions
	Status   ProviderStatus
	Protocol Protocol
	Enabled  *bool
	System   *bool
	// Search matches name or slug, case-insensitively.
	Search string
}

// ModelFilter selects models.
type ModelFilter struct {
	ListOptions
	ProviderID string
	Enabled    *bool
	// ProviderEnabled selects models whose provider is enabled (or not).
	ProviderEnabled *bool
	Status          ModelStatus
	// Search matches upstream id or display name, case-insensitively.
	Search string
}

// TemplateFilter selects templates.
type TemplateFilter struct {
	ListOptions
	System   *bool
	Protocol Protocol
	Search   string
}

// ConnectionFilter selects connections.
type ConnectionFilter struct {
	ListOptions
	OwnerID    string
	ProviderID string
}

// UserFilter selects users.
type UserFilter struct {
	ListOptions
	Role Role
}

// AuditFilter selects audit entries; the newest come first.
type AuditFilter struct {
	ListOptions
	ResourceType string
	ResourceID   string
	ActorID      string
	Since        time.Time
	Until        time.Time
}

// ProviderStore keeps providers with their credentials.
//
// Create* set ID, Version (1) and the timestamps on the value they are given.
// Update* take the value with the Version that was read; a stale version
// returns ESTALE, a missing row ENOTFOUND, and on success the value carries
// its new Version. Delete* take the version too (0 skips the check).
// A taken unique value returns ECONFLICT naming the field; invalid input
// returns EINVALID listing every bad field.
type ProviderStore interface {
	CreateProvider(ctx context.Context, p *Provider) error
	GetProvider(ctx context.Context, id string) (*Provider, error)
	GetProviderBySlug(ctx context.Context, slug string) (*Provider, error)
	ListProviders(ctx context.Context, f ProviderFilter) (Page[*Provider], error)
	UpdateProvider(ctx context.Context, p *Provider) error
	// DeleteProvider deletes a provider and its models. It returns EFORBIDDEN
	// for a system provider and ECONFLICT while a connection uses it.
	DeleteProvider(ctx context.Context, id string, version int64) error
	// SetProviderStatus records the health status; it does not change the
	// version, so it never makes an admin's edit stale.
	SetProviderStatus(ctx context.Context, id string, status ProviderStatus) error
	// SetProviderTest stores the latest connectivity test without changing
	// the version.
	SetProviderTest(ctx context.Context, id string, t *ProviderTest) error
}

// ModelStore keeps models. Upstream ids are unique within a provider.
type ModelStore interface {
	CreateModel(ctx context.Context, m *Model) error
	// CreateModels stores many models in one transaction: all or none.
	CreateModels(ctx context.Context, ms []*Model) error
	GetModel(ctx context.Context, id string) (*Model, error)
	ListModels(ctx context.Context, f ModelFilter) (Page[*Model], error)
	UpdateModel(ctx context.Context, m *Model) error
	DeleteModel(ctx context.Context, id string, version int64) error
	// SetModelTest stores a model's latest test and the status it implies
	// without changing the version, so that a test never makes an admin's
	// edit stale.
	SetModelTest(ctx context.Context, id string, status ModelStatus, t *TestResult) error
	// AddBenchmark keeps a finished benchmark (ModelID set; ID and At are
	// filled in when empty) in the model's history; a completed one also
	// becomes the model's LastBenchmark. The model's version does not change.
	AddBenchmark(ctx context.Context, b *BenchmarkResult) error
	// ListBenchmarks lists a model's benchmarks, newest first. The history
	// goes with the model when it is deleted.
	ListBenchmarks(ctx context.Context, modelID string, opts ListOptions) (Page[*BenchmarkResult], error)
}

// TemplateStore keeps provider templates. System templates are written only
// by catalog seeding.
type TemplateStore interface {
	CreateTemplate(ctx context.Context, t *ProviderTemplate) error
	GetTemplate(ctx context.Context, id string) (*ProviderTemplate, error)
	GetTemplateBySlug(ctx context.Context, slug string) (*ProviderTemplate, error)
	ListTemplates(ctx context.Context, f TemplateFilter) (Page[*ProviderTemplate], error)
	UpdateTemplate(ctx context.Context, t *ProviderTemplate) error
	DeleteTemplate(ctx context.Context, id string, version int64) error
}

// ConnectionStore keeps connections. Key hashes are unique.
type ConnectionStore interface {
	CreateConnection(ctx context.Context, c *Connection) error
	GetConnection(ctx context.Context, id string) (*Connection, error)
	GetConnectionByKeyHash(ctx context.Context, hash string) (*Connection, error)
	ListConnections(ctx context.Context, f ConnectionFilter) (Page[*Connection], error)
	UpdateConnection(ctx context.Context, c *Connection) error
	DeleteConnection(ctx context.Context, id string, version int64) error
}

// UserStore keeps users and their API tokens. Usernames are unique.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByUsername(ctx context.Context, username string) (*User, error)
	ListUsers(ctx context.Context, f UserFilter) (Page[*User], error)
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser returns ECONFLICT while the user owns connections.
	DeleteUser(ctx context.Context, id string, version int64) error
	CountUsers(ctx context.Context) (int, error)
	// ActiveAdmins returns the ids of enabled admins. Inside a transaction
	// it locks their rows (on PostgreSQL; SQLite transactions are
	// serialised anyway), so that two transactions that each take away an
	// admin cannot both pass a last-admin check.
	ActiveAdmins(ctx context.Context) ([]string, error)
	// RecordLogin notes a successful login without changing the user's
	// version, so that logging in never makes an admin's edit stale.
	RecordLogin(ctx context.Context, id string, at time.Time) error

	CreateToken(ctx context.Context, t *APIToken) error
	GetTokenByHash(ctx context.Context, hash string) (*APIToken, error)
	ListTokens(ctx context.Context, userID string) ([]*APIToken, error)
	GetToken(ctx context.Context, id string) (*APIToken, error)
	RevokeToken(ctx context.Context, id string) error
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// SessionStore keeps dashboard sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// GetSessionByHash returns ENOTFOUND for an unknown or expired session.
	GetSessionByHash(ctx context.Context, hash string, now time.Time) (*Session, error)
	// TouchSession records activity and moves the expiry forward.
	TouchSession(ctx context.Context, id string, seen, expires time.Time) error
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends every session of a user (on password change,
	// demotion or disabling) and returns how many it ended.
	DeleteUserSessions(ctx context.Context, userID string) (int, error)
	// DeleteExpiredSessions removes sessions that expired before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// AuditStore keeps the audit log. Entries are never changed.
type AuditStore interface {
	AppendAudit(ctx context.Context, e *AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter) (Page[*AuditEntry], error)
}

// Store is every store together, with transactions.
type Store interface {
	ProviderStore
	ModelStore
	TemplateStore
	ConnectionStore
	UserStore
	SessionStore
	AuditStore
	UsageStore
	LegacyStore
	HealthStore
	AlertStore
	// InTx runs fn in one transaction: if fn returns an error nothing it
	// wrote is kept. The Store given to fn must not be used after fn returns.
	InTx(ctx context.Context, fn func(tx Store) error) error
}
