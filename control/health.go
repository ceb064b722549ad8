package control

import (
	"context"
	"errors"
	"time"

	"github.com/switchyard/switchyard"
)

// HealthMonitor is the health monitor as the control plane uses it
// (*health.Monitor).
type HealthMonitor interface {
	// CheckNow checks an enabled provider at once; ECONFLICT when it is
	// disabled or has no usable credential.
	CheckNow(ctx context.Context, providerID string) (*switchyard.HealthCheck, error)
	// Leader reports whether this replica runs the scheduled checks.
	Leader() bool
	// ChecksEnabled reports whether scheduled checks run at all.
	ChecksEnabled() bool
}

// HealthView is every provider's health.
type HealthView struct {
	ChecksEnabled bool
	Leader        bool
	Providers     []ProviderHealth
}

// ProviderHealth is one provider's current health.
type ProviderHealth struct {
	Provider *switchyard.Provider
	// Change is the latest status change, LastCheck the latest check;
	// either may be nil.
	Change    *switchyard.StatusChange
	LastCheck *switchyard.HealthCheck
}

// Health returns every provider's status, latest change and latest check.
// Users see enabled providers only.
func (s *Service) Health(ctx context.Context, a *Actor) (*HealthView, error) {
	v := &HealthView{}
	if s.health != nil {
		v.ChecksEnabled, v.Leader = s.health.ChecksEnabled(), s.health.Leader()
	}
	f := switchyard.ProviderFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := s.ListProviders(ctx, a, f)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			ph := ProviderHealth{Provider: p}
			changes, err := s.store.ListStatusChanges(ctx, p.ID, switchyard.ListOptions{Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(changes.Items) > 0 {
				ph.Change = changes.Items[0]
			}
			checks, err := s.store.ListHealthChecks(ctx, p.ID, switchyard.ListOptions{Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(checks.Items) > 0 {
				ph.LastCheck = checks.Items[0]
			}
			v.Providers = append(v.Providers, ph)
		}
		if page.NextCursor == "" {
			return v, nil
		}
		f.Cursor = page.NextCursor
	}
}

// ProviderHealthDetail is a provider's status with its history.
type ProviderHealthDetail struct {
	Provider *switchyard.Provider
	Changes  switchyard.Page[*switchyard.StatusChange]
	Checks   switchyard.Page[*switchyard.HealthCheck]
}

// ProviderHealth returns a provider's status changes and checks, newest
// first, each paginated on its own. Users may read it for enabled
// providers.
func (s *Service) ProviderHealth(ctx context.Context, a *Actor, id string, limit int, changesCursor, checksCursor string) (*ProviderHealthDetail, error) {
	if a == nil || a.User == nil {
		return nil, requireAdmin(a, "read provider health")
	}
	p, err := s.GetProvider(ctx, a, id)
	if err != nil {
		return nil, err
	}
	d := &ProviderHealthDetail{Provider: p}
	if d.Changes, err = s.store.ListStatusChanges(ctx, id, switchyard.ListOptions{Limit: limit, Cursor: changesCursor}); err != nil {
		return nil, fieldError(err, "changes_cursor")
	}
	if d.Checks, err = s.store.ListHealthChecks(ctx, id, switchyard.ListOptions{Limit: limit, Cursor: checksCursor}); err != nil {
		return nil, fieldError(err, "checks_cursor")
	}
	return d, nil
}

// fieldError renames the "cursor" field of a pagination error.
func fieldError(err error, field string) error {
	var e *switchyard.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = append([]switchyard.FieldError(nil), e.Fields...)
	for i := range out.Fields {
		if out.Fields[i].Field == "cursor" {
			out.Fields[i].Field = field
		}
	}
	return &out
}

// CheckProviderHealth runs a health check of a provider now; admins only.
func (s *Service) CheckProviderHealth(ctx context.Context, a *Actor, id string) (*switchyard.HealthCheck, error) {
	if err := s.adminOnProvider(ctx, a, id); err != nil {
		return nil, err
	}
	if s.health == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "the health monitor is not running in this process")
	}
	if _, err := s.store.GetProvider(ctx, id); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return s.health.CheckNow(ctx, id)
}
