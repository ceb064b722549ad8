// Package registry holds the gateway's view of the providers: an immutable
// snapshot of the enabled providers, their enabled models, aliases and
// ready-to-use adapters, behind an atomic pointer. Lookups take no lock and
// allocate nothing; every change rebuilds the snapshot and swaps it, and
// requests in flight keep the snapshot they started with.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
)

// Source is where the registry reads providers, models and connections.
type Source interface {
	ListProviders(ctx context.Context, f switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error)
	ListModels(ctx context.Context, f switchyard.ModelFilter) (switchyard.Page[*switchyard.Model], error)
	ListConnections(ctx context.Context, f switchyard.ConnectionFilter) (switchyard.Page[*switchyard.Connection], error)
	ListUsers(ctx context.Context, f switchyard.UserFilter) (switchyard.Page[*switchyard.User], error)
}

// AdapterFunc builds the adapter of a provider's credential.
type AdapterFunc func(p *switchyard.Provider, cred switchyard.Credential, client provider.Doer) (provider.Adapter, error)

// Provider is an enabled provider with an adapter per active credential.
type Provider struct {
	*switchyard.Provider
	Keys []Key
	// Models is how many of its models are routable.
	Models int
}

// Key is one usable credential of a provider.
type Key struct {
	Credential switchyard.Credential
	Adapter    provider.Adapter
}

// Route is a model served by a provider.
type Route struct {
	Provider *Provider
	Model    *switchyard.Model
}

// LoadError is a provider or model left out of the snapshot, and why.
type LoadError struct {
	ProviderID string `json:"provider_id"`
	Provider   string `json:"provider"`
	Message    string `json:"message"`
}

// Snapshot is an immutable view of what the gateway may route to.
type Snapshot struct {
	Version uint64
	// StoreVersion is the store's change version the snapshot was built
	// from (0 when the source does not count changes).
	StoreVersion int64
	BuiltAt      time.Time
	Reason       string
	Providers    []*Provider
	Models       int
	Errors       []LoadError

	byID   map[string]*Provider
	bySlug map[string]*Provider
	// byName maps an alias or an upstream id to the routes serving it, in
	// provider creation order.
	byName map[string][]Route
	// byQualified maps "provider-slug/upstream-id" (and "slug/alias").
	byQualified map[string][]Route
	// system maps a built-in provider type to its system provider.
	system map[string]*Provider
	// routes holds every route once, in provider then model creation order.
	routes []Route
	// connections maps a gateway key's hash to its enabled connection.
	connections map[string]*switchyard.Connection
	// Connections is how many enabled connections the snapshot holds.
	Connections int
}

// Connection returns the enabled connection whose gateway key hashes to
// keyHash.
func (s *Snapshot) Connection(keyHash string) (*switchyard.Connection, bool) {
	c, ok := s.connections[keyHash]
	return c, ok
}

// Resolve returns the routes for a model name: an alias, an upstream id,
// or "provider-slug/model-id". It allocates nothing.
func (s *Snapshot) Resolve(name string) []Route {
	if r, ok := s.byQualified[name]; ok {
		return r
	}
	return s.byName[name]
}

// Routes returns every routable model once; the caller must not change it.
func (s *Snapshot) Routes() []Route { return s.routes }

// Provider returns an enabled provider by id.
func (s *Snapshot) Provider(id string) (*Provider, bool) {
	p, ok := s.byID[id]
	return p, ok
}

// System returns the enabled system provider of a built-in type, which an
// old-style connection naming that type uses.
func (s *Snapshot) System(providerType string) (*Provider, bool) {
	p, ok := s.system[providerType]
	return p, ok
}

// Registry keeps the current snapshot.
type Registry struct {
	source     Source
	newAdapter AdapterFunc
	log        *slog.Logger
	now        func() time.Time
	onReload   func(*Snapshot)

	cur     atomic.Pointer[Snapshot]
	version atomic.Uint64
	// rebuild serialises rebuilds so that a slow one cannot overwrite a
	// newer one.
	rebuild sync.Mutex
	// lastErr is the last reload failure, when the current snapshot is an
	// older good one.
	lastErr atomic.Pointer[reloadError]
}

type reloadError struct {
	at  time.Time
	err error
}

// Config holds a registry's dependencies.
type Config struct {
	Source     Source
	NewAdapter AdapterFunc
	Logger     *slog.Logger
	Now        func() time.Time
	// OnReload is told of every new snapshot, after it is in force (to
	// publish a live event); it must not block.
	OnReload func(*Snapshot)
}

// New returns a registry with an empty snapshot; call Reload to fill it.
func New(cfg Config) *Registry {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Registry{source: cfg.Source, newAdapter: cfg.NewAdapter, log: cfg.Logger, now: cfg.Now, onReload: cfg.OnReload}
	r.cur.Store(&Snapshot{Reason: "empty", byID: map[string]*Provider{}, bySlug: map[string]*Provider{},
		byName: map[string][]Route{}, byQualified: map[string][]Route{}, system: map[string]*Provider{},
		connections: map[string]*switchyard.Connection{}})
	return r
}

// Current returns the snapshot in force. It takes no lock.
func (r *Registry) Current() *Snapshot { return r.cur.Load() }

// Stale reports the last reload failure while an older snapshot serves.
func (r *Registry) Stale() (time.Time, error, bool) {
	e := r.lastErr.Load()
	if e == nil {
		return time.Time{}, nil, false
	}
	return e.at, e.err, true
}

