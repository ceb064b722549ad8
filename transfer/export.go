package transfer

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
)

// Store is what export and import read and write.
type Store interface {
	switchyard.ProviderStore
	switchyard.ModelStore
	switchyard.TemplateStore
	switchyard.ConnectionStore
	switchyard.AlertStore
	GetUser(ctx context.Context, id string) (*switchyard.User, error)
	GetUserByUsername(ctx context.Context, username string) (*switchyard.User, error)
}

// ExportOptions choose what goes into a document.
type ExportOptions struct {
	// Providers and Templates, when not empty, keep only these slugs;
	// connections follow the providers kept.
	Providers []string
	Templates []string
	// Passphrase, when set, seals the secrets into the document.
	Passphrase string
	// Now is the export time (default time.Now).
	Now func() time.Time
}

// Export writes the configuration in s as a document.
func Export(ctx context.Context, s Store, opts ExportOptions) (*Document, error) {
	if opts.Passphrase != "" {
		if err := checkPassphrase(opts.Passphrase); err != nil {
			return nil, err
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	d := &Document{Format: Format, Version: Version, ExportedAt: now().UTC().Truncate(time.Second), Secrets: SecretsOmitted,
		Templates: []Template{}, Providers: []Provider{}, Connections: []Connection{}}
	set := &secretSet{Providers: map[string]providerSecrets{}, Connections: map[string]map[string]string{}}

	notSystem := false
	templates, err := all(func(c string) (switchyard.Page[*switchyard.ProviderTemplate], error) {
		return s.ListTemplates(ctx, switchyard.TemplateFilter{ListOptions: switchyard.ListOptions{Limit: 200, Cursor: c}, System: &notSystem})
	})
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		if len(opts.Templates) > 0 && !slices.Contains(opts.Templates, t.Slug) {
			continue
		}
		d.Templates = append(d.Templates, templateOut(t))
	}

	providers, err := all(func(c string) (switchyard.Page[*switchyard.Provider], error) {
		return s.ListProviders(ctx, switchyard.ProviderFilter{ListOptions: switchyard.ListOptions{Limit: 200, Cursor: c}})
	})
	if err != nil {
		return nil, err
	}
	slugs := map[string]string{} // provider id → slug, of those kept
	for _, p := range providers {
		if len(opts.Providers) > 0 && !slices.Contains(opts.Providers, p.Slug) {
			continue
		}
		models, err := all(func(c string) (switchyard.Page[*switchyard.Model], error) {
			return s.ListModels(ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Limit: 500, Cursor: c}, ProviderID: p.ID})
		})
		if err != nil {
			return nil, err
		}
		out, secrets, err := providerOut(p, models, opts.Passphrase != "")
		if err != nil {
			return nil, err
		}
		slugs[p.ID] = p.Slug
		d.Providers = append(d.Providers, out)
		if len(secrets.Credentials) > 0 || len(secrets.Headers) > 0 {
			set.Providers[p.Slug] = secrets
		}
	}

	conns, err := all(func(c string) (switchyard.Page[*switchyard.Connection], error) {
		return s.ListConnections(ctx, switchyard.ConnectionFilter{ListOptions: switchyard.ListOptions{Limit: 200, Cursor: c}})
	})
	if err != nil {
		return nil, err
	}
	owners := map[string]string{}
	for _, c := range conns {
		slug, kept := slugs[c.ProviderID]
		if c.ProviderID != "" && !kept {
			continue
		}
		if len(opts.Providers) > 0 && c.ProviderID == "" {
			continue // a filtered export keeps only its providers' connections
		}
		owner, ok := owners[c.OwnerID]
		if !ok {
			u, err := s.GetUser(ctx, c.OwnerID)
			if err != nil {
				return nil, err
			}
			owner, owners[c.OwnerID] = u.Username, u.Username
		}
		out := Connection{Name: c.Name, Owner: owner, Provider: slug, ProviderType: c.ProviderType, Models: c.Models,
			RateLimitRPM: c.RateLimitRPM, TokenLimitTPM: c.TokenLimitTPM, BudgetUSD: c.BudgetUSD, Enabled: c.Enabled}
		if c.Credential != nil {
			cred, secrets, err := credentialOut(*c.Credential, "connection "+out.key(), opts.Passphrase != "")
			if err != nil {
				return nil, err
			}
			out.Credential = &cred
			if len(secrets) > 0 {
				set.Connections[out.key()] = secrets
			}
		}
		d.Connections = append(d.Connections, out)
	}
	if err := exportAlerts(ctx, s, d, set, opts.Passphrase != ""); err != nil {
		return nil, err
	}
	if opts.Passphrase != "" {
		sealed, err := seal(set, opts.Passphrase)
		if err != nil {
			return nil, err
		}
		d.Secrets, d.Sealed = SecretsSealed, sealed
	}
	return d, nil
}

