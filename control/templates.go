package control

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/catalog"
)

// Templates are for admins only: users get EFORBIDDEN for the collection
// and ENOTFOUND for any one template, so that slugs reveal nothing.

// ListTemplates lists templates.
func (s *Service) ListTemplates(ctx context.Context, a *Actor, f switchyard.TemplateFilter) (switchyard.Page[*switchyard.ProviderTemplate], error) {
	if err := requireAdmin(a, "list templates"); err != nil {
		return switchyard.Page[*switchyard.ProviderTemplate]{}, err
	}
	return s.store.ListTemplates(ctx, f)
}

// GetTemplate returns the template with the given id or slug.
func (s *Service) GetTemplate(ctx context.Context, a *Actor, idOrSlug string) (*switchyard.ProviderTemplate, error) {
	if err := adminOnTemplate(a, idOrSlug); err != nil {
		return nil, err
	}
	return findTemplate(ctx, s.store, idOrSlug)
}

// CreateTemplate stores a new custom template, validated as the catalog
// validates its own (a JSON Schema that compiles, a pattern on every
// substituted parameter).
func (s *Service) CreateTemplate(ctx context.Context, a *Actor, t *switchyard.ProviderTemplate) error {
	if err := requireAdmin(a, "create templates"); err != nil {
		return err
	}
	t.ID, t.System, t.SystemType, t.CatalogVersion = "", false, "", 0
	if err := catalog.ValidateTemplate(t); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		if err := tx.CreateTemplate(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "create", "template", t.ID, nil, t)
	})
}

// UpdateTemplate applies change to a custom template if ifVersion (0: any)
// is still current. System templates are read-only (EFORBIDDEN).
func (s *Service) UpdateTemplate(ctx context.Context, a *Actor, idOrSlug string, ifVersion int64, change func(*switchyard.ProviderTemplate) error) (*switchyard.ProviderTemplate, error) {
	if err := adminOnTemplate(a, idOrSlug); err != nil {
		return nil, err
	}
	var out *switchyard.ProviderTemplate
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		t, err := findTemplate(ctx, tx, idOrSlug)
		if err != nil {
			return err
		}
		if t.System {
			return readOnlyTemplate(t)
		}
		if err := checkVersion("template", idOrSlug, ifVersion, t.Version); err != nil {
			return err
		}
		before, err := snapshot(t)
		if err != nil {
			return err
		}
		id, version, created := t.ID, t.Version, t.CreatedAt
		if err := change(t); err != nil {
			return err
		}
		t.ID, t.Version, t.CreatedAt = id, version, created
		t.System, t.SystemType, t.CatalogVersion = false, "", 0
		if err := catalog.ValidateTemplate(t); err != nil {
			return err
		}
		if err := tx.UpdateTemplate(ctx, t); err != nil {
			return err
		}
		out = t
		return s.audit(ctx, tx, a, "update", "template", id, before, t)
	})
	return out, err
}

// DeleteTemplate deletes a custom template; providers made from it keep
// working. System templates cannot be deleted (EFORBIDDEN).
func (s *Service) DeleteTemplate(ctx context.Context, a *Actor, idOrSlug string, ifVersion int64) error {
	if err := adminOnTemplate(a, idOrSlug); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx switchyard.Store) error {
		t, err := findTemplate(ctx, tx, idOrSlug)
		if err != nil {
			return err
		}
		if t.System {
			return readOnlyTemplate(t)
		}
		if err := checkVersion("template", idOrSlug, ifVersion, t.Version); err != nil {
			return err
		}
		if err := tx.DeleteTemplate(ctx, t.ID, t.Version); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "delete", "template", t.ID, t, nil)
	})
}

// PreviewTemplate returns the provider and models InstantiateTemplate would
// create, without saving anything. A slug already taken by a provider is
// ECONFLICT naming "slug".
func (s *Service) PreviewTemplate(ctx context.Context, a *Actor, idOrSlug string, in catalog.InstantiateInput) (*switchyard.Provider, []*switchyard.Model, error) {
	if err := adminOnTemplate(a, idOrSlug); err != nil {
		return nil, nil, err
	}
	return s.instantiate(ctx, s.store, idOrSlug, in)
}

// InstantiateTemplate creates a provider and its models from a template in
// one transaction.
func (s *Service) InstantiateTemplate(ctx context.Context, a *Actor, idOrSlug string, in catalog.InstantiateInput) (*switchyard.Provider, []*switchyard.Model, error) {
	if err := adminOnTemplate(a, idOrSlug); err != nil {
		return nil, nil, err
	}
	var p *switchyard.Provider
	var models []*switchyard.Model
	err := s.store.InTx(ctx, func(tx switchyard.Store) error {
		var err error
		if p, models, err = s.instantiate(ctx, tx, idOrSlug, in); err != nil {
			return err
		}
		if err := tx.CreateProvider(ctx, p); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "create", "provider", p.ID, nil, p); err != nil {
			return err
		}
		for _, m := range models {
			m.ProviderID = p.ID
		}
		if len(models) > 0 {
			if err := tx.CreateModels(ctx, models); err != nil {
				return err
			}
		}
		for _, m := range models {
			if err := s.audit(ctx, tx, a, "create", "model", m.ID, nil, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return p, models, nil
}

// instantiate makes (but does not save) the provider and models of a
// template, refusing a slug a provider already holds.
func (s *Service) instantiate(ctx context.Context, st switchyard.Store, idOrSlug string, in catalog.InstantiateInput) (*switchyard.Provider, []*switchyard.Model, error) {
	t, err := findTemplate(ctx, st, idOrSlug)
	if err != nil {
		return nil, nil, err
	}
	p, models, err := catalog.Instantiate(t, in)
	if err != nil {
		return nil, nil, err
	}
	switch _, err := st.GetProviderBySlug(ctx, p.Slug); {
	case err == nil:
		return nil, nil, &switchyard.Error{Code: switchyard.ECONFLICT,
			Message: "a provider with the slug " + p.Slug + " already exists; choose another slug",
			Fields:  []switchyard.FieldError{{Field: "slug", Code: "taken", Message: "a provider with this slug already exists"}}}
	case switchyard.ErrorCode(err) != switchyard.ENOTFOUND:
		return nil, nil, err
	}
	return p, models, nil
}

// findTemplate looks a template up by id, then by slug.
func findTemplate(ctx context.Context, st switchyard.Store, idOrSlug string) (*switchyard.ProviderTemplate, error) {
	t, err := st.GetTemplate(ctx, idOrSlug)
	if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
		t, err = st.GetTemplateBySlug(ctx, idOrSlug)
	}
	if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
		return nil, hidden("template", idOrSlug)
	}
	return t, err
}

// adminOnTemplate refuses a non-admin as if the template did not exist.
func adminOnTemplate(a *Actor, idOrSlug string) error {
	if a.Admin() {
		return nil
	}
	if a == nil || a.User == nil {
		return requireAdmin(a, "use templates")
	}
	return hidden("template", idOrSlug)
}

func readOnlyTemplate(t *switchyard.ProviderTemplate) error {
	return switchyard.Errorf(switchyard.EFORBIDDEN,
		"template %s is a system template, which comes with the binary and is read-only; create a custom template from a copy of it instead", t.Slug)
}
