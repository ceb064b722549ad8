package control

import (
	"context"

	"github.com/switchyard/switchyard"
)

// Tester runs connectivity tests; *probe.Tester implements it.
type Tester interface {
	Test(ctx context.Context, p *switchyard.Provider) *switchyard.ProviderTest
}

// TestProvider runs the connectivity test of a stored provider and stores
// its result with the provider.
func (s *Service) TestProvider(ctx context.Context, a *Actor, id string) (*switchyard.ProviderTest, error) {
	if err := s.adminOnProvider(ctx, a, id); err != nil {
		return nil, err
	}
	if s.tester == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "connectivity tests are not available in this process")
	}
	p, err := s.store.GetProvider(ctx, id)
	if err != nil {
		return nil, err
	}
	res := s.tester.Test(ctx, p)
	if err := s.store.SetProviderTest(ctx, id, res); err != nil {
		return nil, err
	}
	return res, nil
}

// TestProviderConfig runs the connectivity test of a provider that is not
// saved; nothing is stored.
func (s *Service) TestProviderConfig(ctx context.Context, a *Actor, p *switchyard.Provider) (*switchyard.ProviderTest, error) {
	if err := requireAdmin(a, "test providers"); err != nil {
		return nil, err
	}
	if s.tester == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "connectivity tests are not available in this process")
	}
	// The configuration is tested as if enabled, so missing secrets are named.
	p.Enabled = true
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return s.tester.Test(ctx, p), nil
}
