package legacy

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/transfer"
)

// planner builds the set of changes a migration makes, in memory, from the
// stored state; apply writes it.
type planner struct {
	ctx       context.Context
	s         transfer.Store
	src       Sources
	report    *Report
	templates map[string]*switchyard.ProviderTemplate
	provs     []*wprov
	conns     []*wconn
	// slugs are provider slugs taken by this plan.
	slugs map[string]bool
	// names maps a model name the gateway resolves (upstream id or alias)
	// to the upstream ids it names, for stored models of enabled providers.
	names map[string][]string
}

// wprov is a provider the migration creates or changes.
type wprov struct {
	p       *switchyard.Provider // the state to write
	cur     *switchyard.Provider // the stored state; nil when created
	tmpl    *switchyard.ProviderTemplate
	catalog map[string]*switchyard.Model // the template's models by upstream id
	models  []*wmodel
	stored  map[string]*switchyard.Model // stored models by upstream id
	credNo  int
	// settingsFrom is the item whose settings the provider took.
	settingsFrom string
}

// wmodel is a model the migration creates or changes.
type wmodel struct {
	m   *switchyard.Model
	cur *switchyard.Model // nil when created
}

// wconn is an old-style connection pointed at a provider.
type wconn struct {
	c      *switchyard.Connection
	target *wprov
	key    string
}

func (w *wprov) created() bool { return w.cur == nil }

// changed reports whether an existing provider differs from what is stored.
func (w *wprov) changed() bool {
	if w.cur == nil {
		return true
	}
	return len(providerDiff(w.cur, w.p)) > 0
}

