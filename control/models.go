package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard"
)

// ListModels lists models across providers. Users see enabled models of
// enabled providers only.
func (s *Service) ListModels(ctx context.Context, a *Actor, f switchyard.ModelFilter) (switchyard.Page[*switchyard.Model], error) {
	if a == nil || a.User == nil {
		return switchyard.Page[*switchyard.Model]{}, requireAdmin(a, "list models")
	}
	if !a.Admin() {
		if f.Enabled != nil && !*f.Enabled {
			return switchyard.Page[*switchyard.Model]{}, nil // users see no disabled model
		}
		yes := true
		f.Enabled, f.ProviderEnabled = &yes, &yes
	}
	return s.store.ListModels(ctx, f)
}

// ListProviderModels lists the models of one provider; a provider the actor
// may not see is ENOTFOUND.
func (s *Service) ListProviderModels(ctx context.Context, a *Actor, providerID string, f switchyard.ModelFilter) (switchyard.Page[*switchyard.Model], error) {
	if a == nil || a.User == nil {
		return switchyard.Page[*switchyard.Model]{}, requireAdmin(a, "list models")
	}
	if _, err := s.GetProvider(ctx, a, providerID); err != nil {
		return switchyard.Page[*switchyard.Model]{}, err
	}
	f.ProviderID = providerID
	return s.ListModels(ctx, a, f)
}

// GetModel returns a model; users get ENOTFOUND for a disabled model or one
// of a disabled provider.
func (s *Service) GetModel(ctx context.Context, a *Actor, id string) (*switchyard.Model, error) {
	if a == nil || a.User == nil {
		return nil, requireAdmin(a, "read models")
	}
	m, err := s.store.GetModel(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.Admin() && !s.userSees(ctx, m) {
		return nil, hidden("model", id)
	}
	return m, nil
}

// userSees reports whether a user may see the model: it and its provider
// are enabled.
func (s *Service) userSees(ctx context.Context, m *switchyard.Model) bool {
	if !m.Enabled {
		return false
	}
	p, err := s.store.GetProvider(ctx, m.ProviderID)
	return err == nil && p.Enabled
}

// CreateModel adds a model to a provider. The caller sets ProviderID and
// the capabilities with their sources.
func (s *Service) CreateModel(ctx context.Context, a *Actor, m *switchyard.Model) error {
	if err := s.adminOnProviderModels(ctx, a, m.ProviderID); err != nil {
		return err
	}
	m.ID = ""
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		if _, err := tx.GetProvider(ctx, m.ProviderID); err != nil {
			return err
		}
		if err := tx.CreateModel(ctx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "model", m.ID, nil, m)
	})
}

// UpdateModel applies change to the model if ifVersion (0: any) is still
// current. change may not move the model to another provider.
func (s *Service) UpdateModel(ctx context.Context, a *Actor, id string, ifVersion int64, change func(*switchyard.Model) error) (*switchyard.Model, error) {
	if err := s.adminOnModel(ctx, a, id); err != nil {
		return nil, err
	}
	var out *switchyard.Model
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		m, err := s.updateModel(ctx, tx, a, "", id, ifVersion, change)
		out = m
		return err
	})
	return out, err
}

// updateModel changes one model in tx; with providerID set, a model of
// another provider is ENOTFOUND.
func (s *Service) updateModel(ctx context.Context, tx switchyard.Store, a *Actor, providerID, id string, ifVersion int64, change func(*switchyard.Model) error) (*switchyard.Model, error) {
	m, err := tx.GetModel(ctx, id)
	if err != nil {
		return nil, err
	}
	if providerID != "" && m.ProviderID != providerID {
		return nil, switchyard.Errorf(switchyard.ENOTFOUND, "the provider has no model %q", id)
	}
	if err := checkVersion("model", id, ifVersion, m.Version); err != nil {
		return nil, err
	}
	before, err := snapshot(m)
	if err != nil {
		return nil, err
	}
	provider, version, created := m.ProviderID, m.Version, m.CreatedAt
	if err := change(m); err != nil {
		return nil, err
	}
	m.ID, m.ProviderID, m.Version, m.CreatedAt = id, provider, version, created
	if err := tx.UpdateModel(ctx, m); err != nil {
		return nil, err
	}
	return m, s.audit(ctx, tx, a, "update", "model", id, before, m)
}