// Reload builds a new snapshot from the source and swaps it in. When the
// source cannot be read the current snapshot stays in force and the
// failure is remembered (see Stale).
func (r *Registry) Reload(ctx context.Context, reason string) error {
	r.rebuild.Lock()
	defer r.rebuild.Unlock()
	s, err := r.build(ctx, reason)
	if err != nil {
		r.lastErr.Store(&reloadError{at: r.now(), err: err})
		r.log.Warn("registry: reload failed; serving the last good snapshot", "reason", reason, "error", err,
			"snapshot_version", r.Current().Version)
		return err
	}
	r.lastErr.Store(nil)
	r.cur.Store(s)
	r.log.Info("registry rebuilt", "version", s.Version, "reason", reason, "providers", len(s.Providers),
		"models", s.Models, "errors", len(s.Errors))
	if r.onReload != nil {
		r.onReload(s)
	}
	return nil
}

func (r *Registry) build(ctx context.Context, reason string) (*Snapshot, error) {
	// Read the version first: a change committed while loading makes the
	// next check reload again rather than be missed.
	var storeVersion int64
	if v, ok := r.source.(Versioned); ok {
		var err error
		if storeVersion, err = v.ChangeVersion(ctx); err != nil {
			return nil, err
		}
	}
	yes := true
	var providers []*switchyard.Provider
	f := switchyard.ProviderFilter{Enabled: &yes, ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := r.source.ListProviders(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list providers: %w", err)
		}
		providers = append(providers, page.Items...)
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	var models []*switchyard.Model
	mf := switchyard.ModelFilter{Enabled: &yes, ProviderEnabled: &yes, ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := r.source.ListModels(ctx, mf)
		if err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		models = append(models, page.Items...)
		if page.NextCursor == "" {
			break
		}
		mf.Cursor = page.NextCursor
	}
	s := &Snapshot{Version: r.version.Add(1), StoreVersion: storeVersion, BuiltAt: r.now().UTC(), Reason: reason,
		byID: map[string]*Provider{}, bySlug: map[string]*Provider{}, byName: map[string][]Route{},
		byQualified: map[string][]Route{}, system: map[string]*Provider{}, connections: map[string]*switchyard.Connection{}}
	// A disabled user's connections stop working with the user.
	disabled := map[string]bool{}
	uf := switchyard.UserFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := r.source.ListUsers(ctx, uf)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		for _, u := range page.Items {
			if u.Disabled {
				disabled[u.ID] = true
			}
		}
		if page.NextCursor == "" {
			break
		}
		uf.Cursor = page.NextCursor
	}
	cf := switchyard.ConnectionFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := r.source.ListConnections(ctx, cf)
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		for _, c := range page.Items {
			if c.Enabled && !disabled[c.OwnerID] {
				s.connections[c.KeyHash] = c
			}
		}
		if page.NextCursor == "" {
			break
		}
		cf.Cursor = page.NextCursor
	}
	s.Connections = len(s.connections)
	for _, p := range providers {
		rp := &Provider{Provider: p}
		creds := p.Credentials
		if len(creds) == 0 {
			creds = []switchyard.Credential{{Name: "none", Method: switchyard.AuthNone}}
		}
		for _, c := range creds {
			if c.Status != "" && c.Status != switchyard.CredentialActive {
				continue
			}
			if bad := undecryptable(c); bad != "" {
				s.Errors = append(s.Errors, LoadError{ProviderID: p.ID, Provider: p.Slug,
					Message: fmt.Sprintf("credential %q: secret %s cannot be decrypted; set it again", c.Name, bad)})
				continue
			}
			a, err := r.newAdapter(p, c, nil)
			if err != nil {
				s.Errors = append(s.Errors, LoadError{ProviderID: p.ID, Provider: p.Slug,
					Message: fmt.Sprintf("credential %q: %v", c.Name, err)})
				continue
			}
			rp.Keys = append(rp.Keys, Key{Credential: c, Adapter: a})
		}
		if len(rp.Keys) == 0 {
			s.Errors = append(s.Errors, LoadError{ProviderID: p.ID, Provider: p.Slug, Message: "no usable credential; the provider gets no traffic"})
			continue
		}
		s.Providers = append(s.Providers, rp)
		s.byID[p.ID], s.bySlug[p.Slug] = rp, rp
		if p.System && p.SystemType != "" {
			s.system[p.SystemType] = rp
		}
	}
	for _, m := range models {
		rp, ok := s.byID[m.ProviderID]
		if !ok {
			continue
		}
		route := Route{Provider: rp, Model: m}
		s.routes = append(s.routes, route)
		s.Models++
		rp.Models++
		names := append([]string{m.UpstreamID}, m.Aliases...)
		for _, n := range names {
			s.byName[n] = appendRoute(s.byName[n], route)
			q := rp.Slug + "/" + n
			s.byQualified[q] = appendRoute(s.byQualified[q], route)
		}
	}
	// Within a name, routes follow provider creation order: the order in
	// which fallbacks are tried.
	for _, rs := range s.byName {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Provider.CreatedAt.Before(rs[j].Provider.CreatedAt) })
	}
	return s, nil
}

func appendRoute(rs []Route, r Route) []Route {
	for _, x := range rs {
		if x.Model.ID == r.Model.ID {
			return rs
		}
	}
	return append(rs, r)
}

// undecryptable names a secret of the credential that did not decrypt.
func undecryptable(c switchyard.Credential) string {
	names := make([]string, 0, len(c.Secrets))
	for k, v := range c.Secrets {
		if v.Err() != nil {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
