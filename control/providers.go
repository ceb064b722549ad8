package control

import (
	"context"

	"github.com/switchyard/switchyard"
)

// ListProviders lists providers. Users see enabled providers only, without
// credentials or headers.
func (s *Service) ListProviders(ctx context.Context, a *Actor, f switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error) {
	if a == nil || a.User == nil {
		return switchyard.Page[*switchyard.Provider]{}, requireAdmin(a, "list providers")
	}
	if !a.Admin() {
		yes := true
		f.Enabled = &yes
	}
	page, err := s.store.ListProviders(ctx, f)
	if err != nil {
		return page, err
	}
	if !a.Admin() {
		for _, p := range page.Items {
			stripProvider(p)
		}
	}
	return page, nil
}

// stripProvider removes what only admins may see.
func stripProvider(p *switchyard.Provider) {
	p.Credentials, p.Headers, p.Params, p.LastTest = nil, nil, nil, nil
}

// GetProvider returns a provider; users get ENOTFOUND for a disabled one.
func (s *Service) GetProvider(ctx context.Context, a *Actor, id string) (*switchyard.Provider, error) {
	p, err := s.store.GetProvider(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.Admin() {
		if !p.Enabled {
			return nil, hidden("provider", id)
		}
		stripProvider(p)
	}
	return p, nil
}

// CreateProvider stores a new custom provider.
func (s *Service) CreateProvider(ctx context.Context, a *Actor, p *switchyard.Provider) error {
	if err := requireAdmin(a, "create providers"); err != nil {
		return err
	}
	p.System, p.SystemType, p.ID = false, "", ""
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.CreateProvider(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "provider", p.ID, nil, p)
	})
}

// UpdateProvider applies change to the provider if ifVersion (0: any) is
// still current. change may not alter the id or the system flags.
func (s *Service) UpdateProvider(ctx context.Context, a *Actor, id string, ifVersion int64, change func(*switchyard.Provider) error) (*switchyard.Provider, error) {
	if err := s.adminOnProvider(ctx, a, id); err != nil {
		return nil, err
	}
	var out *switchyard.Provider
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		p, err := tx.GetProvider(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("provider", id, ifVersion, p.Version); err != nil {
			return err
		}
		before, err := snapshot(p)
		if err != nil {
			return err
		}
		system, systemType, version := p.System, p.SystemType, p.Version
		if err := change(p); err != nil {
			return err
		}
		p.ID, p.System, p.SystemType, p.Version = id, system, systemType, version
		if err := tx.UpdateProvider(ctx, p); err != nil {
			return err
		}
		out = p
		return s.audit(ctx, tx, a, "update", "provider", id, before, p)
	})
	return out, err
}

// SetProviderEnabled enables or disables a provider. Enabling needs every
// required secret of its credentials.
func (s *Service) SetProviderEnabled(ctx context.Context, a *Actor, id string, enabled bool) (*switchyard.Provider, error) {
	return s.UpdateProvider(ctx, a, id, 0, func(p *switchyard.Provider) error {
		p.Enabled = enabled
		return nil
	})
}

// DeleteProvider deletes a custom provider and its models.
func (s *Service) DeleteProvider(ctx context.Context, a *Actor, id string, ifVersion int64) error {
	if err := s.adminOnProvider(ctx, a, id); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		p, err := tx.GetProvider(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("provider", id, ifVersion, p.Version); err != nil {
			return err
		}
		if err := tx.DeleteProvider(ctx, id, p.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "provider", id, p, nil)
	})
}

// adminOnProvider refuses a change by a non-admin: ENOTFOUND when the
// provider is hidden from them, EFORBIDDEN when they can see it anyway.
func (s *Service) adminOnProvider(ctx context.Context, a *Actor, id string) error {
	if a.Admin() {
		return nil
	}
	if a == nil || a.User == nil {
		return requireAdmin(a, "change providers")
	}
	if p, err := s.store.GetProvider(ctx, id); err != nil || !p.Enabled {
		return hidden("provider", id)
	}
	return requireAdmin(a, "change providers")
}
