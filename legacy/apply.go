package legacy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/transfer"
)

// Change is one write of a migration, with what rollback needs: the
// version the migration left, and the state before it (never a secret).
type Change struct {
	Kind   string `json:"kind"`   // provider, model, connection
	Action string `json:"action"` // create, update
	ID     string `json:"id"`
	// Key names it: a provider slug, "slug/upstream_id", "owner/name".
	Key string `json:"key"`
	// Version is the version the migration left.
	Version int64 `json:"version"`
	// Provider is the id of a model's provider.
	Provider string          `json:"provider,omitempty"`
	Before   json.RawMessage `json:"before,omitempty"`
}

// providerState is a provider's state before a migration: everything it
// may change except secrets, each only marked as set.
type providerState struct {
	Name        string                      `json:"name"`
	BaseURL     string                      `json:"base_url"`
	Params      map[string]string           `json:"params"`
	Enabled     bool                        `json:"enabled"`
	Settings    switchyard.ProviderSettings `json:"settings"`
	Credentials []credentialState           `json:"credentials"`
}

// credentialState is a credential as an export shows it (secrets only
// marked as set), with its id.
type credentialState struct {
	ID string `json:"id"`
	transfer.Credential
}

type connectionState struct {
	ProviderID   string `json:"provider_id"`
	ProviderType string `json:"provider_type"`
}

func stateOfProvider(p *switchyard.Provider) providerState {
	st := providerState{Name: p.Name, BaseURL: p.BaseURL, Params: p.Params, Enabled: p.Enabled, Settings: p.Settings}
	for _, c := range p.Credentials {
		cs := credentialState{ID: c.ID, Credential: transfer.Credential{Name: c.Name, Method: c.Method, Config: c.Config, Weight: c.Weight,
			Status: c.Status, Models: c.Models}}
		for k, v := range c.Secrets {
			if v.IsSet() {
				if cs.Secrets == nil {
					cs.Secrets = map[string]transfer.SecretRef{}
				}
				cs.Secrets[k] = transfer.SecretRef{Set: true}
			}
		}
		st.Credentials = append(st.Credentials, cs)
	}
	return st
}

// stateOfModel is a model's state as an export shows it.
func stateOfModel(m *switchyard.Model) transfer.Model {
	return transfer.Model{UpstreamID: m.UpstreamID, DisplayName: m.DisplayName, Aliases: m.Aliases, Enabled: m.Enabled,
		Capabilities: m.Capabilities, Pricing: m.Pricing, Sources: m.Sources}
}

// providerDiff names what differs between two states of a provider,
// secrets included.
func providerDiff(a, b *switchyard.Provider) []string {
	var out []string
	sa, sb := stateOfProvider(a), stateOfProvider(b)
	if !reflect.DeepEqual(sa, sb) {
		out = append(out, "settings")
	}
	for _, cb := range b.Credentials {
		found := false
		for _, ca := range a.Credentials {
			if ca.ID == cb.ID && ca.ID != "" {
				found = true
				for k, v := range cb.Secrets {
					if ca.Secrets[k].Reveal() != v.Reveal() {
						out = append(out, "secrets")
					}
				}
			}
		}
		if !found {
			out = append(out, "credentials")
		}
	}
	return slices.Compact(out)
}

