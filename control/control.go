// Package control is the control plane's service layer: every change an
// admin or user makes goes through it. It decides who may do what, validates,
// runs multi-row work in one transaction, and records each change in the
// audit log in that same transaction, with secrets masked. Transports (the
// REST API, the CLI) translate their wire formats to calls here.
package control

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/transfer"
)

// Config holds the service's dependencies.
type Config struct {
	Store switchyard.Store
	// Catalog is the built-in catalog (for the system provider types).
	Catalog *catalog.Catalog
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// SessionTTL is how long an idle dashboard session lasts (default 12h).
	SessionTTL time.Duration
	// Limiter rate-limits failed logins (default auth.NewLoginLimiter with
	// its defaults).
	Limiter *auth.LoginLimiter
	// Tester runs connectivity tests; nil makes them unavailable.
	Tester Tester
	// Registry is the gateway's registry, shown to admins.
	Registry *registry.Registry
	// Adapters builds the adapter of a provider with one of its
	// credentials (in cmd/switchyard, from protocols.Factory through the
	// SSRF guard). Nil makes model discovery, model tests and benchmarks
	// unavailable.
	Adapters func(p *switchyard.Provider, cred switchyard.Credential) (provider.Adapter, error)
	// Background owns the work that outlives a request (benchmark runs):
	// when it ends, they stop and are stored as cancelled. serve passes a
	// context it cancels on shutdown, then calls Wait before closing the
	// database. Default: context.Background().
	Background context.Context
	// Health is the health monitor; nil makes on-demand checks
	// unavailable (the stored health is still shown).
	Health HealthMonitor
	// ModelTestTimeout bounds each upstream call of a model test (default
	// 30 s); benchmark requests get twice as long.
	ModelTestTimeout time.Duration
	// Backups keeps the backup files; nil makes backups unavailable.
	Backups *transfer.Backups
	// Analytics answers usage reports and recommendations; nil makes them
	// unavailable.
	Analytics Analytics
	// Alerter checks and test-sends alert channels; nil skips the SSRF
	// check at save and makes test-sends unavailable.
	Alerter Alerter
}

// Service is the control plane.
type Service struct {
	store       switchyard.Store
	catalog     *catalog.Catalog
	log         *slog.Logger
	now         func() time.Time
	sessionTTL  time.Duration
	limiter     *auth.LoginLimiter
	tester      Tester
	adapters    func(p *switchyard.Provider, cred switchyard.Credential) (provider.Adapter, error)
	bg          context.Context
	callTimeout time.Duration
	benches     benchmarks
	registry    *registry.Registry
	backups     *transfer.Backups
	analytics   Analytics
	health      HealthMonitor
	alerter     Alerter
	// hashing bounds concurrent password hashes: each takes ~19 MiB.
	hashing chan struct{}
	// dummy is verified against when a login names no user, so that the
	// answer takes as long as for a real one. It is made at the first
	// login, not at start-up: a hash holds ~19 MiB while it is computed.
	dummy     sync.Once
	dummyHash string
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("control: a store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Background == nil {
		cfg.Background = context.Background()
	}
	if cfg.ModelTestTimeout <= 0 {
		cfg.ModelTestTimeout = 30 * time.Second
	}
	if cfg.Limiter == nil {
		cfg.Limiter = auth.NewLoginLimiter(auth.LimiterConfig{Now: cfg.Now})
	}
	return &Service{store: cfg.Store, catalog: cfg.Catalog, log: cfg.Logger, now: cfg.Now,
		sessionTTL: cfg.SessionTTL, limiter: cfg.Limiter, tester: cfg.Tester, hashing: make(chan struct{}, 2*runtime.NumCPU()),
		registry: cfg.Registry, backups: cfg.Backups, health: cfg.Health, adapters: cfg.Adapters, bg: cfg.Background, callTimeout: cfg.ModelTestTimeout,
		benches: benchmarks{runs: map[string]*benchRun{}}, analytics: cfg.Analytics, alerter: cfg.Alerter}, nil
}

// Actor is who makes a call: the authenticated user, how they
// authenticated, and from where.
type Actor struct {
	User *switchyard.User
	// TokenID is set when the caller used an API token.
	TokenID string
	// Session is set when the caller used the dashboard session cookie.
	Session    *switchyard.Session
	RemoteAddr string
}

// Admin reports whether the actor is an admin.
func (a *Actor) Admin() bool {
	return a != nil && a.User != nil && !a.User.Disabled && a.User.Role == switchyard.RoleAdmin
}

// userID returns the actor's user id, or "" for none.
func (a *Actor) userID() string {
	if a == nil || a.User == nil {
		return ""
	}
	return a.User.ID
}

func (a *Actor) name() string {
	if a == nil || a.User == nil {
		return "system"
	}
	return a.User.Username
}

// requireAdmin refuses non-admins with EFORBIDDEN. Use it for collections and
// creation, where refusing reveals nothing; for a named resource answer
// ENOTFOUND instead (see hidden).
func requireAdmin(a *Actor, what string) error {
	if a.Admin() {
		return nil
	}
	if a == nil || a.User == nil {
		return switchyard.Errorf(switchyard.EUNAUTHORIZED, "authentication required")
	}
	return switchyard.Errorf(switchyard.EFORBIDDEN, "only admins may %s", what)
}

// hidden is the answer for a resource the actor may not see: the same as for
// one that does not exist.
func hidden(what, id string) error {
	return switchyard.Errorf(switchyard.ENOTFOUND, "%s %q not found", what, id)
}

// checkVersion refuses a change based on a version other than the current.
func checkVersion(what, id string, want, current int64) error {
	if want == 0 || want == current {
		return nil
	}
	return &switchyard.Error{Code: switchyard.ESTALE,
		Message: fmt.Sprintf("%s %q changed since you read it (If-Match says version %d, it is at version %d); read it again and reapply your change", what, id, want, current)}
}

// audit records a change in the same transaction. before and after are
// encoded as their JSON form, in which secrets are masked and hashes left
// out.
func (s *Service) audit(ctx context.Context, tx switchyard.Store, a *Actor, action, resourceType, resourceID string, before, after any) error {
	e := &switchyard.AuditEntry{At: s.now().UTC(), ActorID: a.userID(), ActorName: a.name(), Action: action,
		ResourceType: resourceType, ResourceID: resourceID}
	if a != nil {
		e.RemoteAddr = a.RemoteAddr
	}
	var err error
	if e.Before, err = snapshot(before); err != nil {
		return err
	}
	if e.After, err = snapshot(after); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, e)
}

// snapshot encodes v for the audit log; an already-encoded value is kept.
func snapshot(v any) (json.RawMessage, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit snapshot: %w", err)
	}
	if string(b) == "null" {
		return nil, nil
	}
	return b, nil
}