// DeleteModel deletes a model if ifVersion (0: any) is still current.
func (s *Service) DeleteModel(ctx context.Context, a *Actor, id string, ifVersion int64) error {
	if err := s.adminOnModel(ctx, a, id); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		return s.deleteModel(ctx, tx, a, "", id, ifVersion)
	})
}

func (s *Service) deleteModel(ctx context.Context, tx switchyard.Store, a *Actor, providerID, id string, ifVersion int64) error {
	m, err := tx.GetModel(ctx, id)
	if err != nil {
		return err
	}
	if providerID != "" && m.ProviderID != providerID {
		return switchyard.Errorf(switchyard.ENOTFOUND, "the provider has no model %q", id)
	}
	if err := checkVersion("model", id, ifVersion, m.Version); err != nil {
		return err
	}
	if err := tx.DeleteModel(ctx, id, m.Version); err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "delete", "model", id, m, nil)
}

// Bulk operation kinds and result statuses.
const (
	BulkCreate = "create"
	BulkUpdate = "update"
	BulkDelete = "delete"

	BulkOK         = "ok"
	BulkError      = "error"
	BulkNotApplied = "not_applied"
)

// BulkOp is one operation of a bulk change to a provider's models.
type BulkOp struct {
	Op string
	// ID and Version name the model to update or delete (Version 0: any).
	ID      string
	Version int64
	// Model is the model to create (its ProviderID is set here).
	Model *switchyard.Model
	// Change updates the model, as for UpdateModel.
	Change func(*switchyard.Model) error
	// Invalid is a problem the caller found while reading the operation.
	Invalid error
}

// BulkResult is the outcome of one operation.
type BulkResult struct {
	Index  int
	Op     string
	Status string
	// ID is the model's id: the new one for an applied create.
	ID  string
	Err error
}

// BulkModels runs operations on a provider's models, all or nothing. Every
// operation is checked first: if any is invalid, none is applied and the
// error is EINVALID with every invalid one marked. Then they are applied in
// order in one transaction; the first failure rolls everything back and is
// returned, marked on its operation, the others marked not applied.
func (s *Service) BulkModels(ctx context.Context, a *Actor, providerID string, ops []BulkOp) ([]BulkResult, error) {
	if err := s.adminOnProviderModels(ctx, a, providerID); err != nil {
		return nil, err
	}
	if _, err := s.store.GetProvider(ctx, providerID); err != nil {
		return nil, err
	}
	results := make([]BulkResult, len(ops))
	invalid := 0
	for i, op := range ops {
		results[i] = BulkResult{Index: i, Op: op.Op, Status: BulkNotApplied, ID: op.ID}
		if err := s.checkBulkOp(ctx, providerID, op); err != nil {
			results[i].Status, results[i].Err = BulkError, err
			invalid++
		}
	}
	if invalid > 0 {
		return results, switchyard.Errorf(switchyard.EINVALID,
			"%d of %d operations are invalid (see each result's error); nothing was applied", invalid, len(ops))
	}
	failed := -1
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		for i, op := range ops {
			id, err := s.applyBulkOp(ctx, tx, a, providerID, op)
			if err != nil {
				failed = i
				return err
			}
			results[i].ID = id
		}
		return nil
	})
	if err == nil {
		for i := range results {
			results[i].Status = BulkOK
		}
		return results, nil
	}
	for i := range results {
		if ops[i].Op == BulkCreate {
			results[i].ID = "" // rolled back: the id was never kept
		}
	}
	if failed < 0 {
		return results, err // the commit failed
	}
	results[failed].Status, results[failed].Err = BulkError, err
	return results, &switchyard.Error{Code: switchyard.ErrorCode(err), Err: err,
		Message: fmt.Sprintf("operation %d (%s) failed: %s; nothing was applied", failed, ops[failed].Op, switchyard.ErrorMessage(err))}
}