// Options control Apply and Rollback.
type Options struct {
	// ActorID is recorded with the migration.
	ActorID string
	// Now is the time (default time.Now).
	Now func() time.Time
	// Applied, when set, runs in the migration's transaction once every
	// change is written (for the audit log); an error undoes everything.
	Applied func(ctx context.Context, tx switchyard.Store, m *switchyard.LegacyMigration) error
	// RolledBack, when set, runs in a rollback's transaction once
	// everything is restored; an error undoes the rollback.
	RolledBack func(ctx context.Context, tx switchyard.Store, r *RollbackResult) error
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Result is an applied migration.
type Result struct {
	ID      string   `json:"id"`
	Report  *Report  `json:"report"`
	Changes []Change `json:"changes"`
}

// Apply plans the migration from src and performs it in one transaction,
// recording it (report and changes) so that Rollback can undo it. Items
// that cannot map are left as they are. A migration that would change
// nothing is refused.
func Apply(ctx context.Context, s Store, src Sources, opts Options) (*Result, error) {
	var res *Result
	err := s.InTx(ctx, func(tx switchyard.Store) error {
		pl, err := plan(ctx, tx, src)
		if err != nil {
			return err
		}
		changes, err := write(ctx, tx, pl)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return switchyard.Errorf(switchyard.ECONFLICT, "nothing to migrate: every item maps to what is already there or cannot map (see the plan)")
		}
		report, err := json.Marshal(pl.report)
		if err != nil {
			return err
		}
		ch, err := json.Marshal(changes)
		if err != nil {
			return err
		}
		m := &switchyard.LegacyMigration{CreatedAt: opts.now().UTC().Truncate(time.Microsecond), ActorID: opts.ActorID,
			Sources: pl.report.Sources, Report: report, Changes: ch}
		if err := tx.CreateLegacyMigration(ctx, m); err != nil {
			return err
		}
		if opts.Applied != nil {
			if err := opts.Applied(ctx, tx, m); err != nil {
				return err
			}
		}
		res = &Result{ID: m.ID, Report: pl.report, Changes: changes}
		return nil
	})
	return res, err
}

// write performs the plan and returns what it changed.
func write(ctx context.Context, tx switchyard.Store, pl *planner) ([]Change, error) {
	var out []Change
	at := func(what string, err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("migrate %s: %w", what, err)
	}
	for _, w := range pl.provs {
		switch {
		case w.created():
			if err := tx.CreateProvider(ctx, w.p); err != nil {
				return nil, at("provider "+w.p.Slug, err)
			}
			out = append(out, Change{Kind: "provider", Action: "create", ID: w.p.ID, Key: w.p.Slug, Version: w.p.Version})
		case w.changed():
			before, err := json.Marshal(stateOfProvider(w.cur))
			if err != nil {
				return nil, err
			}
			if err := tx.UpdateProvider(ctx, w.p); err != nil {
				return nil, at("provider "+w.p.Slug, err)
			}
			out = append(out, Change{Kind: "provider", Action: "update", ID: w.p.ID, Key: w.p.Slug, Version: w.p.Version, Before: before})
		}
		for _, wm := range w.models {
			wm.m.ProviderID = w.p.ID
			key := w.p.Slug + "/" + wm.m.UpstreamID
			switch {
			case wm.cur == nil:
				if err := tx.CreateModel(ctx, wm.m); err != nil {
					return nil, at("model "+key, err)
				}
				out = append(out, Change{Kind: "model", Action: "create", ID: wm.m.ID, Key: key, Provider: w.p.ID, Version: wm.m.Version})
			case !reflect.DeepEqual(stateOfModel(wm.cur), stateOfModel(wm.m)):
				before, err := json.Marshal(stateOfModel(wm.cur))
				if err != nil {
					return nil, err
				}
				if err := tx.UpdateModel(ctx, wm.m); err != nil {
					return nil, at("model "+key, err)
				}
				out = append(out, Change{Kind: "model", Action: "update", ID: wm.m.ID, Key: key, Provider: w.p.ID, Version: wm.m.Version, Before: before})
			}
		}
	}
	for _, wc := range pl.conns {
		before, err := json.Marshal(connectionState{ProviderID: wc.c.ProviderID, ProviderType: wc.c.ProviderType})
		if err != nil {
			return nil, err
		}
		wc.c.ProviderID, wc.c.ProviderType = wc.target.p.ID, ""
		if err := tx.UpdateConnection(ctx, wc.c); err != nil {
			return nil, at("connection "+wc.key, err)
		}
		out = append(out, Change{Kind: "connection", Action: "update", ID: wc.c.ID, Key: wc.key, Version: wc.c.Version, Before: before})
	}
	return out, nil
}

// RollbackResult says what a rollback did.
type RollbackResult struct {
	ID string `json:"id"`
	// Restored lists the changes undone, newest first.
	Restored []string `json:"restored"`
	// Overridden lists the later changes a forced rollback discarded.
	Overridden []string `json:"overridden,omitempty"`
}

