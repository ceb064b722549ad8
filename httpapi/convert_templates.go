package httpapi

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

func templateModelOut(m switchyard.TemplateModel) apigen.TemplateModel {
	out := apigen.TemplateModel{UpstreamId: m.UpstreamID, Capabilities: capabilitiesInputOut(m.Capabilities),
		Pricing: ptr(pricingOut(m.Pricing))}
	if m.DisplayName != "" {
		out.DisplayName = ptr(m.DisplayName)
	}
	if len(m.Aliases) > 0 {
		out.Aliases = ptr(slices.Clone(m.Aliases))
	}
	if m.Deprecated {
		out.Deprecated = ptr(true)
	}
	return out
}

// templateModelIn builds a template model: capabilities not sent take the
// defaults.
func templateModelIn(in apigen.TemplateModel) switchyard.TemplateModel {
	caps, pricing, _ := capabilitiesIn(switchyard.DefaultCapabilities(), in.Capabilities, in.Pricing)
	m := switchyard.TemplateModel{UpstreamID: in.UpstreamId, DisplayName: deref(in.DisplayName),
		Capabilities: caps, Pricing: pricing, Deprecated: deref(in.Deprecated)}
	if in.Aliases != nil {
		m.Aliases = slices.Clone(*in.Aliases)
	}
	return m
}

func templateModelsIn(in []apigen.TemplateModel) []switchyard.TemplateModel {
	out := make([]switchyard.TemplateModel, len(in))
	for i, m := range in {
		out[i] = templateModelIn(m)
	}
	return out
}

func templateOut(t *switchyard.ProviderTemplate) apigen.Template {
	params := map[string]any{}
	if len(t.Parameters) > 0 {
		_ = json.Unmarshal(t.Parameters, &params)
		if params == nil {
			params = map[string]any{}
		}
	}
	models := make([]apigen.TemplateModel, len(t.Models))
	for i, m := range t.Models {
		models[i] = templateModelOut(m)
	}
	out := apigen.Template{Id: t.ID, Slug: t.Slug, Name: t.Name, Description: t.Description,
		Protocol: apigen.Protocol(t.Protocol), BaseUrl: t.BaseURL, AuthMethod: apigen.AuthMethod(t.AuthMethod),
		AuthConfig: mapOrEmpty(maps.Clone(t.AuthConfig)), Parameters: params, Headers: mapOrEmpty(maps.Clone(t.Headers)),
		Settings: settingsOut(t.Settings), Models: models, DocsUrl: t.DocsURL, EnvVars: orEmpty(slices.Clone(t.EnvVars)),
		System: t.System, CatalogVersion: t.CatalogVersion, Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.SystemType != "" {
		out.SystemType = ptr(t.SystemType)
	}
	return out
}

// parametersIn encodes a parameter schema sent as a JSON object.
func parametersIn(p map[string]any) (json.RawMessage, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, errorf(switchyard.EINVALID, "parameters must be a JSON Schema object")
	}
	return raw, nil
}

func templateIn(in *apigen.TemplateCreate) (*switchyard.ProviderTemplate, error) {
	t := &switchyard.ProviderTemplate{Slug: in.Slug, Name: in.Name, Description: deref(in.Description),
		Protocol: switchyard.Protocol(in.Protocol), BaseURL: in.BaseUrl, AuthMethod: switchyard.AuthMethod(in.AuthMethod),
		Settings: settingsIn(in.Settings), DocsURL: deref(in.DocsUrl)}
	if in.AuthConfig != nil {
		t.AuthConfig = maps.Clone(*in.AuthConfig)
	}
	if in.Headers != nil {
		t.Headers = maps.Clone(*in.Headers)
	}
	if in.Models != nil {
		t.Models = templateModelsIn(*in.Models)
	}
	if in.EnvVars != nil {
		t.EnvVars = slices.Clone(*in.EnvVars)
	}
	if in.Parameters != nil {
		raw, err := parametersIn(*in.Parameters)
		if err != nil {
			return nil, err
		}
		t.Parameters = raw
	}
	return t, nil
}

// applyTemplatePatch merges a patch into a stored template; objects and
// lists sent replace the stored ones.
func applyTemplatePatch(t *switchyard.ProviderTemplate, in *apigen.TemplatePatch) error {
	if in.Slug != nil {
		t.Slug = *in.Slug
	}
	if in.Name != nil {
		t.Name = *in.Name
	}
	if in.Description != nil {
		t.Description = *in.Description
	}
	if in.Protocol != nil {
		t.Protocol = switchyard.Protocol(*in.Protocol)
	}
	if in.BaseUrl != nil {
		t.BaseURL = *in.BaseUrl
	}
	if in.AuthMethod != nil {
		t.AuthMethod = switchyard.AuthMethod(*in.AuthMethod)
	}
	if in.AuthConfig != nil {
		t.AuthConfig = maps.Clone(*in.AuthConfig)
	}
	if in.Parameters != nil {
		raw, err := parametersIn(*in.Parameters)
		if err != nil {
			return err
		}
		t.Parameters = raw
	}
	if in.Headers != nil {
		t.Headers = maps.Clone(*in.Headers)
	}
	applySettings(&t.Settings, in.Settings)
	if in.Models != nil {
		t.Models = templateModelsIn(*in.Models)
	}
	if in.DocsUrl != nil {
		t.DocsURL = *in.DocsUrl
	}
	if in.EnvVars != nil {
		t.EnvVars = slices.Clone(*in.EnvVars)
	}
	return nil
}

// instantiateIn translates a preview or instantiate request; the secrets
// are the fields of the template's auth method.
func instantiateIn(in *apigen.InstantiateRequest) catalog.InstantiateInput {
	out := catalog.InstantiateInput{Name: deref(in.Name), Slug: deref(in.Slug), Enabled: deref(in.Enabled)}
	if in.Params != nil {
		out.Params = maps.Clone(*in.Params)
	}
	if in.Secrets != nil {
		out.Credential = maps.Clone(*in.Secrets)
	}
	if in.Models != nil {
		out.Models = slices.Clone(*in.Models)
	}
	return out
}

func instantiateOut(p *switchyard.Provider, models []*switchyard.Model) apigen.InstantiateResult {
	return apigen.InstantiateResult{Provider: providerOut(p), Models: modelsOut(models)}
}
