package control

import (
	"context"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/registry"
)

// RegistryView is the registry's state as admins see it.
type RegistryView struct {
	Snapshot *registry.Snapshot
	// StaleSince and StaleError are set while reloads fail.
	StaleSince time.Time
	StaleError string
}

// Registry returns the registry's state; admins only.
func (s *Service) Registry(_ context.Context, a *Actor) (*RegistryView, error) {
	if err := requireAdmin(a, "see the registry"); err != nil {
		return nil, err
	}
	if s.registry == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "the registry is not running in this process")
	}
	v := &RegistryView{Snapshot: s.registry.Current()}
	if at, err, stale := s.registry.Stale(); stale {
		v.StaleSince, v.StaleError = at, err.Error()
	}
	return v, nil
}
