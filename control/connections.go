package control

import (
	"context"
	"slices"
	"strings"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
)

// ListConnections lists connections. Users see only their own; admins see
// all, or one owner's with f.OwnerID.
func (s *Service) ListConnections(ctx context.Context, a *Actor, f switchyard.ConnectionFilter) (switchyard.Page[*switchyard.Connection], error) {
	if a == nil || a.User == nil {
		return switchyard.Page[*switchyard.Connection]{}, requireAdmin(a, "list connections")
	}
	if !a.Admin() {
		if f.OwnerID != "" && f.OwnerID != a.User.ID {
			return switchyard.Page[*switchyard.Connection]{}, switchyard.Errorf(switchyard.EFORBIDDEN,
				"only admins may list the connections of other users; leave owner_id out to list yours")
		}
		f.OwnerID = a.User.ID
	}
	return s.store.ListConnections(ctx, f)
}

// GetConnection returns a connection; users get ENOTFOUND for one they do
// not own.
func (s *Service) GetConnection(ctx context.Context, a *Actor, id string) (*switchyard.Connection, error) {
	return s.ownConnection(ctx, s.store, a, id)
}

// ownConnection loads a connection the actor may manage: admins any, users
// their own; others are hidden.
func (s *Service) ownConnection(ctx context.Context, st switchyard.Store, a *Actor, id string) (*switchyard.Connection, error) {
	if a == nil || a.User == nil {
		return nil, requireAdmin(a, "manage connections")
	}
	c, err := st.GetConnection(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.Admin() && c.OwnerID != a.User.ID {
		return nil, hidden("connection", id)
	}
	return c, nil
}

// CreateConnection stores a new connection with a new gateway key, which it
// returns: the key is shown this once and stored only as its hash. Users
// create connections for themselves; admins for anyone (OwnerID, default
// the caller).
func (s *Service) CreateConnection(ctx context.Context, a *Actor, c *switchyard.Connection) (key string, err error) {
	if a == nil || a.User == nil {
		return "", requireAdmin(a, "create connections")
	}
	if c.OwnerID == "" {
		c.OwnerID = a.User.ID
	}
	if !a.Admin() && c.OwnerID != a.User.ID {
		return "", &switchyard.Error{Code: switchyard.EFORBIDDEN, Message: "only admins may create connections for other users; leave owner_id out",
			Fields: []switchyard.FieldError{{Field: "owner_id", Code: "forbidden", Message: "must be you, or left out"}}}
	}
	key, hash, display, err := auth.NewToken(auth.PrefixGatewayKey)
	if err != nil {
		return "", err
	}
	c.ID, c.KeyHash, c.KeyPrefix, c.LastUsedAt = "", hash, display, nil
	err = s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := s.checkConnectionRefs(ctx, tx, a, c, nil); err != nil {
			return err
		}
		if err := tx.CreateConnection(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "connection", c.ID, nil, c)
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// UpdateConnection applies change to the connection if ifVersion (0: any) is
// still current. change may not alter the id, the owner or the key.
func (s *Service) UpdateConnection(ctx context.Context, a *Actor, id string, ifVersion int64, change func(*switchyard.Connection) error) (*switchyard.Connection, error) {
	var out *switchyard.Connection
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		c, err := s.ownConnection(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := checkVersion("connection", id, ifVersion, c.Version); err != nil {
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
		c.ID, c.OwnerID, c.KeyHash, c.KeyPrefix, c.Version, c.LastUsedAt = old.ID, old.OwnerID, old.KeyHash, old.KeyPrefix, old.Version, old.LastUsedAt
		if err := s.checkConnectionRefs(ctx, tx, a, c, &old); err != nil {
			return err
		}
		if err := tx.UpdateConnection(ctx, c); err != nil {
			return err
		}
		out = c
		return s.audit(ctx, tx, a, "update", "connection", id, before, c)
	})
	return out, err
}

// RotateConnectionKey gives the connection a new gateway key and returns it;
// the old key stops matching at once.
func (s *Service) RotateConnectionKey(ctx context.Context, a *Actor, id string) (*switchyard.Connection, string, error) {
	key, hash, display, err := auth.NewToken(auth.PrefixGatewayKey)
	if err != nil {
		return nil, "", err
	}
	var out *switchyard.Connection
	err = s.store.InTx(ctx, func(tx switchyard.Store) error {
		c, err := s.ownConnection(ctx, tx, a, id)
		if err != nil {
			return err
		}
		before, err := snapshot(c)
		if err != nil {
			return err
		}
		c.KeyHash, c.KeyPrefix = hash, display
		if err := tx.UpdateConnection(ctx, c); err != nil {
			return err
		}
		out = c
		return s.audit(ctx, tx, a, "rotate_key", "connection", id, before, c)
	})
	if err != nil {
		return nil, "", err
	}
	return out, key, nil
}

// DeleteConnection deletes a connection; its key stops working at once.
func (s *Service) DeleteConnection(ctx context.Context, a *Actor, id string, ifVersion int64) error {
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		c, err := s.ownConnection(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := checkVersion("connection", id, ifVersion, c.Version); err != nil {
			return err
		}
		if err := tx.DeleteConnection(ctx, id, c.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "connection", id, c, nil)
	})
}

// checkConnectionRefs validates the connection and checks that the provider a connection names is one the
// actor can see (users: enabled providers), and that an old-style provider
// type is the type of a system provider. On an update (old set) only values
// that changed are checked, so a connection whose provider was disabled
// since can still be renamed.
func (s *Service) checkConnectionRefs(ctx context.Context, tx switchyard.Store, a *Actor, c, old *switchyard.Connection) error {
	var pr switchyard.Problems
	pr.Merge("", c.Validate())
	if c.ProviderID != "" && (old == nil || old.ProviderID != c.ProviderID) {
		p, err := tx.GetProvider(ctx, c.ProviderID)
		switch {
		case switchyard.ErrorCode(err) == switchyard.ENOTFOUND || err == nil && !a.Admin() && !p.Enabled:
			pr.Add("provider_id", "not_found", "no provider %q; GET /api/v1/providers lists the ones you can use", c.ProviderID)
		case err != nil:
			return err
		}
	}
	if c.ProviderType != "" && (old == nil || old.ProviderType != c.ProviderType) {
		types, err := s.systemTypes(ctx, tx)
		if err != nil {
			return err
		}
		if !slices.Contains(types, c.ProviderType) {
			pr.Add("provider_type", "unknown_type", "no built-in provider type %q; the known types are %s",
				c.ProviderType, strings.Join(types, ", "))
		}
	}
	return pr.Err("connection")
}

// systemTypes lists the provider types of the system providers, sorted.
func (s *Service) systemTypes(ctx context.Context, st switchyard.Store) ([]string, error) {
	yes := true
	var types []string
	f := switchyard.ProviderFilter{System: &yes, ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := st.ListProviders(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if p.SystemType != "" {
				types = append(types, p.SystemType)
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	slices.Sort(types)
	return slices.Compact(types), nil
}
