package control

import (
	"context"
	"slices"
	"strconv"

	"github.com/switchyard/switchyard"
)

// Alerter checks and test-sends alert channels (alert.Engine implements
// it).
type Alerter interface {
	// CheckChannel refuses a channel whose URL the SSRF guard refuses,
	// naming the field.
	CheckChannel(ctx context.Context, c *switchyard.AlertChannel) error
	// Test sends one test message and returns the stored attempt.
	Test(ctx context.Context, c *switchyard.AlertChannel) (*switchyard.AlertDelivery, error)
}

func (s *Service) checkChannel(ctx context.Context, c *switchyard.AlertChannel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if s.alerter == nil {
		return nil
	}
	return s.alerter.CheckChannel(ctx, c)
}

// ListAlertChannels lists the alert channels (admins only).
func (s *Service) ListAlertChannels(ctx context.Context, a *Actor, opts switchyard.ListOptions) (switchyard.Page[*switchyard.AlertChannel], error) {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return switchyard.Page[*switchyard.AlertChannel]{}, err
	}
	return s.store.ListAlertChannels(ctx, opts)
}

// GetAlertChannel returns an alert channel (admins only).
func (s *Service) GetAlertChannel(ctx context.Context, a *Actor, id string) (*switchyard.AlertChannel, error) {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return nil, err
	}
	return s.store.GetAlertChannel(ctx, id)
}

// CreateAlertChannel stores a new channel after checking its URL against
// the SSRF guard (admins only).
func (s *Service) CreateAlertChannel(ctx context.Context, a *Actor, c *switchyard.AlertChannel) error {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return err
	}
	c.ID = ""
	if err := s.checkChannel(ctx, c); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.CreateAlertChannel(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "alert_channel", c.ID, nil, c)
	})
}

// UpdateAlertChannel applies change to a channel if ifVersion (0: any) is
// current (admins only).
func (s *Service) UpdateAlertChannel(ctx context.Context, a *Actor, id string, ifVersion int64, change func(*switchyard.AlertChannel) error) (*switchyard.AlertChannel, error) {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return nil, err
	}
	var out *switchyard.AlertChannel
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		c, err := tx.GetAlertChannel(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("alert channel", id, ifVersion, c.Version); err != nil {
			return err
		}
		before, err := snapshot(c)
		if err != nil {
			return err
		}
		old := *c
		if err := change(c); err != nil {
			return err
		}
		c.ID, c.Kind, c.Version = old.ID, old.Kind, old.Version
		if err := s.checkChannel(ctx, c); err != nil {
			return err
		}
		if err := tx.UpdateAlertChannel(ctx, c); err != nil {
			return err
		}
		out = c
		return s.audit(ctx, tx, a, "update", "alert_channel", id, before, c)
	})
	return out, err
}

// DeleteAlertChannel deletes a channel (admins only).
func (s *Service) DeleteAlertChannel(ctx context.Context, a *Actor, id string, ifVersion int64) error {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		c, err := tx.GetAlertChannel(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("alert channel", id, ifVersion, c.Version); err != nil {
			return err
		}
		if err := tx.DeleteAlertChannel(ctx, id, c.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "alert_channel", id, c, nil)
	})
}

// TestAlertChannel sends a test message to a channel once and returns the
// attempt (admins only).
func (s *Service) TestAlertChannel(ctx context.Context, a *Actor, id string) (*switchyard.AlertDelivery, error) {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return nil, err
	}
	if s.alerter == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "alerts are not running in this process")
	}
	c, err := s.store.GetAlertChannel(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.alerter.Test(ctx, c)
}

// ListAlertRules lists the alert rules (admins only).
func (s *Service) ListAlertRules(ctx context.Context, a *Actor, opts switchyard.ListOptions) (switchyard.Page[*switchyard.AlertRule], error) {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return switchyard.Page[*switchyard.AlertRule]{}, err
	}
	return s.store.ListAlertRules(ctx, opts)
}

