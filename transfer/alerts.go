package transfer

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard"
)

// AlertChannel is an alert channel, keyed by name; its secrets are only
// marked as set (their values travel in the sealed block).
type AlertChannel struct {
	Name         string               `json:"name"`
	Kind         string               `json:"kind"`
	Enabled      bool                 `json:"enabled"`
	URL          string               `json:"url,omitempty"`
	SMTPHost     string               `json:"smtp_host,omitempty"`
	SMTPPort     int                  `json:"smtp_port,omitempty"`
	Username     string               `json:"username,omitempty"`
	From         string               `json:"from,omitempty"`
	To           []string             `json:"to,omitempty"`
	InsecureSMTP bool                 `json:"insecure_smtp,omitempty"`
	Secrets      map[string]SecretRef `json:"secrets,omitempty"`
}

// AlertRule is an alert rule, keyed by name (the built-in rule by being
// built in); its provider and channels are named by slug and name.
type AlertRule struct {
	Name            string   `json:"name"`
	Kind            string   `json:"kind"`
	Enabled         bool     `json:"enabled"`
	Builtin         bool     `json:"builtin,omitempty"`
	Provider        string   `json:"provider,omitempty"`
	ForMinutes      int      `json:"for_minutes,omitempty"`
	Threshold       float64  `json:"threshold,omitempty"`
	WindowMinutes   int      `json:"window_minutes,omitempty"`
	CooldownMinutes int      `json:"cooldown_minutes"`
	Channels        []string `json:"channels,omitempty"`
}

// exportAlerts adds the alert channels and rules to d and the channels'
// secrets to set.
func exportAlerts(ctx context.Context, s Store, d *Document, set *secretSet, withSecrets bool) error {
	channels, err := all(func(c string) (switchyard.Page[*switchyard.AlertChannel], error) {
		return s.ListAlertChannels(ctx, switchyard.ListOptions{Limit: 200, Cursor: c})
	})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, c := range channels {
		names[c.ID] = c.Name
		out := AlertChannel{Name: c.Name, Kind: c.Kind, Enabled: c.Enabled, URL: c.URL, SMTPHost: c.SMTPHost, SMTPPort: c.SMTPPort,
			Username: c.Username, From: c.From, To: c.To, InsecureSMTP: c.InsecureSMTP}
		secrets := map[string]string{}
		for field, v := range c.Secrets {
			if out.Secrets == nil {
				out.Secrets = map[string]SecretRef{}
			}
			out.Secrets[field] = SecretRef{Set: v.IsSet()}
			if v.Err() != nil && withSecrets {
				return unreadable("alert channel "+c.Name+" secret "+field, v.Err())
			}
			if v.Reveal() != "" {
				secrets[field] = v.Reveal()
			}
		}
		if len(secrets) > 0 {
			if set.AlertChannels == nil {
				set.AlertChannels = map[string]map[string]string{}
			}
			set.AlertChannels[c.Name] = secrets
		}
		d.AlertChannels = append(d.AlertChannels, out)
	}
	rules, err := all(func(c string) (switchyard.Page[*switchyard.AlertRule], error) {
		return s.ListAlertRules(ctx, switchyard.ListOptions{Limit: 200, Cursor: c})
	})
	if err != nil {
		return err
	}
	for _, r := range rules {
		out := AlertRule{Name: r.Name, Kind: r.Kind, Enabled: r.Enabled, Builtin: r.Builtin, ForMinutes: r.ForMinutes,
			Threshold: r.Threshold, WindowMinutes: r.WindowMinutes, CooldownMinutes: r.CooldownMinutes}
		if r.ProviderID != "" {
			p, err := s.GetProvider(ctx, r.ProviderID)
			if err != nil {
				return err
			}
			out.Provider = p.Slug
		}
		for _, id := range r.ChannelIDs {
			if n, ok := names[id]; ok {
				out.Channels = append(out.Channels, n)
			}
		}
		d.AlertRules = append(d.AlertRules, out)
	}
	return nil
}

func alertChannelIn(c AlertChannel, secrets map[string]string, keep map[string]switchyard.Secret) *switchyard.AlertChannel {
	out := &switchyard.AlertChannel{Name: c.Name, Kind: c.Kind, Enabled: c.Enabled, URL: c.URL, SMTPHost: c.SMTPHost, SMTPPort: c.SMTPPort,
		Username: c.Username, From: c.From, To: c.To, InsecureSMTP: c.InsecureSMTP, Secrets: map[string]switchyard.Secret{}}
	for field, ref := range c.Secrets {
		switch v, ok := secrets[field]; {
		case ok:
			out.Secrets[field] = switchyard.NewSecret(v)
		case ref.Set && keep[field].IsSet():
			out.Secrets[field] = switchyard.SealedSecret(keep[field].Hint(), nil) // keeps the stored value
		}
	}
	return out
}

