// Package health watches the providers: a monitor that checks each enabled
// provider on its own interval with the cheapest call its protocol allows
// (the adapter's Ping), and a status machine that turns check results and
// gateway outcomes into a status with hysteresis (healthy, degraded, down).
// Every check and every change is stored; changes are published as live
// events. With several replicas on PostgreSQL one of them, the leader,
// runs the checks and decides the status; the others follow the status in
// the database.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
)

// Store is what the monitor keeps its results in; sqlstore implements it.
type Store interface {
	AddHealthCheck(ctx context.Context, c *switchyard.HealthCheck) error
	ChangeProviderStatus(ctx context.Context, c *switchyard.StatusChange) error
	ListStatusChanges(ctx context.Context, providerID string, opts switchyard.ListOptions) (switchyard.Page[*switchyard.StatusChange], error)
	PruneHealth(ctx context.Context, before time.Time) (int64, error)
	ListProviders(ctx context.Context, f switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error)
}

// Lease is the leadership of the checks (sqlstore.Lease).
type Lease interface {
	Check(ctx context.Context) error
	Release()
}

// Config holds a monitor's dependencies and settings.
type Config struct {
	Store Store
	// Registry gives the enabled providers with their adapters, built
	// through the SSRF guard.
	Registry *registry.Registry
	Machine  *Machine
	// Elect tries to take the leadership (sqlstore.DB.TryLead); nil makes
	// this process the leader.
	Elect func(ctx context.Context) (Lease, bool, error)
	// Publish sends live events (events.Broker.Publish); nil sends none.
	Publish func(typ string, adminOnly bool, data any)
	// OnChange is told of every status change (the gateway resets its
	// breaker when a provider recovers); it must not block.
	OnChange func(Transition)
	// DisableChecks turns the checks off (SWITCHYARD_HEALTH_CHECKS=off):
	// the status then follows gateway outcomes alone.
	DisableChecks bool
	// Concurrency bounds the checks running at once (default 4); a
	// provider due while every slot is busy waits for the next tick.
	Concurrency int
	// Timeout bounds a check (default 10 s; a provider's own timeout_ms
	// if shorter).
	Timeout time.Duration
	// Tick is how often the monitor looks for due work (default 1 s).
	Tick time.Duration
	// ElectEvery is how often a follower tries to take the leadership and
	// reads the status from the database, and how often the leader checks
	// that it still holds it (default 5 s).
	ElectEvery time.Duration
	// Retention is how long checks and status changes are kept (default 7
	// days); PruneEvery how often older ones are deleted (default 1 h).
	Retention  time.Duration
	PruneEvery time.Duration
	// IntervalUnit is the length of one second of the providers'
	// health_check_interval_s (default time.Second; tests shorten it).
	IntervalUnit time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

// Monitor runs the health checks.
type Monitor struct {
	cfg    Config
	log    *slog.Logger
	sem    chan struct{}
	leader atomic.Bool
	wg     sync.WaitGroup

	// Owned by Run's goroutine.
	lease                 Lease
	lastElect, lastPrune  time.Time
	elected, everFollowed bool

	mu      sync.Mutex
	next    map[string]time.Time
	running map[string]bool
}

// New returns a monitor; Run starts it.
func New(cfg Config) *Monitor {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Machine == nil {
		cfg.Machine = NewMachine(cfg.Now)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.ElectEvery <= 0 {
		cfg.ElectEvery = 5 * time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = time.Hour
	}
	if cfg.IntervalUnit <= 0 {
		cfg.IntervalUnit = time.Second
	}
	if cfg.Publish == nil {
		cfg.Publish = func(string, bool, any) {}
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(Transition) {}
	}
	return &Monitor{cfg: cfg, log: cfg.Logger, sem: make(chan struct{}, cfg.Concurrency),
		next: map[string]time.Time{}, running: map[string]bool{}}
}

// Machine returns the status machine (the gateway observes through it).
func (m *Monitor) Machine() *Machine { return m.cfg.Machine }

// Leader reports whether this replica runs the checks.
func (m *Monitor) Leader() bool { return m.leader.Load() }

// Run runs the monitor until ctx ends, then waits for the checks in
// flight and gives the leadership up.
func (m *Monitor) Run(ctx context.Context) {
	defer func() {
		m.wg.Wait()
		if m.lease != nil {
			m.lease.Release()
			m.lease = nil
		}
		m.leader.Store(false)
	}()
	t := time.NewTicker(m.cfg.Tick)
	defer t.Stop()
	for {
		m.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Monitor) tick(ctx context.Context) {
	defer func() {
		if p := recover(); p != nil {
			m.log.Error("health monitor: panic", "panic", p)
		}
	}()
	now := m.cfg.Now()
	m.elect(ctx, now)
	snap := m.cfg.Registry.Current()
	providers := make([]*switchyard.Provider, len(snap.Providers))
	for i, p := range snap.Providers {
		providers[i] = p.Provider
	}
	m.cfg.Machine.Sync(providers)
	if !m.leader.Load() {
		return
	}
	if !m.cfg.DisableChecks {
		m.schedule(ctx, snap, now)
	}
	for _, t := range m.cfg.Machine.Evaluate() {
		m.apply(ctx, t)
	}
	if now.Sub(m.lastPrune) >= m.cfg.PruneEvery {
		m.lastPrune = now
		if n, err := m.cfg.Store.PruneHealth(ctx, now.Add(-m.cfg.Retention)); err != nil && ctx.Err() == nil {
			m.log.Warn("health monitor: pruning old checks failed", "error", err)
		} else if n > 0 {
			m.log.Info("health monitor: pruned old checks and status changes", "rows", n)
		}
	}
}

// elect takes, keeps or loses the leadership; a follower also reads the
// status the leader decided.
func (m *Monitor) elect(ctx context.Context, now time.Time) {
	if m.cfg.Elect == nil {
		m.leader.Store(true)
		return
	}
	if m.elected && now.Sub(m.lastElect) < m.cfg.ElectEvery {
		return
	}
	m.elected, m.lastElect = true, now
	if m.lease != nil {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := m.lease.Check(cctx)
		cancel()
		if err == nil {
			return
		}
		m.log.Warn("health monitor: lost the leadership; another replica takes over the checks", "error", err)
		m.lease.Release()
		m.lease = nil
		m.leader.Store(false)
		m.mu.Lock()
		m.next = map[string]time.Time{}
		m.mu.Unlock()
	}
	lease, ok, err := m.cfg.Elect(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("health monitor: cannot take part in the leader election", "error", err)
		}
	} else if ok {
		m.lease = lease
		m.leader.Store(true)
		m.log.Info("health monitor: this replica now runs the health checks")
		return
	}
	m.follow(ctx)
}

// follow reads the status of every enabled provider from the store.
func (m *Monitor) follow(ctx context.Context) {
	yes := true
	f := switchyard.ProviderFilter{Enabled: &yes, ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := m.cfg.Store.ListProviders(ctx, f)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("health monitor: cannot read the providers' status", "error", err)
			}
			return
		}
		for _, p := range page.Items {
			from, changed := m.cfg.Machine.Set(p.ID, p.Status)
			if !changed || !m.everFollowed {
				continue
			}
			t := Transition{ProviderID: p.ID, From: from, To: p.Status}
			if ch, err := m.cfg.Store.ListStatusChanges(ctx, p.ID, switchyard.ListOptions{Limit: 1}); err == nil && len(ch.Items) == 1 {
				t.Reason = ch.Items[0].Reason
			}
			m.announce(t, m.cfg.Now())
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	m.everFollowed = true
}

// schedule starts the checks that are due, never two at once for one
// provider and never more than Concurrency in all.
func (m *Monitor) schedule(ctx context.Context, snap *registry.Snapshot, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range snap.Providers {
		s := p.Settings.WithDefaults()
		if s.HealthCheckDisabled || len(p.Keys) == 0 {
			delete(m.next, p.ID)
			continue
		}
		interval := time.Duration(s.HealthCheckIntervalS) * m.cfg.IntervalUnit
		due, ok := m.next[p.ID]
		if !ok {
			// The first check comes soon, spread over a tenth of the
			// interval so that a start does not check everything at once.
			due = now.Add(jitter(interval / 10))
			m.next[p.ID] = due
		}
		if now.Before(due) || m.running[p.ID] {
			continue
		}
		select {
		case m.sem <- struct{}{}:
		default:
			return // every slot is busy: the rest wait for the next tick
		}
		m.running[p.ID] = true
		m.wg.Add(1)
		go func(p *registry.Provider) {
			defer m.wg.Done()
			defer func() { <-m.sem }()
			defer func() {
				if r := recover(); r != nil {
					m.log.Error("health monitor: panic in a check", "provider", p.Slug, "panic", r)
				}
				m.mu.Lock()
				m.running[p.ID] = false
				m.next[p.ID] = m.cfg.Now().Add(interval + jitter(interval/10))
				m.mu.Unlock()
			}()
			m.check(ctx, p)
		}(p)
	}
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// check runs one check of a provider, stores it and, on the leader, feeds
// the status machine.
func (m *Monitor) check(ctx context.Context, p *registry.Provider) *switchyard.HealthCheck {
	timeout := m.cfg.Timeout
	if t := time.Duration(p.Settings.WithDefaults().TimeoutMS) * time.Millisecond; t < timeout {
		timeout = t
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	start := m.cfg.Now()
	err := p.Keys[0].Adapter.Ping(cctx)
	cancel()
	hc := &switchyard.HealthCheck{ProviderID: p.ID, At: start.UTC(), LatencyMS: m.cfg.Now().Sub(start).Milliseconds()}
	if ctx.Err() != nil {
		return nil // shutting down: not the provider's fault
	}
	hc.Code = failureCode(err)
	// A rate limit answers: the provider is up.
	hc.OK = err == nil || hc.Code == provider.CodeRateLimited
	if err := m.cfg.Store.AddHealthCheck(ctx, hc); err != nil && ctx.Err() == nil {
		m.log.Warn("health monitor: cannot store a check", "provider", p.Slug, "error", err)
	}
	if m.leader.Load() {
		if t, changed := m.cfg.Machine.RecordCheck(p.ID, hc.OK, hc.Code); changed {
			m.apply(ctx, t)
		}
	}
	return hc
}

// failureCode is the stable code of a failed check; upstream messages are
// not kept, as they may echo what was sent.
func failureCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := provider.AsError(err); ok {
		return e.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return provider.CodeTimeout
	}
	return provider.CodeNetwork
}

// apply stores a status change and announces it.
func (m *Monitor) apply(ctx context.Context, t Transition) {
	c := &switchyard.StatusChange{ProviderID: t.ProviderID, From: t.From, To: t.To, Reason: t.Reason}
	if err := m.cfg.Store.ChangeProviderStatus(ctx, c); err != nil && ctx.Err() == nil {
		m.log.Warn("health monitor: cannot store a status change", "provider_id", t.ProviderID, "error", err)
	}
	m.log.Info("provider status changed", "provider_id", t.ProviderID, "from", t.From, "to", t.To, "reason", t.Reason)
	m.announce(t, c.At)
}

// StatusEvent is the data of a provider.status event.
type StatusEvent struct {
	ProviderID string                    `json:"provider_id"`
	Slug       string                    `json:"slug,omitempty"`
	From       switchyard.ProviderStatus `json:"from"`
	To         switchyard.ProviderStatus `json:"to"`
	Reason     string                    `json:"reason"`
	At         time.Time                 `json:"at"`
}

func (m *Monitor) announce(t Transition, at time.Time) {
	if at.IsZero() {
		at = m.cfg.Now()
	}
	e := StatusEvent{ProviderID: t.ProviderID, From: t.From, To: t.To, Reason: t.Reason, At: at.UTC()}
	if p, ok := m.cfg.Registry.Current().Provider(t.ProviderID); ok {
		e.Slug = p.Slug
	}
	m.cfg.Publish(events.TypeProviderStatus, false, e)
	m.cfg.OnChange(t)
}

// CheckNow runs a check of an enabled provider at once and returns its
// result. It runs on any replica; only the leader's checks move the
// status.
func (m *Monitor) CheckNow(ctx context.Context, providerID string) (*switchyard.HealthCheck, error) {
	p, ok := m.cfg.Registry.Current().Provider(providerID)
	if !ok || len(p.Keys) == 0 {
		return nil, switchyard.Errorf(switchyard.ECONFLICT,
			"provider %q is disabled or has no usable credential, so it cannot be checked; enable it or fix its credentials", providerID)
	}
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-m.sem }()
	hc := m.check(ctx, p)
	if hc == nil {
		return nil, fmt.Errorf("health check of %s: %w", p.Slug, ctx.Err())
	}
	return hc, nil
}

// ChecksEnabled reports whether scheduled checks run at all.
func (m *Monitor) ChecksEnabled() bool { return !m.cfg.DisableChecks }