// Rollback restores the state before migration id (the latest one not
// rolled back when id is empty): connections point back to their types,
// created providers and models are removed, changed ones restored. Where
// something changed since the migration, it refuses (ECONFLICT naming each
// change) unless force, which discards those changes.
func Rollback(ctx context.Context, s Store, id string, force bool, opts Options) (*RollbackResult, error) {
	var res *RollbackResult
	err := s.InTx(ctx, func(tx switchyard.Store) error {
		m, err := pick(ctx, tx, id)
		if err != nil {
			return err
		}
		var changes []Change
		if err := json.Unmarshal(m.Changes, &changes); err != nil {
			return fmt.Errorf("migration %s: changes: %w", m.ID, err)
		}
		res = &RollbackResult{ID: m.ID, Restored: []string{}}
		later, blocked, err := since(ctx, tx, changes)
		if err != nil {
			return err
		}
		if len(blocked) > 0 {
			return switchyard.Errorf(switchyard.ECONFLICT, "migration %s cannot be rolled back: %s", m.ID, strings.Join(blocked, "; "))
		}
		if len(later) > 0 && !force {
			return switchyard.Errorf(switchyard.ECONFLICT, "migration %s cannot be rolled back without losing later changes: %s; roll back with force to discard them",
				m.ID, strings.Join(later, "; "))
		}
		res.Overridden = later
		for i := len(changes) - 1; i >= 0; i-- {
			done, err := undo(ctx, tx, changes[i])
			if err != nil {
				return fmt.Errorf("roll back %s %s: %w", changes[i].Kind, changes[i].Key, err)
			}
			if done {
				res.Restored = append(res.Restored, changes[i].Action+"d "+changes[i].Kind+" "+changes[i].Key)
			}
		}
		if err := tx.MarkLegacyMigrationRolledBack(ctx, m.ID, opts.now()); err != nil {
			return err
		}
		if opts.RolledBack != nil {
			return opts.RolledBack(ctx, tx, res)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// pick returns migration id, or the latest one not rolled back.
func pick(ctx context.Context, tx switchyard.Store, id string) (*switchyard.LegacyMigration, error) {
	if id != "" {
		m, err := tx.GetLegacyMigration(ctx, id)
		if err != nil {
			return nil, err
		}
		if m.RolledBackAt != nil {
			return nil, switchyard.Errorf(switchyard.ECONFLICT, "migration %s was already rolled back on %s", m.ID, m.RolledBackAt.UTC().Format(time.RFC3339))
		}
		return m, nil
	}
	cursor := ""
	for {
		page, err := tx.ListLegacyMigrations(ctx, switchyard.ListOptions{Limit: 100, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, m := range page.Items {
			if m.RolledBackAt == nil {
				return m, nil
			}
		}
		if page.NextCursor == "" {
			return nil, switchyard.Errorf(switchyard.ENOTFOUND, "there is no migration to roll back")
		}
		cursor = page.NextCursor
	}
}

// since lists what changed after the migration: later changes a rollback
// would discard, and blocked ones it cannot undo at all.
func since(ctx context.Context, tx switchyard.Store, changes []Change) (later, blocked []string, err error) {
	created := map[string]bool{}
	ours := map[string]bool{}
	for _, c := range changes {
		ours[c.ID] = true
		if c.Kind == "provider" && c.Action == "create" {
			created[c.ID] = true
		}
	}
	stale := func(what string, now, then int64) {
		later = append(later, fmt.Sprintf("%s was changed since (version %d, the migration left %d)", what, now, then))
	}
	for _, c := range changes {
		what := c.Kind + " " + c.Key
		switch c.Kind {
		case "provider":
			p, err := tx.GetProvider(ctx, c.ID)
			if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				if c.Action == "update" {
					blocked = append(blocked, what+" was deleted since")
				}
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if p.Version != c.Version {
				stale(what, p.Version, c.Version)
			}
			if c.Action != "create" {
				continue
			}
			page, err := tx.ListModels(ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}, ProviderID: c.ID})
			if err != nil {
				return nil, nil, err
			}
			for _, m := range page.Items {
				if !ours[m.ID] {
					later = append(later, "model "+c.Key+"/"+m.UpstreamID+" was added since")
				}
			}
			conns, err := tx.ListConnections(ctx, switchyard.ConnectionFilter{ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}, ProviderID: c.ID})
			if err != nil {
				return nil, nil, err
			}
			for _, cn := range conns.Items {
				if !ours[cn.ID] {
					blocked = append(blocked, fmt.Sprintf("connection %q uses %s since: point it at another provider or delete it first", cn.Name, what))
				}
			}
		case "model":
			m, err := tx.GetModel(ctx, c.ID)
			if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				if c.Action == "update" && !created[c.Provider] {
					later = append(later, what+" was deleted since")
				}
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if m.Version != c.Version {
				stale(what, m.Version, c.Version)
			}
		case "connection":
			cn, err := tx.GetConnection(ctx, c.ID)
			if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				later = append(later, what+" was deleted since")
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if cn.Version != c.Version {
				stale(what, cn.Version, c.Version)
			}
		}
	}
	return later, blocked, nil
}

// undo reverses one change; done is false when there was nothing left to
// undo (the item is gone).
func undo(ctx context.Context, tx switchyard.Store, c Change) (done bool, err error) {
	gone := func(err error) (bool, error) {
		if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
			return false, nil
		}
		return false, err
	}
	switch c.Kind {
	case "connection":
		cn, err := tx.GetConnection(ctx, c.ID)
		if err != nil {
			return gone(err)
		}
		var st connectionState
		if err := json.Unmarshal(c.Before, &st); err != nil {
			return false, err
		}
		cn.ProviderID, cn.ProviderType = st.ProviderID, st.ProviderType
		return true, tx.UpdateConnection(ctx, cn)
	case "model":
		m, err := tx.GetModel(ctx, c.ID)
		if err != nil {
			return gone(err)
		}
		if c.Action == "create" {
			return true, tx.DeleteModel(ctx, m.ID, m.Version)
		}
		var st transfer.Model
		if err := json.Unmarshal(c.Before, &st); err != nil {
			return false, err
		}
		m.DisplayName, m.Aliases, m.Enabled, m.Capabilities, m.Pricing, m.Sources = st.DisplayName, st.Aliases, st.Enabled, st.Capabilities, st.Pricing, st.Sources
		return true, tx.UpdateModel(ctx, m)
	case "provider":
		p, err := tx.GetProvider(ctx, c.ID)
		if err != nil {
			return gone(err)
		}
		if c.Action == "create" {
			return true, tx.DeleteProvider(ctx, p.ID, p.Version)
		}
		var st providerState
		if err := json.Unmarshal(c.Before, &st); err != nil {
			return false, err
		}
		p.Name, p.BaseURL, p.Params, p.Enabled, p.Settings = st.Name, st.BaseURL, st.Params, st.Enabled, st.Settings
		if !p.Enabled {
			p.Status = switchyard.StatusDisabled
		}
		cur := map[string]switchyard.Credential{}
		for _, cr := range p.Credentials {
			cur[cr.ID] = cr
		}
		p.Credentials = nil
		for _, cs := range st.Credentials {
			cr, ok := cur[cs.ID]
			if !ok {
				return false, switchyard.Errorf(switchyard.ECONFLICT, "credential %q was deleted since; its secret cannot be restored", cs.Name)
			}
			cr.Name, cr.Method, cr.Config, cr.Weight, cr.Status, cr.Models = cs.Name, cs.Method, cs.Config, cs.Weight, cs.Status, cs.Models
			// Secrets the migration filled in are cleared; those set
			// before were never touched and stay.
			for k := range maps.Clone(cr.Secrets) {
				if !cs.Secrets[k].Set {
					delete(cr.Secrets, k)
				}
			}
			p.Credentials = append(p.Credentials, cr)
		}
		return true, tx.UpdateProvider(ctx, p)
	}
	return false, switchyard.Errorf(switchyard.EINTERNAL, "unknown change kind %q", c.Kind)
}