// validateAlerts checks the alert items' shape and references.
func validateAlerts(ctx context.Context, s Store, d *Document, slugs map[string]bool, pr *switchyard.Problems, dup func(kind, key, path string)) error {
	channels := map[string]bool{}
	for i, c := range d.AlertChannels {
		path := "alert_channels[" + strconv.Itoa(i) + "]"
		dup("alert channel", c.Name, path)
		channels[c.Name] = true
		dc := alertChannelIn(c, nil, nil)
		for k, ref := range c.Secrets {
			if ref.Set {
				dc.Secrets[k] = switchyard.SealedSecret("", nil)
			}
		}
		pr.Merge(path, dc.Validate())
	}
	builtins := 0
	for i, r := range d.AlertRules {
		path := "alert_rules[" + strconv.Itoa(i) + "]"
		dup("alert rule", r.Name, path)
		if r.Builtin {
			if builtins++; builtins > 1 {
				pr.Add(path+".builtin", "duplicate", "only one rule is built in")
			}
		}
		pr.Merge(path, ruleIn(r, "", nil).Validate())
		if r.Provider != "" && !slugs[r.Provider] {
			if _, err := s.GetProviderBySlug(ctx, r.Provider); switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				pr.Add(path+".provider", "unknown_provider", "no provider %q in the document or in this installation", r.Provider)
			} else if err != nil {
				return err
			}
		}
		for j, name := range r.Channels {
			if channels[name] {
				continue
			}
			if _, err := channelByName(ctx, s, name); switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				pr.Add(path+".channels["+strconv.Itoa(j)+"]", "unknown_channel", "no alert channel %q in the document or in this installation", name)
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}

func ruleIn(r AlertRule, providerID string, channelIDs []string) *switchyard.AlertRule {
	return &switchyard.AlertRule{Name: r.Name, Kind: r.Kind, Enabled: r.Enabled, Builtin: r.Builtin, ProviderID: providerID,
		ForMinutes: r.ForMinutes, Threshold: r.Threshold, WindowMinutes: r.WindowMinutes, CooldownMinutes: r.CooldownMinutes,
		ChannelIDs: append([]string{}, channelIDs...)}
}

func channelByName(ctx context.Context, s Store, name string) (*switchyard.AlertChannel, error) {
	cs, err := all(func(c string) (switchyard.Page[*switchyard.AlertChannel], error) {
		return s.ListAlertChannels(ctx, switchyard.ListOptions{Limit: 200, Cursor: c})
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, switchyard.Errorf(switchyard.ENOTFOUND, "alert channel %q not found", name)
}

// alertChannel plans and applies one channel.
func (im *importer) alertChannel(ctx context.Context, path string, c AlertChannel) error {
	item := PlanItem{Kind: "alert_channel", Key: c.Name, Path: path}
	secrets, sealed := im.set.AlertChannels[c.Name]
	cur, err := channelByName(ctx, im.tx, c.Name)
	switch {
	case switchyard.ErrorCode(err) == switchyard.ENOTFOUND:
		cur, item.Action = nil, ActionCreate
	case err != nil:
		return err
	default:
		was := AlertChannel{Name: cur.Name, Kind: cur.Kind, Enabled: cur.Enabled, URL: cur.URL, SMTPHost: cur.SMTPHost, SMTPPort: cur.SMTPPort,
			Username: cur.Username, From: cur.From, To: cur.To, InsecureSMTP: cur.InsecureSMTP}
		curSecrets := map[string]string{}
		for k, v := range cur.Secrets {
			if was.Secrets == nil {
				was.Secrets = map[string]SecretRef{}
			}
			was.Secrets[k] = SecretRef{Set: v.IsSet()}
			if v.Reveal() != "" {
				curSecrets[k] = v.Reveal()
			}
		}
		item.Changes = diff(was, c)
		if sealed && !maps.Equal(curSecrets, secrets) {
			item.Changes = append(item.Changes, "secrets")
		}
		item.Action, item.Conflict = im.decide(item.Changes)
	}
	var keep map[string]switchyard.Secret
	if cur != nil && item.Action == ActionUpdate {
		keep = cur.Secrets
	}
	in := alertChannelIn(c, secrets, keep)
	if item.Action == ActionRename {
		name, err := freeName(c.Name, func(n string) error { _, err := channelByName(ctx, im.tx, n); return err })
		if err != nil {
			return err
		}
		item.RenamedTo, in.Name = name, name
	}
	if item.Action == ActionCreate || item.Action == ActionRename || item.Action == ActionUpdate {
		for k, ref := range c.Secrets {
			if ref.Set && !in.Secrets[k].IsSet() {
				in.Enabled = false
				item.Note = "imported without its secrets: it stays disabled until they are set"
			}
		}
		if err := in.Validate(); err != nil {
			item.Action, item.Note = ActionSkip, "cannot be created without its secrets: import with the passphrase, or create it by hand"
		}
	}
	im.plan.add(item)
	target := ""
	if cur != nil {
		target = cur.ID
	}
	if !im.opts.DryRun {
		switch item.Action {
		case ActionCreate, ActionRename:
			if err := im.at(path, im.tx.CreateAlertChannel(ctx, in)); err != nil {
				return err
			}
			target = in.ID
		case ActionUpdate:
			in.ID, in.Version = cur.ID, cur.Version
			if err := im.at(path, im.tx.UpdateAlertChannel(ctx, in)); err != nil {
				return err
			}
		}
	} else if cur == nil && item.Action != ActionSkip {
		target = "new:" + c.Name
	}
	if target != "" {
		im.channels[c.Name] = target
	}
	return nil
}

// alertRule plans and applies one rule; the built-in rule is matched by
// being built in, whatever its name.
func (im *importer) alertRule(ctx context.Context, path string, r AlertRule) error {
	item := PlanItem{Kind: "alert_rule", Key: r.Name, Path: path}
	rules, err := all(func(c string) (switchyard.Page[*switchyard.AlertRule], error) {
		return im.tx.ListAlertRules(ctx, switchyard.ListOptions{Limit: 200, Cursor: c})
	})
	if err != nil {
		return err
	}
	var cur *switchyard.AlertRule
	for _, x := range rules {
		if r.Builtin && x.Builtin || !r.Builtin && !x.Builtin && x.Name == r.Name {
			cur = x
		}
	}
	providerID := ""
	if r.Provider != "" {
		providerID = im.providers[r.Provider]
		if providerID == "" || strings.HasPrefix(providerID, "new:") && !im.opts.DryRun {
			p, err := im.tx.GetProviderBySlug(ctx, r.Provider)
			switch {
			case err == nil:
				providerID = p.ID
			case switchyard.ErrorCode(err) == switchyard.ENOTFOUND && im.opts.DryRun:
				providerID = "new:" + r.Provider
			default:
				return im.at(path+".provider", err)
			}
		}
	}
	var channelIDs []string
	for _, name := range r.Channels {
		id := im.channels[name]
		if id == "" {
			c, err := channelByName(ctx, im.tx, name)
			if err != nil {
				item.Note = "channel " + name + " was not imported; the rule leaves it out"
				continue
			}
			id = c.ID
		}
		channelIDs = append(channelIDs, id)
	}
	in := ruleIn(r, providerID, channelIDs)
	if cur == nil {
		item.Action = ActionCreate
		in.Builtin = false
	} else {
		was := AlertRule{Name: cur.Name, Kind: cur.Kind, Enabled: cur.Enabled, Builtin: cur.Builtin, ForMinutes: cur.ForMinutes,
			Threshold: cur.Threshold, WindowMinutes: cur.WindowMinutes, CooldownMinutes: cur.CooldownMinutes}
		mine := r
		if !slices.Equal(cur.ChannelIDs, channelIDs) {
			item.Changes = append(item.Changes, "channels")
		}
		if cur.ProviderID != providerID {
			item.Changes = append(item.Changes, "provider")
		}
		mine.Channels, mine.Provider = nil, ""
		item.Changes = append(diff(was, mine), item.Changes...)
		item.Action, item.Conflict = im.decide(item.Changes)
		if cur.Builtin && item.Action == ActionRename {
			item.Action, item.Note = ActionSkip, "the built-in rule cannot be renamed; use on_conflict=overwrite to change it"
		}
	}
	if item.Action == ActionRename {
		name, err := freeName(r.Name, func(n string) error {
			for _, x := range rules {
				if x.Name == n {
					return nil
				}
			}
			return switchyard.Errorf(switchyard.ENOTFOUND, "free")
		})
		if err != nil {
			return err
		}
		item.RenamedTo, in.Name = name, name
	}
	im.plan.add(item)
	if im.opts.DryRun {
		return nil
	}
	switch item.Action {
	case ActionCreate, ActionRename:
		return im.at(path, im.tx.CreateAlertRule(ctx, in))
	case ActionUpdate:
		in.ID, in.Version = cur.ID, cur.Version
		return im.at(path, im.tx.UpdateAlertRule(ctx, in))
	}
	return nil
}

// freeName finds "<name> (2)", "<name> (3)", … that get reports as not
// found.
func freeName(name string, get func(string) error) (string, error) {
	for i := 2; i < 1000; i++ {
		n := name + " (" + strconv.Itoa(i) + ")"
		err := get(n)
		if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
			return n, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", switchyard.Errorf(switchyard.ECONFLICT, "no free name for %q", name)
}
