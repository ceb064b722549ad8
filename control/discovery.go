package control

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/probe"
	"github.com/switchyard/switchyard/provider"
)

// DiscoveredModel is one model of a discovery: for a new one, the model an
// import would create (capabilities from the provider's list and the
// catalog, each marked with its source); for a stored one, the model as it
// is.
type DiscoveredModel struct {
	UpstreamID  string
	DisplayName string
	// ModelID is the stored model's id ("" for a new one).
	ModelID      string
	Capabilities switchyard.Capabilities
	Pricing      switchyard.Pricing
	Sources      map[string]switchyard.Source
	// CatalogTemplate is the slug of the catalog template the catalog
	// values came from ("" when the catalog does not know the model).
	CatalogTemplate string
}

// Discovery compares a provider's model list with its stored models.
type Discovery struct {
	// New are listed by the provider and not stored.
	New []DiscoveredModel
	// Missing are stored and not listed.
	Missing []DiscoveredModel
	// Unchanged are stored and listed.
	Unchanged []DiscoveredModel
	// Created and Updated are the models an import created, and the stored
	// ones whose provider and catalog values it refreshed.
	Created []*switchyard.Model
	Updated []*switchyard.Model
}

// discovery is what DiscoverModels learned, with what an import needs.
type discovery struct {
	Discovery
	listed map[string]provider.ModelInfo
	stored map[string]*switchyard.Model
}

// DiscoverModels asks the provider for its model list and compares it with
// the stored models. Nothing is changed.
func (s *Service) DiscoverModels(ctx context.Context, a *Actor, providerID string) (*Discovery, error) {
	d, err := s.discover(ctx, a, providerID)
	if err != nil {
		return nil, err
	}
	return &d.Discovery, nil
}