// checkBulkOp finds what is wrong with an operation before anything is
// applied. Field names are relative to the operation (model.upstream_id,
// patch.aliases[0]).
func (s *Service) checkBulkOp(ctx context.Context, providerID string, op BulkOp) error {
	if op.Invalid != nil {
		return op.Invalid
	}
	var pr switchyard.Problems
	switch op.Op {
	case BulkCreate:
		if op.Model == nil {
			pr.Add("model", "required", "a create operation needs the model to create")
			break
		}
		if op.ID != "" {
			pr.Add("id", "not_allowed", "a create operation takes no id; the model gets a new one")
		}
		op.Model.ProviderID = providerID
		pr.Merge("model", op.Model.Validate())
	case BulkUpdate:
		if op.ID == "" {
			pr.Add("id", "required", "an update operation names the model to update")
		}
		if op.Change == nil {
			pr.Add("patch", "required", "an update operation needs the patch to apply")
		}
		if op.ID == "" || op.Change == nil {
			break
		}
		// Check the patch on the model as it is now; a missing model is
		// reported when the operations are applied.
		m, err := s.store.GetModel(ctx, op.ID)
		if err != nil || m.ProviderID != providerID {
			break
		}
		if err := op.Change(m); err != nil {
			pr.Merge("patch", err)
			break
		}
		pr.Merge("patch", m.Validate())
	case BulkDelete:
		if op.ID == "" {
			pr.Add("id", "required", "a delete operation names the model to delete")
		}
	default:
		pr.Add("op", "invalid_enum", "must be create, update or delete")
	}
	return pr.Err(fmt.Sprintf("%s operation", op.Op))
}

func (s *Service) applyBulkOp(ctx context.Context, tx switchyard.Store, a *Actor, providerID string, op BulkOp) (string, error) {
	switch op.Op {
	case BulkCreate:
		m := op.Model
		m.ID, m.ProviderID = "", providerID
		if err := tx.CreateModel(ctx, m); err != nil {
			return "", prefixFields("model", err)
		}
		return m.ID, s.audit(ctx, tx, a, "create", "model", m.ID, nil, m)
	case BulkUpdate:
		_, err := s.updateModel(ctx, tx, a, providerID, op.ID, op.Version, op.Change)
		return op.ID, prefixFields("patch", err)
	case BulkDelete:
		return op.ID, s.deleteModel(ctx, tx, a, providerID, op.ID, op.Version)
	}
	return "", switchyard.Errorf(switchyard.EINVALID, "unknown operation %q", op.Op)
}

// prefixFields puts the field errors of err under prefix.
func prefixFields(prefix string, err error) error {
	var e *switchyard.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	var pr switchyard.Problems
	pr.Merge(prefix, err)
	out := *e
	out.Fields = pr.Fields()
	return &out
}

// adminOnModel refuses a change by a non-admin: ENOTFOUND when the model is
// hidden from them, EFORBIDDEN when they can see it.
func (s *Service) adminOnModel(ctx context.Context, a *Actor, id string) error {
	if a.Admin() {
		return nil
	}
	if a == nil || a.User == nil {
		return requireAdmin(a, "change models")
	}
	if m, err := s.store.GetModel(ctx, id); err != nil || !s.userSees(ctx, m) {
		return hidden("model", id)
	}
	return requireAdmin(a, "change models")
}

// adminOnProviderModels refuses adding models by a non-admin: ENOTFOUND
// when the provider is hidden from them, EFORBIDDEN when they can see it.
func (s *Service) adminOnProviderModels(ctx context.Context, a *Actor, providerID string) error {
	if a.Admin() {
		return nil
	}
	if a == nil || a.User == nil {
		return requireAdmin(a, "change models")
	}
	if p, err := s.store.GetProvider(ctx, providerID); err != nil || !p.Enabled {
		return hidden("provider", providerID)
	}
	return requireAdmin(a, "change models")
}