// all reads every page of a list.
func all[T any](page func(cursor string) (switchyard.Page[T], error)) ([]T, error) {
	var out []T
	cursor := ""
	for {
		p, err := page(cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		cursor = p.NextCursor
	}
}

func templateOut(t *switchyard.ProviderTemplate) Template {
	// The parameters' JSON Schema in one canonical form (PostgreSQL's
	// jsonb does not keep key order), so that exports compare.
	params := t.Parameters
	var v any
	if json.Unmarshal(params, &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			params = b
		}
	}
	return Template{Slug: t.Slug, Name: t.Name, Description: t.Description, Protocol: t.Protocol, BaseURL: t.BaseURL,
		AuthMethod: t.AuthMethod, AuthConfig: t.AuthConfig, Parameters: params, Headers: t.Headers, Settings: t.Settings,
		Models: t.Models, DocsURL: t.DocsURL, EnvVars: t.EnvVars}
}

// providerOut turns a provider into its exported form and collects its
// secrets; withSecrets makes a secret that cannot be decrypted an error.
func providerOut(p *switchyard.Provider, models []*switchyard.Model, withSecrets bool) (Provider, providerSecrets, error) {
	out := Provider{Slug: p.Slug, Name: p.Name, Protocol: p.Protocol, BaseURL: p.BaseURL, Template: p.Template, Params: p.Params,
		System: p.System, Enabled: p.Enabled, Settings: p.Settings, Credentials: []Credential{}, Models: []Model{}}
	secrets := providerSecrets{Credentials: map[string]map[string]string{}, Headers: map[string]string{}}
	for name, v := range p.Headers {
		if out.Headers == nil {
			out.Headers = map[string]SecretRef{}
		}
		out.Headers[name] = SecretRef{Set: v.IsSet()}
		if v.Err() != nil && withSecrets {
			return out, secrets, unreadable("provider "+p.Slug+" header "+name, v.Err())
		}
		if v.Reveal() != "" {
			secrets.Headers[name] = v.Reveal()
		}
	}
	for _, c := range p.Credentials {
		cred, s, err := credentialOut(c, "provider "+p.Slug+" credential "+c.Name, withSecrets)
		if err != nil {
			return out, secrets, err
		}
		out.Credentials = append(out.Credentials, cred)
		if len(s) > 0 {
			secrets.Credentials[c.Name] = s
		}
	}
	for _, m := range models {
		out.Models = append(out.Models, Model{UpstreamID: m.UpstreamID, DisplayName: m.DisplayName, Aliases: m.Aliases,
			Enabled: m.Enabled, Capabilities: m.Capabilities, Pricing: m.Pricing, Sources: m.Sources})
	}
	slices.SortFunc(out.Models, func(a, b Model) int { return strings.Compare(a.UpstreamID, b.UpstreamID) })
	return out, secrets, nil
}

func credentialOut(c switchyard.Credential, where string, withSecrets bool) (Credential, map[string]string, error) {
	status := c.Status
	if status != switchyard.CredentialDisabled {
		status = switchyard.CredentialActive
	}
	out := Credential{Name: c.Name, Method: c.Method, Config: c.Config, Weight: c.Weight, Status: status, Models: c.Models}
	secrets := map[string]string{}
	for field, v := range c.Secrets {
		if out.Secrets == nil {
			out.Secrets = map[string]SecretRef{}
		}
		out.Secrets[field] = SecretRef{Set: v.IsSet()}
		if v.Err() != nil && withSecrets {
			return out, nil, unreadable(where+" secret "+field, v.Err())
		}
		if v.Reveal() != "" {
			secrets[field] = v.Reveal()
		}
	}
	return out, secrets, nil
}

// unreadable reports a stored secret that cannot be decrypted: exporting
// without it would lose it silently.
func unreadable(what string, err error) error {
	return switchyard.Errorf(switchyard.ESECRET, "%s cannot be decrypted (%v); fix or re-enter it, or export without that provider", what, err)
}