// GetAlertRule returns an alert rule (admins only).
func (s *Service) GetAlertRule(ctx context.Context, a *Actor, id string) (*switchyard.AlertRule, error) {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return nil, err
	}
	return s.store.GetAlertRule(ctx, id)
}

// checkRuleRefs names channels and a provider that do not exist. On an
// update (old set) only references the change adds are checked: a rule
// whose provider or channel was deleted since can still be switched off,
// renamed or pointed elsewhere.
func checkRuleRefs(ctx context.Context, tx switchyard.Store, r, old *switchyard.AlertRule) error {
	var pr switchyard.Problems
	pr.Merge("", r.Validate())
	for i, id := range r.ChannelIDs {
		if old != nil && slices.Contains(old.ChannelIDs, id) {
			continue
		}
		if _, err := tx.GetAlertChannel(ctx, id); switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
			pr.Add("channel_ids["+strconv.Itoa(i)+"]", "not_found", "no alert channel %q; GET /api/v1/alerts/channels lists them", id)
		} else if err != nil {
			return err
		}
	}
	if r.ProviderID != "" && (old == nil || r.ProviderID != old.ProviderID) {
		if _, err := tx.GetProvider(ctx, r.ProviderID); switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
			pr.Add("provider_id", "not_found", "no provider %q", r.ProviderID)
		} else if err != nil {
			return err
		}
	}
	return pr.Err("alert rule")
}

// CreateAlertRule stores a new rule (admins only).
func (s *Service) CreateAlertRule(ctx context.Context, a *Actor, r *switchyard.AlertRule) error {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return err
	}
	r.ID = ""
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := checkRuleRefs(ctx, tx, r, nil); err != nil {
			return err
		}
		if err := tx.CreateAlertRule(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "alert_rule", r.ID, nil, r)
	})
}

// UpdateAlertRule applies change to a rule if ifVersion (0: any) is
// current (admins only); the built-in rule may be changed too.
func (s *Service) UpdateAlertRule(ctx context.Context, a *Actor, id string, ifVersion int64, change func(*switchyard.AlertRule) error) (*switchyard.AlertRule, error) {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return nil, err
	}
	var out *switchyard.AlertRule
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		r, err := tx.GetAlertRule(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("alert rule", id, ifVersion, r.Version); err != nil {
			return err
		}
		before, err := snapshot(r)
		if err != nil {
			return err
		}
		old := *r
		old.ChannelIDs = slices.Clone(r.ChannelIDs)
		if err := change(r); err != nil {
			return err
		}
		r.ID, r.Builtin, r.Version = old.ID, old.Builtin, old.Version
		if err := checkRuleRefs(ctx, tx, r, &old); err != nil {
			return err
		}
		if err := tx.UpdateAlertRule(ctx, r); err != nil {
			return err
		}
		out = r
		return s.audit(ctx, tx, a, "update", "alert_rule", id, before, r)
	})
	return out, err
}

// DeleteAlertRule deletes a rule and its alerts (admins only); the
// built-in rule is refused.
func (s *Service) DeleteAlertRule(ctx context.Context, a *Actor, id string, ifVersion int64) error {
	if err := requireAdmin(a, "manage alerts"); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		r, err := tx.GetAlertRule(ctx, id)
		if err != nil {
			return err
		}
		if err := checkVersion("alert rule", id, ifVersion, r.Version); err != nil {
			return err
		}
		if err := tx.DeleteAlertRule(ctx, id, r.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "alert_rule", id, r, nil)
	})
}

// ListAlerts lists alerts with their deliveries (admins only).
func (s *Service) ListAlerts(ctx context.Context, a *Actor, f switchyard.AlertFilter) (switchyard.Page[*switchyard.Alert], error) {
	if err := requireAdmin(a, "see alerts"); err != nil {
		return switchyard.Page[*switchyard.Alert]{}, err
	}
	return s.store.ListAlerts(ctx, f)
}
