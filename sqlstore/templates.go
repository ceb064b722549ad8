package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchyard/switchyard"
)

const templateCols = `id, slug, name, description, protocol, base_url, auth_method, auth_config, parameters, headers,
	settings, models, docs_url, env_vars, system_type, system, catalog_version, version, created_at, updated_at`

func scanTemplate(sc interface{ Scan(...any) error }) (*switchyard.ProviderTemplate, error) {
	var t switchyard.ProviderTemplate
	var params []byte
	err := sc.Scan(&t.ID, &t.Slug, &t.Name, &t.Description, &t.Protocol, &t.BaseURL, &t.AuthMethod,
		jsonCol{&t.AuthConfig}, jsonCol{(*json.RawMessage)(&params)}, jsonCol{&t.Headers}, jsonCol{&t.Settings},
		jsonCol{&t.Models}, &t.DocsURL, jsonCol{&t.EnvVars}, &t.SystemType, &t.System, &t.CatalogVersion,
		&t.Version, dbTime{&t.CreatedAt}, dbTime{&t.UpdatedAt})
	t.Parameters = params
	return &t, err
}

func templateArgs(t *switchyard.ProviderTemplate) ([]any, error) {
	var out []any
	for _, v := range []struct {
		v     any
		empty string
	}{{t.AuthConfig, "{}"}, {t.Parameters, "{}"}, {t.Headers, "{}"}, {t.Settings, "{}"}, {t.Models, "[]"}} {
		s, err := jsonArg(v.v, v.empty)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	env, err := jsonArg(t.EnvVars, "[]")
	if err != nil {
		return nil, err
	}
	return append([]any{t.Slug, t.Name, t.Description, string(t.Protocol), t.BaseURL, string(t.AuthMethod)},
		append(out, t.DocsURL, env, t.SystemType, t.System, t.CatalogVersion)...), nil
}

// CreateTemplate stores a new template.
func (s *store) CreateTemplate(ctx context.Context, t *switchyard.ProviderTemplate) error {
	if err := t.Validate(); err != nil {
		return err
	}
	args, err := templateArgs(t)
	if err != nil {
		return err
	}
	now := s.nowUTC()
	id := t.ID
	if id == "" {
		id = newID()
	}
	_, err = s.exec(ctx, `INSERT INTO provider_templates (`+templateCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		append(append([]any{id}, args...), s.ts(now), s.ts(now))...)
	if err != nil {
		return err
	}
	t.ID, t.Version, t.CreatedAt, t.UpdatedAt = id, 1, now, now
	return nil
}

// GetTemplate returns one template.
func (s *store) GetTemplate(ctx context.Context, id string) (*switchyard.ProviderTemplate, error) {
	return s.getTemplate(ctx, "id", id)
}

// GetTemplateBySlug returns the template with the given slug.
func (s *store) GetTemplateBySlug(ctx context.Context, slug string) (*switchyard.ProviderTemplate, error) {
	return s.getTemplate(ctx, "slug", slug)
}

func (s *store) getTemplate(ctx context.Context, col, v string) (*switchyard.ProviderTemplate, error) {
	t, err := scanTemplate(s.queryRow(ctx, `SELECT `+templateCols+` FROM provider_templates WHERE `+col+` = ?`, v))
	if isNoRows(err) {
		return nil, notFound("template", v)
	}
	if err != nil {
		return nil, fmt.Errorf("get template: %w", s.db.dialect.classify(err))
	}
	return t, nil
}

// ListTemplates returns one page of templates in creation order.
func (s *store) ListTemplates(ctx context.Context, f switchyard.TemplateFilter) (switchyard.Page[*switchyard.ProviderTemplate], error) {
	var w where
	if f.System != nil {
		w.add("system = ?", *f.System)
	}
	if f.Protocol != "" {
		w.add("protocol = ?", string(f.Protocol))
	}
	if f.Search != "" {
		op := s.db.dialect.like()
		w.add("(name "+op+" ? ESCAPE '\\' OR slug "+op+" ? ESCAPE '\\')", escapeLike(f.Search), escapeLike(f.Search))
	}
	tail, limit, err := paginate(&w, f.ListOptions, false)
	if err != nil {
		return switchyard.Page[*switchyard.ProviderTemplate]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT `+templateCols+` FROM provider_templates`+w.String()+tail, w.args, scanTemplate)
	if err != nil {
		return switchyard.Page[*switchyard.ProviderTemplate]{}, fmt.Errorf("list templates: %w", err)
	}
	return finishPage(items, limit, func(t *switchyard.ProviderTemplate) string { return t.ID }), nil
}

// UpdateTemplate saves every field of t if t.Version is still current.
func (s *store) UpdateTemplate(ctx context.Context, t *switchyard.ProviderTemplate) error {
	if err := t.Validate(); err != nil {
		return err
	}
	args, err := templateArgs(t)
	if err != nil {
		return err
	}
	now := s.nowUTC()
	res, err := s.exec(ctx, `UPDATE provider_templates SET slug = ?, name = ?, description = ?, protocol = ?, base_url = ?,
		auth_method = ?, auth_config = ?, parameters = ?, headers = ?, settings = ?, models = ?, docs_url = ?, env_vars = ?,
		system_type = ?, system = ?, catalog_version = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		append(args, s.ts(now), t.ID, t.Version)...)
	if err != nil {
		return err
	}
	if err := s.checkVersioned(ctx, res, "provider_templates", "template", t.ID, t.Version); err != nil {
		return err
	}
	t.Version++
	t.UpdatedAt = now
	return nil
}

// DeleteTemplate deletes a custom template; system templates are refused
// with EFORBIDDEN. Providers made from it keep working.
func (s *store) DeleteTemplate(ctx context.Context, id string, version int64) error {
	return s.tx(ctx, func(t *store) error {
		var system bool
		err := t.queryRow(ctx, `SELECT system FROM provider_templates WHERE id = ?`, id).Scan(&system)
		if isNoRows(err) {
			return notFound("template", id)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		if system {
			return &switchyard.Error{Code: switchyard.EFORBIDDEN, Message: "system templates come with the binary and cannot be deleted"}
		}
		return t.deleteVersioned(ctx, "provider_templates", "template", id, version)
	})
}
