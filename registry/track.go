package registry

import (
	"context"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// Versioned counts configuration changes; sqlstore implements it on the
// database and inside its transactions.
type Versioned interface {
	// BumpChangeVersion increments the counter inside the change's
	// transaction (and, on PostgreSQL, notifies the other replicas).
	BumpChangeVersion(ctx context.Context, reason string) (int64, error)
	ChangeVersion(ctx context.Context) (int64, error)
}

// Track wraps a store so that every change that affects routing (providers,
// their credentials, models, connections, users: a disabled user's
// connections stop) bumps the change version inside
// its own transaction, and reloads this registry once it has committed.
// The control plane writes through it; other replicas learn of the change
// through Watch.
func (r *Registry) Track(s switchyard.Store) switchyard.Store { return &tracked{Store: s, r: r} }

type tracked struct {
	switchyard.Store
	r *Registry
	// pending collects the changes of the transaction in progress; nil
	// outside one.
	pending *[]string
}

// InTx runs fn in one transaction and bumps the change version in it when
// fn changed something that routing depends on.
func (t *tracked) InTx(ctx context.Context, fn func(tx switchyard.Store) error) error {
	if t.pending != nil {
		return fn(t)
	}
	var reasons []string
	err := t.Store.InTx(ctx, func(inner switchyard.Store) error {
		if err := fn(&tracked{Store: inner, r: t.r, pending: &reasons}); err != nil {
			return err
		}
		if len(reasons) == 0 {
			return nil
		}
		if v, ok := inner.(Versioned); ok {
			_, err := v.BumpChangeVersion(ctx, strings.Join(reasons, "; "))
			return err
		}
		return nil
	})
	if err == nil && len(reasons) > 0 {
		t.r.afterChange(ctx, strings.Join(reasons, "; "))
	}
	return err
}

// change runs one write as (part of) a transaction that bumps the version.
func (t *tracked) change(ctx context.Context, reason string, fn func(s switchyard.Store) error) error {
	if t.pending != nil {
		if err := fn(t.Store); err != nil {
			return err
		}
		*t.pending = append(*t.pending, reason)
		return nil
	}
	return t.InTx(ctx, func(tx switchyard.Store) error { return tx.(*tracked).change(ctx, reason, fn) })
}

func (t *tracked) CreateProvider(ctx context.Context, p *switchyard.Provider) error {
	return t.change(ctx, "provider created", func(s switchyard.Store) error { return s.CreateProvider(ctx, p) })
}

func (t *tracked) UpdateProvider(ctx context.Context, p *switchyard.Provider) error {
	return t.change(ctx, "provider updated", func(s switchyard.Store) error { return s.UpdateProvider(ctx, p) })
}

func (t *tracked) DeleteProvider(ctx context.Context, id string, version int64) error {
	return t.change(ctx, "provider deleted", func(s switchyard.Store) error { return s.DeleteProvider(ctx, id, version) })
}

func (t *tracked) CreateModel(ctx context.Context, m *switchyard.Model) error {
	return t.change(ctx, "model created", func(s switchyard.Store) error { return s.CreateModel(ctx, m) })
}

func (t *tracked) CreateModels(ctx context.Context, ms []*switchyard.Model) error {
	return t.change(ctx, "models created", func(s switchyard.Store) error { return s.CreateModels(ctx, ms) })
}

func (t *tracked) UpdateModel(ctx context.Context, m *switchyard.Model) error {
	return t.change(ctx, "model updated", func(s switchyard.Store) error { return s.UpdateModel(ctx, m) })
}

func (t *tracked) DeleteModel(ctx context.Context, id string, version int64) error {
	return t.change(ctx, "model deleted", func(s switchyard.Store) error { return s.DeleteModel(ctx, id, version) })
}

func (t *tracked) CreateConnection(ctx context.Context, c *switchyard.Connection) error {
	return t.change(ctx, "connection created", func(s switchyard.Store) error { return s.CreateConnection(ctx, c) })
}

func (t *tracked) UpdateConnection(ctx context.Context, c *switchyard.Connection) error {
	return t.change(ctx, "connection updated", func(s switchyard.Store) error { return s.UpdateConnection(ctx, c) })
}

func (t *tracked) UpdateUser(ctx context.Context, u *switchyard.User) error {
	return t.change(ctx, "user updated", func(s switchyard.Store) error { return s.UpdateUser(ctx, u) })
}

func (t *tracked) DeleteUser(ctx context.Context, id string, version int64) error {
	return t.change(ctx, "user deleted", func(s switchyard.Store) error { return s.DeleteUser(ctx, id, version) })
}

func (t *tracked) DeleteConnection(ctx context.Context, id string, version int64) error {
	return t.change(ctx, "connection deleted", func(s switchyard.Store) error { return s.DeleteConnection(ctx, id, version) })
}

// afterChange reloads after a local change has committed. The change is
// already durable, so a failed reload is logged, not returned; the watcher
// retries at its next version check.
func (r *Registry) afterChange(ctx context.Context, reason string) {
	if err := r.Reload(context.WithoutCancel(ctx), reason); err != nil {
		r.log.Warn("registry: reload after a change failed; the next version check retries", "reason", reason, "error", err)
	}
}

// Watch keeps the registry current with changes made elsewhere (other
// replicas) until ctx ends: listen delivers notifications as they happen
// (PostgreSQL; nil or a function that returns at once elsewhere), and the
// change version is checked every interval as a fallback and after the
// listener reconnects.
func (r *Registry) Watch(ctx context.Context, v Versioned, listen func(ctx context.Context, fn func(int64, string), reconnected func()), interval time.Duration) {
	if listen != nil {
		go listen(ctx, func(version int64, reason string) {
			if version > r.Current().StoreVersion {
				r.reloadLogged(ctx, "notified: "+reason)
			}
		}, func() { r.reloadLogged(ctx, "change listener reconnected") })
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cur, err := v.ChangeVersion(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.lastErr.Store(&reloadError{at: r.now(), err: err})
					r.log.Warn("registry: cannot read the change version; serving the last good snapshot", "error", err)
				}
				continue
			}
			if cur != r.Current().StoreVersion {
				r.reloadLogged(ctx, "version check")
			}
		}
	}
}

func (r *Registry) reloadLogged(ctx context.Context, reason string) {
	if err := r.Reload(ctx, reason); err != nil && ctx.Err() == nil {
		r.log.Warn("registry: reload failed", "reason", reason, "error", err)
	}
}