func (s *Service) discover(ctx context.Context, a *Actor, providerID string) (*discovery, error) {
	if err := s.adminOnProvider(ctx, a, providerID); err != nil {
		return nil, err
	}
	if s.adapters == nil {
		return nil, switchyard.Errorf(switchyard.EUNAVAILABLE, "model discovery is not available in this process")
	}
	p, err := s.store.GetProvider(ctx, providerID)
	if err != nil {
		return nil, err
	}
	ad, err := s.adapterFor(p, "")
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, s.callTimeout)
	defer cancel()
	infos, err := ad.ListModels(lctx)
	if err != nil {
		if e, ok := provider.AsError(err); ok && e.Code == provider.CodeUnsupported {
			return nil, switchyard.Errorf(switchyard.EINVALID, "the %s protocol has no model list; add models by hand", p.Protocol)
		}
		return nil, &switchyard.Error{Code: switchyard.EUNAVAILABLE, Err: err,
			Message: fmt.Sprintf("the provider's model list could not be read: %s; run the provider's connectivity test for details", probe.Describe(err))}
	}
	d := &discovery{listed: map[string]provider.ModelInfo{}, stored: map[string]*switchyard.Model{}}
	f := switchyard.ModelFilter{ProviderID: providerID, ListOptions: switchyard.ListOptions{Limit: switchyard.MaxPageSize}}
	for {
		page, err := s.store.ListModels(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Items {
			d.stored[m.UpstreamID] = m
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	for _, info := range infos {
		if _, dup := d.listed[info.ID]; dup || info.ID == "" {
			continue
		}
		d.listed[info.ID] = info
		if m, ok := d.stored[info.ID]; ok {
			d.Unchanged = append(d.Unchanged, storedDiscovered(m))
			continue
		}
		m, slug := s.modelFromDiscovery(p, info)
		dm := storedDiscovered(m)
		dm.ModelID, dm.CatalogTemplate = "", slug
		d.New = append(d.New, dm)
	}
	for _, m := range d.stored {
		if _, ok := d.listed[m.UpstreamID]; !ok {
			d.Missing = append(d.Missing, storedDiscovered(m))
		}
	}
	for _, l := range [][]DiscoveredModel{d.New, d.Missing, d.Unchanged} {
		slices.SortFunc(l, func(a, b DiscoveredModel) int { return compareStrings(a.UpstreamID, b.UpstreamID) })
	}
	return d, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func storedDiscovered(m *switchyard.Model) DiscoveredModel {
	return DiscoveredModel{UpstreamID: m.UpstreamID, DisplayName: m.DisplayName, ModelID: m.ID,
		Capabilities: m.Capabilities, Pricing: m.Pricing, Sources: maps.Clone(m.Sources)}
}

// catalogModel finds what the built-in catalog knows of an upstream model:
// in the templates of the provider's protocol first, then in any template.
func (s *Service) catalogModel(protocol switchyard.Protocol, upstreamID string) (switchyard.TemplateModel, string, bool) {
	if s.catalog == nil {
		return switchyard.TemplateModel{}, "", false
	}
	for _, sameProtocol := range []bool{true, false} {
		for _, t := range s.catalog.Templates {
			if (t.Protocol == protocol) != sameProtocol {
				continue
			}
			for _, tm := range t.Models {
				if tm.UpstreamID == upstreamID {
					return tm, t.Slug, true
				}
			}
		}
	}
	return switchyard.TemplateModel{}, "", false
}

// modelFromDiscovery makes the model an import creates: the defaults, then
// the catalog's values (source catalog), then what the provider's list says
// (source provider, which outranks the catalog).
func (s *Service) modelFromDiscovery(p *switchyard.Provider, info provider.ModelInfo) (*switchyard.Model, string) {
	m := &switchyard.Model{ProviderID: p.ID, UpstreamID: info.ID, DisplayName: info.DisplayName, Enabled: true,
		Status: switchyard.ModelUnknown, Capabilities: switchyard.DefaultCapabilities(), Sources: map[string]switchyard.Source{}}
	for _, f := range switchyard.CapabilityFields {
		m.Sources[f] = switchyard.SourceDefault
	}
	slug := s.applyDiscovered(p, m, info)
	return m, slug
}

// applyDiscovered applies the catalog's and the provider's values to m where
// their sources do not outrank them (an admin's override stays). It returns
// the catalog template's slug, and whether anything changed.
func (s *Service) applyDiscovered(p *switchyard.Provider, m *switchyard.Model, info provider.ModelInfo) string {
	slug := ""
	if tm, ts, ok := s.catalogModel(p.Protocol, info.ID); ok {
		slug = ts
		m.ApplyCapabilities(tm.Capabilities, tm.Pricing, switchyard.CapabilityFields, switchyard.SourceCatalog)
		if m.DisplayName == "" {
			m.DisplayName = tm.DisplayName
		}
	}
	caps, fields := providerCapabilities(m.Capabilities, info)
	m.ApplyCapabilities(caps, m.Pricing, fields, switchyard.SourceProvider)
	return slug
}

// providerCapabilities returns base with what the provider's list says, and
// the fields it says something about.
func providerCapabilities(base switchyard.Capabilities, info provider.ModelInfo) (switchyard.Capabilities, []string) {
	c := base
	var fields []string
	known := func(ms []string) []string {
		var out []string
		for _, m := range ms {
			if slices.Contains(switchyard.Modalities, m) && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
		return out
	}
	if info.ContextWindow > 0 {
		c.ContextWindow, fields = info.ContextWindow, append(fields, "context_window")
	}
	if info.MaxOutputTokens > 0 && (c.ContextWindow == 0 || info.MaxOutputTokens <= c.ContextWindow) {
		c.MaxOutputTokens, fields = info.MaxOutputTokens, append(fields, "max_output_tokens")
	}
	if in := known(info.InputModalities); len(in) > 0 {
		c.InputModalities, fields = in, append(fields, "input_modalities")
		c.Vision, fields = slices.Contains(in, switchyard.ModalityImage), append(fields, "vision")
	}
	if out := known(info.OutputModalities); len(out) > 0 {
		c.OutputModalities, fields = out, append(fields, "output_modalities")
	}
	if info.Embeddings {
		// An embeddings model: no text comes out, nothing streams.
		c.Embeddings, c.Streaming = true, false
		fields = append(fields, "embeddings", "streaming")
		if len(info.OutputModalities) == 0 {
			c.OutputModalities, fields = []string{}, append(fields, "output_modalities")
		}
	}
	if c.ContextWindow > 0 && c.MaxOutputTokens > c.ContextWindow {
		c.MaxOutputTokens = base.MaxOutputTokens
	}
	return c, fields
}

// ImportModels creates the chosen models of the provider's list in one
// transaction, capabilities from the provider's list and the catalog. A
// chosen model that is already stored keeps its overrides; its provider and
// catalog values are refreshed. Every change is audited. An id the
// provider does not list is refused and nothing is imported.
func (s *Service) ImportModels(ctx context.Context, a *Actor, providerID string, upstreamIDs []string) (*Discovery, error) {
	var pr switchyard.Problems
	if len(upstreamIDs) == 0 {
		pr.Add("upstream_ids", "required", "name at least one model of the discovery to import")
	}
	d, err := s.discover(ctx, a, providerID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, id := range upstreamIDs {
		f := fmt.Sprintf("upstream_ids[%d]", i)
		switch {
		case seen[id]:
			pr.Add(f, "duplicate", "model %q is listed twice", id)
		case d.listed[id].ID == "":
			pr.Add(f, "unknown_model", "the provider's model list has no model %q; discover the models again", id)
		}
		seen[id] = true
	}
	if err := pr.Err("import"); err != nil {
		return nil, err
	}
	p, err := s.store.GetProvider(ctx, providerID)
	if err != nil {
		return nil, err
	}
	var created, updated []*switchyard.Model
	err = s.store.InTx(ctx, func(tx switchyard.Store) error {
		for _, id := range upstreamIDs {
			info := d.listed[id]
			stored, ok := d.stored[id]
			if !ok {
				m, _ := s.modelFromDiscovery(p, info)
				if err := tx.CreateModel(ctx, m); err != nil {
					return err
				}
				created = append(created, m)
				if err := s.audit(ctx, tx, a, "import", "model", m.ID, nil, m); err != nil {
					return err
				}
				continue
			}
			m, err := tx.GetModel(ctx, stored.ID)
			if err != nil {
				return err
			}
			before, err := snapshot(m)
			if err != nil {
				return err
			}
			was := *m
			was.Sources = maps.Clone(m.Sources)
			s.applyDiscovered(p, m, info)
			if maps.Equal(was.Sources, m.Sources) && capabilitiesSame(was, *m) {
				continue
			}
			if err := tx.UpdateModel(ctx, m); err != nil {
				return err
			}
			updated = append(updated, m)
			if err := s.audit(ctx, tx, a, "update", "model", m.ID, before, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The lists as they are after the import.
	out := d.Discovery
	out.New = slices.DeleteFunc(slices.Clone(out.New), func(dm DiscoveredModel) bool { return seen[dm.UpstreamID] })
	for _, m := range created {
		out.Unchanged = append(out.Unchanged, storedDiscovered(m))
	}
	for i, dm := range out.Unchanged {
		for _, m := range updated {
			if m.UpstreamID == dm.UpstreamID {
				out.Unchanged[i] = storedDiscovered(m)
			}
		}
	}
	slices.SortFunc(out.Unchanged, func(a, b DiscoveredModel) int { return compareStrings(a.UpstreamID, b.UpstreamID) })
	out.Created, out.Updated = created, updated
	return &out, nil
}

func capabilitiesSame(a, b switchyard.Model) bool {
	ca, cb := a.Capabilities, b.Capabilities
	return a.Pricing == b.Pricing && a.DisplayName == b.DisplayName &&
		slices.Equal(ca.InputModalities, cb.InputModalities) && slices.Equal(ca.OutputModalities, cb.OutputModalities) &&
		ca.ContextWindow == cb.ContextWindow && ca.MaxOutputTokens == cb.MaxOutputTokens && ca.Tools == cb.Tools &&
		ca.JSONMode == cb.JSONMode && ca.Streaming == cb.Streaming && ca.Vision == cb.Vision &&
		ca.Embeddings == cb.Embeddings && ca.Reasoning == cb.Reasoning
}

// adapterFor builds the provider's adapter with its first active credential
// that serves the upstream model ("" for any).
func (s *Service) adapterFor(p *switchyard.Provider, upstreamID string) (provider.Adapter, error) {
	cred, ok := probe.CredentialFor(p, upstreamID)
	if !ok {
		return nil, switchyard.Errorf(switchyard.EINVALID,
			"provider %q has no active credential for this; add one, or enable one, in the provider's settings", p.Slug)
	}
	ad, err := s.adapters(p, cred)
	if err != nil {
		return nil, &switchyard.Error{Code: switchyard.EINVALID, Err: err,
			Message: fmt.Sprintf("provider %q cannot be reached as configured: %s", p.Slug, probe.Describe(err))}
	}
	return ad, nil
}
