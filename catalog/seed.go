package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard"
)

// SeedResult says what Seed changed. Each list holds slugs.
type SeedResult struct {
	TemplatesCreated []string
	TemplatesUpdated []string
	ProvidersCreated []string
	// Skipped explains each item left alone, such as a custom template or
	// provider that already holds a system slug.
	Skipped []string
}

// Changed reports whether Seed wrote anything.
func (r SeedResult) Changed() bool {
	return len(r.TemplatesCreated)+len(r.TemplatesUpdated)+len(r.ProvidersCreated) > 0
}

// Seed stores the catalog in one transaction: every system template (created,
// or updated when the stored one comes from an older catalog version) and
// one disabled system provider per template that can stand without
// parameters. It is idempotent, and it never touches a provider that exists:
// what admins changed in providers stays as they left it.
//
// When several replicas seed one database at once, the loser of a race
// retries once and then finds everything in place.
func (c *Catalog) Seed(ctx context.Context, s switchyard.Store) (SeedResult, error) {
	res, err := c.seed(ctx, s)
	if switchyard.ErrorCode(err) == switchyard.ECONFLICT {
		res, err = c.seed(ctx, s)
	}
	return res, err
}

func (c *Catalog) seed(ctx context.Context, s switchyard.Store) (SeedResult, error) {
	var res SeedResult
	err := s.InTx(ctx, func(tx switchyard.Store) error {
		res = SeedResult{}
		yes := true
		existing, err := tx.ListProviders(ctx, switchyard.ProviderFilter{System: &yes,
			ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}})
		if err != nil {
			return err
		}
		haveType := map[string]bool{}
		for _, p := range existing.Items {
			haveType[p.SystemType] = true
		}
		for _, t := range c.Templates {
			if err := c.seedTemplate(ctx, tx, t, &res); err != nil {
				return fmt.Errorf("seed template %s: %w", t.Slug, err)
			}
			if haveType[t.SystemType] {
				continue
			}
			if err := seedProvider(ctx, tx, t, &res); err != nil {
				return fmt.Errorf("seed system provider %s: %w", t.Slug, err)
			}
		}
		return nil
	})
	return res, err
}

func (c *Catalog) seedTemplate(ctx context.Context, tx switchyard.Store, t *switchyard.ProviderTemplate, res *SeedResult) error {
	want := *t
	want.System, want.CatalogVersion = true, c.Version
	stored, err := tx.GetTemplateBySlug(ctx, t.Slug)
	switch {
	case switchyard.ErrorCode(err) == switchyard.ENOTFOUND:
		want.ID = ""
		if err := tx.CreateTemplate(ctx, &want); err != nil {
			return err
		}
		res.TemplatesCreated = append(res.TemplatesCreated, t.Slug)
		return nil
	case err != nil:
		return err
	case !stored.System:
		res.Skipped = append(res.Skipped, fmt.Sprintf("template %s: a custom template holds this slug", t.Slug))
		return nil
	case stored.CatalogVersion >= c.Version:
		return nil
	}
	want.ID, want.Version, want.CreatedAt = stored.ID, stored.Version, stored.CreatedAt
	if err := tx.UpdateTemplate(ctx, &want); err != nil {
		return err
	}
	res.TemplatesUpdated = append(res.TemplatesUpdated, t.Slug)
	return nil
}

func seedProvider(ctx context.Context, tx switchyard.Store, t *switchyard.ProviderTemplate, res *SeedResult) error {
	p, models, ok := SystemProvider(t)
	if !ok {
		return nil
	}
	if _, err := tx.GetProviderBySlug(ctx, p.Slug); err == nil {
		res.Skipped = append(res.Skipped, fmt.Sprintf("system provider %s: a custom provider holds this slug", p.Slug))
		return nil
	} else if !isNotFound(err) {
		return err
	}
	if err := tx.CreateProvider(ctx, p); err != nil {
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
	res.ProvidersCreated = append(res.ProvidersCreated, p.Slug)
	return nil
}

func isNotFound(err error) bool {
	var e *switchyard.Error
	return errors.As(err, &e) && e.Code == switchyard.ENOTFOUND
}