func (pl *planner) loadNames() error {
	pl.names = map[string][]string{}
	on := true
	cursor := ""
	for {
		page, err := pl.s.ListModels(pl.ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Limit: 500, Cursor: cursor}, ProviderEnabled: &on})
		if err != nil {
			return err
		}
		for _, m := range page.Items {
			if !m.Enabled {
				continue
			}
			for _, n := range append([]string{m.UpstreamID}, m.Aliases...) {
				if !slices.Contains(pl.names[n], m.UpstreamID) {
					pl.names[n] = append(pl.names[n], m.UpstreamID)
				}
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

func (pl *planner) template(slug string) (*switchyard.ProviderTemplate, error) {
	if t, ok := pl.templates[slug]; ok {
		return t, nil
	}
	t, err := pl.s.GetTemplateBySlug(pl.ctx, slug)
	if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
		t, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	pl.templates[slug] = t
	return t, nil
}

// target names the provider a source item lands on.
type target struct {
	template string
	params   map[string]string
	// baseURL, when set, replaces the template's base URL.
	baseURL string
	// hint tells a new provider's slug apart: a resource, region, host.
	hint string
	// system prefers the template's system provider whatever its base URL
	// (an admin may have pointed it elsewhere).
	system bool
}

var slugJunk = regexp.MustCompile(`[^a-z0-9]+`)

func slugPart(s string) string {
	s = strings.Trim(slugJunk.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	return s
}

// provider finds or plans the provider for t: one this plan already made,
// the system provider of the template when it has the same base URL, a
// stored provider made from the template with the same base URL, or a new
// one. problem explains why there is none.
func (pl *planner) provider(t target) (w *wprov, problem string, err error) {
	tmpl, err := pl.template(t.template)
	if err != nil {
		return nil, "", err
	}
	if tmpl == nil {
		return nil, "this installation has no " + t.template + " template (its catalog is older): upgrade, or create the provider by hand", nil
	}
	params := map[string]any{}
	for k, v := range t.params {
		if v != "" {
			params[k] = v
		}
	}
	p, models, err := catalog.Instantiate(tmpl, catalog.InstantiateInput{Params: params})
	if err != nil {
		return nil, "the " + tmpl.Name + " settings do not fit: " + problemText(err), nil
	}
	if t.baseURL != "" {
		p.BaseURL = strings.TrimRight(t.baseURL, "/")
		if err := switchyard.ValidateBaseURL(p.BaseURL); err != nil {
			return nil, "the base URL " + switchyard.ErrorMessage(err), nil
		}
	}
	for _, w := range pl.provs {
		if w.p.Template == tmpl.Slug && (w.p.BaseURL == p.BaseURL || t.system && w.p.System) {
			return w, "", nil
		}
	}
	byModel := map[string]*switchyard.Model{}
	for _, m := range models {
		byModel[m.UpstreamID] = m
	}
	stored, err := pl.findStored(tmpl, p.BaseURL, t.system)
	if err != nil {
		return nil, "", err
	}
	if stored != nil {
		w := &wprov{p: cloneProvider(stored), cur: stored, tmpl: tmpl, catalog: byModel}
		pl.provs = append(pl.provs, w)
		pl.slugs[stored.Slug] = true
		return w, "", nil
	}
	slug := tmpl.Slug
	if t.hint != "" {
		slug = tmpl.Slug + "-" + slugPart(t.hint)
	}
	if slug, err = pl.freeSlug(slug); err != nil {
		return nil, "", err
	}
	p.Slug = slug
	if t.hint != "" {
		p.Name = tmpl.Name + " (" + t.hint + ")"
	}
	pl.slugs[slug] = true
	w = &wprov{p: p, tmpl: tmpl, catalog: byModel, stored: map[string]*switchyard.Model{}}
	pl.provs = append(pl.provs, w)
	return w, "", nil
}

func (pl *planner) findStored(tmpl *switchyard.ProviderTemplate, baseURL string, system bool) (*switchyard.Provider, error) {
	if system {
		p, err := pl.s.GetProviderBySlug(pl.ctx, tmpl.Slug)
		switch {
		case err == nil && p.System && p.Template == tmpl.Slug:
			return p, nil
		case err != nil && switchyard.ErrorCode(err) != switchyard.ENOTFOUND:
			return nil, err
		}
	}
	cursor := ""
	for {
		page, err := pl.s.ListProviders(pl.ctx, switchyard.ProviderFilter{ListOptions: switchyard.ListOptions{Limit: 200, Cursor: cursor}, Protocol: tmpl.Protocol})
		if err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if p.Template == tmpl.Slug && strings.TrimRight(p.BaseURL, "/") == baseURL {
				// Read it whole (secrets opened) to compare keys.
				return pl.s.GetProvider(pl.ctx, p.ID)
			}
		}
		if page.NextCursor == "" {
			return nil, nil
		}
		cursor = page.NextCursor
	}
}

func (pl *planner) freeSlug(slug string) (string, error) {
	if !switchyard.ValidSlug(slug) {
		slug = "migrated"
	}
	return transfer.FreeSlug(slug, 1, func(cand string) (bool, error) {
		if pl.slugs[cand] {
			return true, nil
		}
		_, err := pl.s.GetProviderBySlug(pl.ctx, cand)
		if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	})
}

// credential gives w the secrets (and config) of one key. missing lists
// the secret fields whose values are not at hand, with the reason. It
// returns the changes to report.
func (pl *planner) credential(w *wprov, secrets map[string]string, config map[string]string, missing []string, label string) []string {
	method := w.tmpl.AuthMethod
	var changes []string
	if len(missing) > 0 {
		changes = append(changes, missing...)
		if hasUsable(w.p) {
			return append(changes, "provider "+w.p.Slug+" keeps serving with the keys it has")
		}
		if w.created() {
			return append(changes, "provider "+w.p.Slug+" is created disabled: set its secret, then enable it")
		}
		return append(changes, "provider "+w.p.Slug+" stays disabled: set its secret, then enable it")
	}
	for _, c := range w.p.Credentials {
		if c.Method == method && sameSecrets(c.Secrets, secrets) {
			return nil // this key is there already
		}
	}
	cfg := maps.Clone(config)
	fill := -1
	for i, c := range w.p.Credentials {
		if c.Method == method && !anySet(c.Secrets) {
			fill = i
			break
		}
	}
	sec := map[string]switchyard.Secret{}
	for k, v := range secrets {
		sec[k] = switchyard.NewSecret(v)
	}
	if fill >= 0 {
		c := &w.p.Credentials[fill]
		c.Secrets, c.Status = sec, switchyard.CredentialActive
		if len(cfg) > 0 {
			if c.Config == nil {
				c.Config = map[string]string{}
			}
			maps.Copy(c.Config, cfg)
		}
	} else {
		base := map[string]string{}
		if len(w.p.Credentials) > 0 {
			maps.Copy(base, w.p.Credentials[0].Config)
		}
		maps.Copy(base, cfg)
		if len(base) == 0 {
			base = nil
		}
		name := pl.credName(w, label)
		w.p.Credentials = append(w.p.Credentials, switchyard.Credential{Name: name, Method: method, Config: base, Secrets: sec,
			Weight: 1, Status: switchyard.CredentialActive})
	}
	if !w.p.Enabled {
		w.p.Enabled, w.p.Status = true, switchyard.StatusUnknown
	}
	return nil
}

func (pl *planner) credName(w *wprov, label string) string {
	for {
		w.credNo++
		name := label
		if w.credNo > 1 || slices.ContainsFunc(w.p.Credentials, func(c switchyard.Credential) bool { return c.Name == name }) {
			name = label + "-" + strconv.Itoa(w.credNo)
		}
		if !slices.ContainsFunc(w.p.Credentials, func(c switchyard.Credential) bool { return c.Name == name }) {
			return name
		}
	}
}

func hasUsable(p *switchyard.Provider) bool {
	if !p.Enabled {
		return false
	}
	for _, c := range p.Credentials {
		if c.Status != switchyard.CredentialDisabled && (anySet(c.Secrets) || c.Method == switchyard.AuthNone) {
			return true
		}
	}
	return false
}

func anySet(s map[string]switchyard.Secret) bool {
	for _, v := range s {
		if v.IsSet() {
			return true
		}
	}
	return false
}

func sameSecrets(have map[string]switchyard.Secret, want map[string]string) bool {
	if len(have) != len(want) {
		return false
	}
	for k, v := range want {
		if have[k].Reveal() != v {
			return false
		}
	}
	return true
}

// model makes sure w serves upstream and that alias names it. It returns
// the changes to report.
func (pl *planner) model(w *wprov, upstream, alias string) ([]string, error) {
	var wm *wmodel
	for _, m := range w.models {
		if m.m.UpstreamID == upstream {
			wm = m
		}
	}
	if wm == nil {
		if w.stored == nil {
			w.stored = map[string]*switchyard.Model{}
			cursor := ""
			for {
				page, err := pl.s.ListModels(pl.ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Limit: 500, Cursor: cursor}, ProviderID: w.cur.ID})
				if err != nil {
					return nil, err
				}
				for _, m := range page.Items {
					w.stored[m.UpstreamID] = m
				}
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
		}
		if cur, ok := w.stored[upstream]; ok {
			c := *cur
			c.Aliases = slices.Clone(cur.Aliases)
			wm = &wmodel{m: &c, cur: cur}
		} else if m, ok := w.catalog[upstream]; ok {
			c := *m
			wm = &wmodel{m: &c}
		} else {
			wm = &wmodel{m: &switchyard.Model{UpstreamID: upstream, Enabled: true, Status: switchyard.ModelUnknown}}
		}
		w.models = append(w.models, wm)
	}
	var changes []string
	if !wm.m.Enabled {
		wm.m.Enabled = true
	}
	if alias == "" || alias == upstream || slices.Contains(wm.m.Aliases, alias) {
		pl.claim(upstream, upstream)
		return nil, nil
	}
	probe := switchyard.Model{ProviderID: "p", UpstreamID: upstream, Aliases: []string{alias}}
	if err := probe.Validate(); err != nil && slices.ContainsFunc(switchyard.ErrorFields(err), func(f switchyard.FieldError) bool { return strings.HasPrefix(f.Field, "aliases") }) {
		return append(changes, fmt.Sprintf("%q cannot be an alias here (%s): ask for %s/%s or %s", alias, aliasProblem(err), w.p.Slug, upstream, upstream)), nil
	}
	if others := slices.DeleteFunc(slices.Clone(pl.names[alias]), func(u string) bool { return u == upstream }); len(others) > 0 {
		return append(changes, fmt.Sprintf("alias %q is not added: it already names %s, and one name serves one model here; ask for %s/%s", alias,
			strings.Join(others, ", "), w.p.Slug, upstream)), nil
	}
	wm.m.Aliases = append(wm.m.Aliases, alias)
	pl.claim(alias, upstream)
	pl.claim(upstream, upstream)
	return changes, nil
}

func (pl *planner) claim(name, upstream string) {
	if !slices.Contains(pl.names[name], upstream) {
		pl.names[name] = append(pl.names[name], upstream)
	}
}

func aliasProblem(err error) string {
	for _, f := range switchyard.ErrorFields(err) {
		if strings.HasPrefix(f.Field, "aliases") {
			return f.Message
		}
	}
	return switchyard.ErrorMessage(err)
}

// problemText renders a validation error with its fields.
func problemText(err error) string {
	fields := switchyard.ErrorFields(err)
	if len(fields) == 0 {
		return switchyard.ErrorMessage(err)
	}
	var parts []string
	for _, f := range fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return strings.Join(parts, "; ")
}

func cloneProvider(p *switchyard.Provider) *switchyard.Provider {
	c := *p
	c.Params = maps.Clone(p.Params)
	c.Headers = maps.Clone(p.Headers)
	c.Credentials = nil
	for _, cr := range p.Credentials {
		cr.Config = maps.Clone(cr.Config)
		cr.Secrets = maps.Clone(cr.Secrets)
		cr.Models = slices.Clone(cr.Models)
		c.Credentials = append(c.Credentials, cr)
	}
	return &c
}

// hostOf returns the host name of a URL, or "".
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
