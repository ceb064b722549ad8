package transfer

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/switchyard/switchyard"
)

// Conflict strategies: what an import does with an item that exists and
// differs.
const (
	OnConflictSkip      = "skip"
	OnConflictOverwrite = "overwrite"
	OnConflictRename    = "rename"
)

// Plan actions.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
	ActionSkip      = "skip"
	ActionRename    = "rename"
)

// TxStore is a Store that runs work in one transaction.
type TxStore interface {
	Store
	InTx(ctx context.Context, fn func(tx switchyard.Store) error) error
}

// ImportOptions control an import.
type ImportOptions struct {
	// DryRun plans without writing.
	DryRun bool
	// OnConflict is OnConflictSkip (default), OnConflictOverwrite or
	// OnConflictRename.
	OnConflict string
	// Passphrase opens the document's sealed secrets; without it they are
	// not imported (existing secrets are kept; new providers that need
	// them are created disabled).
	Passphrase string
	// NewKey makes a gateway key for a created connection: the key (shown
	// once in the plan), its hash and its display prefix.
	NewKey func() (key, hash, prefix string, err error)
	// Applied, when set, runs in the import's transaction once every item
	// is written (to record the import in the audit log); an error undoes
	// the import.
	Applied func(ctx context.Context, tx switchyard.Store, plan *Plan) error
}

// Plan is what an import does (or, in a dry run, would do), item by item.
type Plan struct {
	DryRun     bool           `json:"dry_run"`
	OnConflict string         `json:"on_conflict"`
	Secrets    string         `json:"secrets"` // "imported", "omitted" or "not_opened"
	Summary    map[string]int `json:"summary"`
	Items      []PlanItem     `json:"items"`
}

// PlanItem is one item of the document and what happens to it.
type PlanItem struct {
	Kind string `json:"kind"` // template, provider, model, connection, alert_channel or alert_rule
	// Key names the item: a slug, "provider/upstream_id" or "owner/name".
	Key  string `json:"key"`
	Path string `json:"path"`
	// Action is create, update, unchanged, skip or rename; Conflict says
	// the item existed and differed.
	Action   string `json:"action"`
	Conflict bool   `json:"conflict,omitempty"`
	// RenamedTo is the new slug or name of a renamed item.
	RenamedTo string `json:"renamed_to,omitempty"`
	// Changes lists the fields that differ from what is stored.
	Changes []string `json:"changes,omitempty"`
	Note    string   `json:"note,omitempty"`
	// GatewayKey is the new key of a connection created by an applied
	// import, shown only here.
	GatewayKey string `json:"gateway_key,omitempty"`
}

func (p *Plan) add(it PlanItem) *PlanItem {
	p.Items = append(p.Items, it)
	p.Summary[it.Action]++
	return &p.Items[len(p.Items)-1]
}

// Import validates the whole document, plans every item and, unless a dry
// run, applies the plan in one transaction: a failure changes nothing.
func Import(ctx context.Context, s TxStore, d *Document, opts ImportOptions) (*Plan, error) {
	if opts.OnConflict == "" {
		opts.OnConflict = OnConflictSkip
	}
	if !slices.Contains([]string{OnConflictSkip, OnConflictOverwrite, OnConflictRename}, opts.OnConflict) {
		return nil, switchyard.Errorf(switchyard.EINVALID, "on_conflict must be skip, overwrite or rename, not %q", opts.OnConflict)
	}
	set := &secretSet{}
	secrets := SecretsOmitted
	if d.Secrets == SecretsSealed {
		if opts.Passphrase == "" {
			secrets = "not_opened"
		} else {
			got, err := unseal(d.Sealed, opts.Passphrase)
			if err != nil {
				return nil, err
			}
			set, secrets = got, "imported"
		}
	}
	if err := validate(ctx, s, d, set); err != nil {
		return nil, err
	}
	var plan *Plan
	run := func(tx Store) error {
		plan = &Plan{DryRun: opts.DryRun, OnConflict: opts.OnConflict, Secrets: secrets, Summary: map[string]int{}, Items: []PlanItem{}}
		im := &importer{tx: tx, opts: opts, set: set, plan: plan}
		return im.run(ctx, d)
	}
	if opts.DryRun {
		return plan, run(s)
	}
	err := s.InTx(ctx, func(tx switchyard.Store) error {
		if err := run(tx); err != nil {
			return err
		}
		if opts.Applied != nil {
			return opts.Applied(ctx, tx, plan)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// validate reports every problem of the document at once, each with its
// path, before anything is planned.
func validate(ctx context.Context, s Store, d *Document, set *secretSet) error {
	var pr switchyard.Problems
	seen := map[string]string{}
	dup := func(kind, key, path string) {
		if prev, ok := seen[kind+" "+key]; ok {
			pr.Add(path, "duplicate", "%s %q appears twice in the document (also at %s)", kind, key, prev)
			return
		}
		seen[kind+" "+key] = path
	}
	for i, t := range d.Templates {
		path := "templates[" + strconv.Itoa(i) + "]"
		dup("template", t.Slug, path)
		tt := templateIn(t)
		pr.Merge(path, tt.Validate())
	}
	slugs := map[string]bool{}
	for i, p := range d.Providers {
		path := "providers[" + strconv.Itoa(i) + "]"
		dup("provider", p.Slug, path)
		slugs[p.Slug] = true
		dp := providerIn(p, set.Providers[p.Slug], nil)
		// Secrets are checked against what will be stored, below; here the
		// shape of everything else.
		dp.Enabled = false
		pr.Merge(path, dp.Validate())
		ids := map[string]int{}
		for j, m := range p.Models {
			mpath := path + ".models[" + strconv.Itoa(j) + "]"
			if k, ok := ids[m.UpstreamID]; ok {
				pr.Add(mpath+".upstream_id", "duplicate", "model %q appears twice in this provider (also models[%d])", m.UpstreamID, k)
			}
			ids[m.UpstreamID] = j
			dm := modelIn(m, "")
			dm.ProviderID = "import"
			pr.Merge(mpath, dm.Validate())
		}
		if p.System {
			if _, err := s.GetProviderBySlug(ctx, p.Slug); switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				pr.Add(path+".slug", "unknown_system_provider", "system provider %q does not exist in this installation (its catalog is older); leave it out or import it as a custom provider", p.Slug)
			} else if err != nil {
				return err
			}
		}
	}
	for i, c := range d.Connections {
		path := "connections[" + strconv.Itoa(i) + "]"
		dup("connection", c.key(), path)
		if c.Provider != "" && !slugs[c.Provider] {
			if _, err := s.GetProviderBySlug(ctx, c.Provider); switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				pr.Add(path+".provider", "unknown_provider", "no provider %q in the document or in this installation", c.Provider)
			} else if err != nil {
				return err
			}
		}
		if _, err := s.GetUserByUsername(ctx, c.Owner); switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
			pr.Add(path+".owner", "unknown_user", "no user %q here: create the user first, or change the owner in the document", c.Owner)
		} else if err != nil {
			return err
		}
		pid := ""
		if c.Provider != "" {
			pid = "provider"
		}
		dc := connectionIn(c, "owner", pid, set.Connections[c.key()])
		dc.KeyHash = "import"
		if dc.Credential != nil {
			// Whether its secrets are at hand is decided when planning.
			for k, ref := range c.Credential.Secrets {
				if ref.Set && !dc.Credential.Secrets[k].IsSet() {
					dc.Credential.Secrets[k] = switchyard.SealedSecret("", nil)
				}
			}
		}
		pr.Merge(path, dc.Validate())
	}
	if err := validateAlerts(ctx, s, d, slugs, &pr, dup); err != nil {
		return err
	}
	return pr.Err("import document")
}

type importer struct {
	tx   Store
	opts ImportOptions
	set  *secretSet
	plan *Plan
	// providers maps a document slug to the provider id it lands on;
	// channels an alert channel's name to its id.
	providers map[string]string
	channels  map[string]string
}

func (im *importer) run(ctx context.Context, d *Document) error {
	im.providers = map[string]string{}
	for i, t := range d.Templates {
		if err := im.template(ctx, "templates["+strconv.Itoa(i)+"]", t); err != nil {
			return err
		}
	}
	for i, p := range d.Providers {
		if err := im.provider(ctx, "providers["+strconv.Itoa(i)+"]", p); err != nil {
			return err
		}
	}
	for i, c := range d.Connections {
		if err := im.connection(ctx, "connections["+strconv.Itoa(i)+"]", c); err != nil {
			return err
		}
	}
	im.channels = map[string]string{}
	for i, c := range d.AlertChannels {
		if err := im.alertChannel(ctx, "alert_channels["+strconv.Itoa(i)+"]", c); err != nil {
			return err
		}
	}
	for i, r := range d.AlertRules {
		if err := im.alertRule(ctx, "alert_rules["+strconv.Itoa(i)+"]", r); err != nil {
			return err
		}
	}
	return nil
}

// decide is the action for an item that exists: unchanged when it is the
// same, else per the conflict strategy.
func (im *importer) decide(changes []string) (action string, conflict bool) {
	if len(changes) == 0 {
		return ActionUnchanged, false
	}
	switch im.opts.OnConflict {
	case OnConflictOverwrite:
		return ActionUpdate, true
	case OnConflictRename:
		return ActionRename, true
	}
	return ActionSkip, true
}

func (im *importer) template(ctx context.Context, path string, t Template) error {
	item := PlanItem{Kind: "template", Key: t.Slug, Path: path}
	in := templateIn(t)
	cur, err := im.tx.GetTemplateBySlug(ctx, t.Slug)
	switch {
	case switchyard.ErrorCode(err) == switchyard.ENOTFOUND:
		item.Action = ActionCreate
	case err != nil:
		return err
	case cur.System:
		item.Action, item.Conflict = ActionRename, true
		item.Note = "a system template has this slug"
		if im.opts.OnConflict != OnConflictRename {
			item.Action = ActionSkip
		}
	default:
		item.Changes = diff(templateOut(cur), t)
		item.Action, item.Conflict = im.decide(item.Changes)
	}
	if item.Action == ActionRename {
		slug, err := FreeSlug(t.Slug, 2, stored(func(s string) error { _, err := im.tx.GetTemplateBySlug(ctx, s); return err }))
		if err != nil {
			return err
		}
		item.RenamedTo, in.Slug = slug, slug
	}
	im.plan.add(item)
	if im.opts.DryRun {
		return nil
	}
	switch item.Action {
	case ActionCreate, ActionRename:
		return im.at(path, im.tx.CreateTemplate(ctx, in))
	case ActionUpdate:
		in.ID, in.Version = cur.ID, cur.Version
		return im.at(path, im.tx.UpdateTemplate(ctx, in))
	}
	return nil
}

func (im *importer) provider(ctx context.Context, path string, p Provider) error {
	item := PlanItem{Kind: "provider", Key: p.Slug, Path: path}
	secrets, sealed := im.set.Providers[p.Slug]
	cur, err := im.tx.GetProviderBySlug(ctx, p.Slug)
	var curModels []*switchyard.Model
	switch {
	case switchyard.ErrorCode(err) == switchyard.ENOTFOUND:
		item.Action = ActionCreate
	case err != nil:
		return err
	default:
		curModels, err = all(func(c string) (switchyard.Page[*switchyard.Model], error) {
			return im.tx.ListModels(ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Limit: 500, Cursor: c}, ProviderID: cur.ID})
		})
		if err != nil {
			return err
		}
		was, curSecrets, _ := providerOut(cur, nil, false)
		mine := p
		mine.Models = nil
		was.Models = nil
		item.Changes = diff(was, mine)
		if sealed && !reflect.DeepEqual(normSecrets(curSecrets), normSecrets(secrets)) {
			item.Changes = append(item.Changes, "secrets")
		}
		item.Action, item.Conflict = im.decide(item.Changes)
		if cur.System && item.Action == ActionRename {
			item.Action, item.Note = ActionSkip, "a system provider cannot be renamed; use on_conflict=overwrite to change it"
		}
	}
	in := providerIn(p, secrets, cur)
	if item.Action == ActionRename {
		slug, err := FreeSlug(p.Slug, 2, stored(func(s string) error { _, err := im.tx.GetProviderBySlug(ctx, s); return err }))
		if err != nil {
			return err
		}
		item.RenamedTo, in.Slug = slug, slug
		in = providerIn(p, secrets, nil)
		in.Slug = slug
	}
	if (item.Action == ActionCreate || item.Action == ActionRename || item.Action == ActionUpdate) && in.Enabled && missingSecrets(in) {
		in.Enabled = false
		item.Note = "imported without its secrets: it stays disabled until they are set"
	}
	im.plan.add(item)
	if !im.opts.DryRun {
		switch item.Action {
		case ActionCreate, ActionRename:
			if err := im.at(path, im.tx.CreateProvider(ctx, in)); err != nil {
				return err
			}
		case ActionUpdate:
			if err := im.at(path, im.tx.UpdateProvider(ctx, in)); err != nil {
				return err
			}
		}
	}
	target := ""
	switch {
	case item.Action == ActionCreate || item.Action == ActionRename:
		target = in.ID
	case cur != nil:
		target = cur.ID
	}
	im.providers[p.Slug] = target
	// Models follow their provider: a skipped provider's models are left
	// as they are; otherwise each is planned on its own.
	byID := map[string]*switchyard.Model{}
	for _, m := range curModels {
		byID[m.UpstreamID] = m
	}
	for j, m := range p.Models {
		mitem := PlanItem{Kind: "model", Key: p.Slug + "/" + m.UpstreamID, Path: path + ".models[" + strconv.Itoa(j) + "]"}
		old := byID[m.UpstreamID]
		if item.Action == ActionRename {
			old = nil
		}
		switch {
		case item.Action == ActionSkip:
			mitem.Action, mitem.Note = ActionSkip, "its provider is skipped"
		case old == nil:
			mitem.Action = ActionCreate
		default:
			mitem.Changes = diff(Model{UpstreamID: old.UpstreamID, DisplayName: old.DisplayName, Aliases: old.Aliases, Enabled: old.Enabled,
				Capabilities: old.Capabilities, Pricing: old.Pricing, Sources: old.Sources}, m)
			mitem.Action, mitem.Conflict = im.decide(mitem.Changes)
			if mitem.Action == ActionRename {
				mitem.Action = ActionSkip
				mitem.Note = "a model keeps its upstream id; use on_conflict=overwrite to change it"
			}
		}
		im.plan.add(mitem)
		if im.opts.DryRun {
			continue
		}
		dm := modelIn(m, target)
		switch mitem.Action {
		case ActionCreate:
			if err := im.at(mitem.Path, im.tx.CreateModel(ctx, dm)); err != nil {
				return err
			}
		case ActionUpdate:
			dm.ID, dm.Version = old.ID, old.Version
			if err := im.at(mitem.Path, im.tx.UpdateModel(ctx, dm)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (im *importer) connection(ctx context.Context, path string, c Connection) error {
	item := PlanItem{Kind: "connection", Key: c.key(), Path: path}
	owner, err := im.tx.GetUserByUsername(ctx, c.Owner)
	if err != nil {
		return im.at(path+".owner", err)
	}
	providerID := ""
	if c.Provider != "" {
		providerID = im.providers[c.Provider]
		if providerID == "" {
			p, err := im.tx.GetProviderBySlug(ctx, c.Provider)
			switch {
			case err == nil:
				providerID = p.ID
			case switchyard.ErrorCode(err) == switchyard.ENOTFOUND && im.opts.DryRun:
				providerID = "new:" + c.Provider // created by this import
			default:
				return im.at(path+".provider", err)
			}
		}
	}
	existing, err := all(func(cur string) (switchyard.Page[*switchyard.Connection], error) {
		return im.tx.ListConnections(ctx, switchyard.ConnectionFilter{ListOptions: switchyard.ListOptions{Limit: 200, Cursor: cur}, OwnerID: owner.ID})
	})
	if err != nil {
		return err
	}
	var cur *switchyard.Connection
	names := map[string]bool{}
	for _, e := range existing {
		names[e.Name] = true
		if e.Name == c.Name {
			cur = e
		}
	}
	secrets := im.set.Connections[c.key()]
	in := connectionIn(c, owner.ID, providerID, secrets)
	if cur == nil {
		item.Action = ActionCreate
	} else {
		was := Connection{Name: cur.Name, Owner: c.Owner, Provider: c.Provider, ProviderType: cur.ProviderType, Models: cur.Models,
			RateLimitRPM: cur.RateLimitRPM, TokenLimitTPM: cur.TokenLimitTPM, BudgetUSD: cur.BudgetUSD, Enabled: cur.Enabled}
		if cur.ProviderID != providerID {
			was.Provider = "(another provider)"
		}
		if cur.Credential != nil {
			cred, _, _ := credentialOut(*cur.Credential, "", false)
			was.Credential = &cred
		}
		item.Changes = diff(was, c)
		item.Action, item.Conflict = im.decide(item.Changes)
	}
	if item.Action == ActionRename {
		name := c.Name
		for n := 2; names[name]; n++ {
			name = c.Name + " (" + strconv.Itoa(n) + ")"
		}
		item.RenamedTo, in.Name = name, name
	}
	if in.Credential != nil && cur != nil && cur.Credential != nil && secrets == nil {
		in.Credential.ID = cur.Credential.ID
		for k, v := range in.Credential.Secrets {
			if v.Reveal() == "" {
				in.Credential.Secrets[k] = cur.Credential.Secrets[k]
			}
		}
	}
	if item.Action == ActionCreate || item.Action == ActionRename {
		item.Note = "a new gateway key is issued"
		if in.Credential != nil && missingSecrets(&switchyard.Provider{Credentials: []switchyard.Credential{*in.Credential}}) {
			item.Action = ActionSkip
			item.Note = "it brings its own credential, whose secret is not in this import: import with the passphrase"
		}
	}
	it := im.plan.add(item)
	if im.opts.DryRun {
		return nil
	}
	switch item.Action {
	case ActionCreate, ActionRename:
		if im.opts.NewKey == nil {
			return switchyard.Errorf(switchyard.EINTERNAL, "import: no gateway key maker")
		}
		key, hash, prefix, err := im.opts.NewKey()
		if err != nil {
			return err
		}
		in.KeyHash, in.KeyPrefix = hash, prefix
		if err := im.at(path, im.tx.CreateConnection(ctx, in)); err != nil {
			return err
		}
		it.GatewayKey = key
	case ActionUpdate:
		in.ID, in.Version, in.KeyHash, in.KeyPrefix = cur.ID, cur.Version, cur.KeyHash, cur.KeyPrefix
		return im.at(path, im.tx.UpdateConnection(ctx, in))
	}
	return nil
}

// at names the item a store error is about.
func (im *importer) at(path string, err error) error {
	if err == nil {
		return nil
	}
	var pr switchyard.Problems
	pr.Merge(path, err)
	if e := pr.Err("import"); e != nil && len(switchyard.ErrorFields(err)) > 0 {
		return e
	}
	return fmt.Errorf("%s: %w", path, err)
}

// FreeSlug returns the first of slug itself (when first is 1), "<slug>-2",
// "<slug>-3", … that taken reports free, each cut to the 64 characters a
// slug may have.
func FreeSlug(slug string, first int, taken func(string) (bool, error)) (string, error) {
	for n := first; n < 1000; n++ {
		cand := slug
		if n > 1 {
			suffix := "-" + strconv.Itoa(n)
			cand = slug[:min(len(slug), 64-len(suffix))] + suffix
		}
		used, err := taken(cand)
		if err != nil {
			return "", err
		}
		if !used {
			return cand, nil
		}
	}
	return "", switchyard.Errorf(switchyard.ECONFLICT, "no free slug like %q", slug)
}

// stored turns a lookup by slug into FreeSlug's question.
func stored(get func(string) error) func(string) (bool, error) {
	return func(s string) (bool, error) {
		err := get(s)
		if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	}
}

// diff names the top-level fields (by their JSON names) where a and b
// differ.
func diff(a, b any) []string {
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	var out []string
	for k, v := range mb {
		if !reflect.DeepEqual(ma[k], v) {
			out = append(out, k)
		}
	}
	for k := range ma {
		if _, ok := mb[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func normSecrets(s providerSecrets) providerSecrets {
	if len(s.Credentials) == 0 {
		s.Credentials = nil
	}
	if len(s.Headers) == 0 {
		s.Headers = nil
	}
	return s
}

func missingSecrets(p *switchyard.Provider) bool {
	for _, c := range p.Credentials {
		spec := switchyard.AuthMethods[c.Method]
		for _, k := range spec.RequiredSecrets {
			if !c.Secrets[k].IsSet() {
				return true
			}
		}
	}
	return false
}

func templateIn(t Template) *switchyard.ProviderTemplate {
	return &switchyard.ProviderTemplate{Slug: t.Slug, Name: t.Name, Description: t.Description, Protocol: t.Protocol,
		BaseURL: t.BaseURL, AuthMethod: t.AuthMethod, AuthConfig: t.AuthConfig, Parameters: t.Parameters, Headers: t.Headers,
		Settings: t.Settings, Models: t.Models, DocsURL: t.DocsURL, EnvVars: t.EnvVars}
}

// providerIn builds the provider to store. Secrets come from the sealed
// block; without one, those of cur (the provider it replaces, matched by
// credential name and header name) are kept.
func providerIn(p Provider, secrets providerSecrets, cur *switchyard.Provider) *switchyard.Provider {
	out := &switchyard.Provider{Name: p.Name, Slug: p.Slug, Protocol: p.Protocol, BaseURL: p.BaseURL, Template: p.Template,
		Params: p.Params, Enabled: p.Enabled, Settings: p.Settings}
	if cur != nil {
		out.ID, out.Version, out.System, out.SystemType, out.Status = cur.ID, cur.Version, cur.System, cur.SystemType, cur.Status
	}
	curCreds := map[string]switchyard.Credential{}
	if cur != nil {
		for _, c := range cur.Credentials {
			curCreds[c.Name] = c
		}
	}
	for name, ref := range p.Headers {
		if out.Headers == nil {
			out.Headers = map[string]switchyard.Secret{}
		}
		switch v, ok := secrets.Headers[name]; {
		case ok:
			out.Headers[name] = switchyard.NewSecret(v)
		case ref.Set && cur != nil && cur.Headers[name].IsSet():
			out.Headers[name] = switchyard.SealedSecret(cur.Headers[name].Hint(), nil)
		}
	}
	for _, c := range p.Credentials {
		old, had := curCreds[c.Name]
		dc := credentialIn(c, secrets.Credentials[c.Name], old.Secrets)
		if had {
			dc.ID = old.ID
		}
		out.Credentials = append(out.Credentials, dc)
	}
	return out
}

func credentialIn(c Credential, secrets map[string]string, keep map[string]switchyard.Secret) switchyard.Credential {
	status := c.Status
	if status == "" {
		status = switchyard.CredentialActive
	}
	out := switchyard.Credential{Name: c.Name, Method: c.Method, Config: c.Config, Weight: c.Weight, Status: status, Models: c.Models}
	for field, ref := range c.Secrets {
		if out.Secrets == nil {
			out.Secrets = map[string]switchyard.Secret{}
		}
		switch v, ok := secrets[field]; {
		case ok:
			out.Secrets[field] = switchyard.NewSecret(v)
		case ref.Set && keep[field].IsSet():
			out.Secrets[field] = switchyard.SealedSecret(keep[field].Hint(), nil)
		}
	}
	return out
}

func modelIn(m Model, providerID string) *switchyard.Model {
	return &switchyard.Model{ProviderID: providerID, UpstreamID: m.UpstreamID, DisplayName: m.DisplayName, Aliases: m.Aliases,
		Enabled: m.Enabled, Capabilities: m.Capabilities, Pricing: m.Pricing, Sources: m.Sources}
}

func connectionIn(c Connection, ownerID, providerID string, secrets map[string]string) *switchyard.Connection {
	out := &switchyard.Connection{Name: c.Name, OwnerID: ownerID, ProviderID: providerID, ProviderType: c.ProviderType, Models: c.Models,
		RateLimitRPM: c.RateLimitRPM, TokenLimitTPM: c.TokenLimitTPM, BudgetUSD: c.BudgetUSD, Enabled: c.Enabled}
	if c.Credential != nil {
		cred := credentialIn(*c.Credential, secrets, nil)
		out.Credential = &cred
	}
	return out
}
