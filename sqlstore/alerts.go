package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard"
)

const alertChannelCols = `id, name, kind, enabled, config, secrets, version, created_at, updated_at`

// channelConfig is the stored form of a channel's kind-specific settings.
type channelConfig struct {
	URL          string   `json:"url,omitempty"`
	SMTPHost     string   `json:"smtp_host,omitempty"`
	SMTPPort     int      `json:"smtp_port,omitempty"`
	Username     string   `json:"username,omitempty"`
	From         string   `json:"from,omitempty"`
	To           []string `json:"to,omitempty"`
	InsecureSMTP bool     `json:"insecure_smtp,omitempty"`
}

type alertChannelRow struct {
	c       switchyard.AlertChannel
	secrets map[string]sealedField
}

func scanAlertChannel(sc interface{ Scan(...any) error }) (*alertChannelRow, error) {
	var r alertChannelRow
	var cfg channelConfig
	c := &r.c
	err := sc.Scan(&c.ID, &c.Name, &c.Kind, &c.Enabled, jsonCol{&cfg}, jsonCol{&r.secrets}, &c.Version, dbTime{&c.CreatedAt}, dbTime{&c.UpdatedAt})
	c.URL, c.SMTPHost, c.SMTPPort, c.Username, c.From, c.To, c.InsecureSMTP = cfg.URL, cfg.SMTPHost, cfg.SMTPPort, cfg.Username, cfg.From, cfg.To, cfg.InsecureSMTP
	return &r, err
}

func (s *store) finishAlertChannel(r *alertChannelRow) *switchyard.AlertChannel {
	c := r.c
	c.Secrets = s.open("alert_channels", c.ID, "", r.secrets)
	return &c
}

func (s *store) alertChannelArgs(c *switchyard.AlertChannel, old map[string]sealedField) ([]any, error) {
	cfg, err := jsonArg(channelConfig{URL: c.URL, SMTPHost: c.SMTPHost, SMTPPort: c.SMTPPort, Username: c.Username,
		From: c.From, To: c.To, InsecureSMTP: c.InsecureSMTP}, "{}")
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal("alert_channels", c.ID, "", c.Secrets, old)
	if err != nil {
		return nil, err
	}
	secrets, err := jsonArg(sealed, "{}")
	if err != nil {
		return nil, err
	}
	return []any{c.Name, c.Kind, c.Enabled, cfg, secrets}, nil
}

// CreateAlertChannel stores a new channel, its secrets sealed.
func (s *store) CreateAlertChannel(ctx context.Context, c *switchyard.AlertChannel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = newID()
	}
	args, err := s.alertChannelArgs(c, nil)
	if err != nil {
		return err
	}
	now := s.nowUTC()
	if _, err := s.exec(ctx, `INSERT INTO alert_channels (`+alertChannelCols+`) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		append(append([]any{c.ID}, args...), s.ts(now), s.ts(now))...); err != nil {
		return nameTaken(err, "alert channel", c.Name)
	}
	c.Version, c.CreatedAt, c.UpdatedAt = 1, now, now
	return nil
}

// nameTaken names the field of a unique-name conflict.
func nameTaken(err error, what, name string) error {
	if switchyard.ErrorCode(err) == switchyard.ECONFLICT {
		return &switchyard.Error{Code: switchyard.ECONFLICT, Message: fmt.Sprintf("an %s named %q exists; choose another name", what, name),
			Fields: []switchyard.FieldError{{Field: "name", Code: "taken", Message: "choose another name"}}}
	}
	return err
}

// GetAlertChannel returns one channel.
func (s *store) GetAlertChannel(ctx context.Context, id string) (*switchyard.AlertChannel, error) {
	r, err := scanAlertChannel(s.queryRow(ctx, `SELECT `+alertChannelCols+` FROM alert_channels WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, notFound("alert channel", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get alert channel: %w", s.db.dialect.classify(err))
	}
	return s.finishAlertChannel(r), nil
}

// ListAlertChannels lists channels in creation order.
func (s *store) ListAlertChannels(ctx context.Context, opts switchyard.ListOptions) (switchyard.Page[*switchyard.AlertChannel], error) {
	var w where
	tail, limit, err := paginate(&w, opts, false)
	if err != nil {
		return switchyard.Page[*switchyard.AlertChannel]{}, err
	}
	rows, err := queryAll(ctx, s, `SELECT `+alertChannelCols+` FROM alert_channels`+w.String()+tail, w.args, scanAlertChannel)
	if err != nil {
		return switchyard.Page[*switchyard.AlertChannel]{}, fmt.Errorf("list alert channels: %w", err)
	}
	page := finishPage(rows, limit, func(r *alertChannelRow) string { return r.c.ID })
	out := switchyard.Page[*switchyard.AlertChannel]{NextCursor: page.NextCursor}
	for _, r := range page.Items {
		out.Items = append(out.Items, s.finishAlertChannel(r))
	}
	return out, nil
}

// UpdateAlertChannel saves c if its version is current.
func (s *store) UpdateAlertChannel(ctx context.Context, c *switchyard.AlertChannel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(t *store) error {
		var old map[string]sealedField
		err := t.queryRow(ctx, `SELECT secrets FROM alert_channels WHERE id = ?`, c.ID).Scan(jsonCol{&old})
		if isNoRows(err) {
			return notFound("alert channel", c.ID)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		args, err := t.alertChannelArgs(c, old)
		if err != nil {
			return err
		}
		now := t.nowUTC()
		res, err := t.exec(ctx, `UPDATE alert_channels SET name = ?, kind = ?, enabled = ?, config = ?, secrets = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, append(args, t.ts(now), c.ID, c.Version)...)
		if err != nil {
			return nameTaken(err, "alert channel", c.Name)
		}
		if err := t.checkVersioned(ctx, res, "alert_channels", "alert channel", c.ID, c.Version); err != nil {
			return err
		}
		c.Version++
		c.UpdatedAt = now
		return nil
	})
}

// DeleteAlertChannel deletes a channel; rules that named it no longer send
// to it.
func (s *store) DeleteAlertChannel(ctx context.Context, id string, version int64) error {
	return s.deleteVersioned(ctx, "alert_channels", "alert channel", id, version)
}

const alertRuleCols = `id, name, kind, enabled, builtin, provider_id, for_minutes, threshold, window_minutes, cooldown_minutes, channel_ids, version, created_at, updated_at`

func scanAlertRule(sc interface{ Scan(...any) error }) (*switchyard.AlertRule, error) {
	var r switchyard.AlertRule
	err := sc.Scan(&r.ID, &r.Name, &r.Kind, &r.Enabled, &r.Builtin, &r.ProviderID, &r.ForMinutes, &r.Threshold, &r.WindowMinutes, &r.CooldownMinutes,
		jsonCol{&r.ChannelIDs}, &r.Version, dbTime{&r.CreatedAt}, dbTime{&r.UpdatedAt})
	if r.ChannelIDs == nil {
		r.ChannelIDs = []string{}
	}
	return &r, err
}

// CreateAlertRule stores a new rule; it is never built in.
func (s *store) CreateAlertRule(ctx context.Context, r *switchyard.AlertRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = newID()
	}
	r.Builtin = false
	ids, err := jsonArg(r.ChannelIDs, "[]")
	if err != nil {
		return err
	}
	now := s.nowUTC()
	if _, err := s.exec(ctx, `INSERT INTO alert_rules (`+alertRuleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
		r.ID, r.Name, r.Kind, r.Enabled, false, r.ProviderID, r.ForMinutes, r.Threshold, r.WindowMinutes, r.CooldownMinutes, ids, s.ts(now), s.ts(now)); err != nil {
		return nameTaken(err, "alert rule", r.Name)
	}
	r.Version, r.CreatedAt, r.UpdatedAt = 1, now, now
	return nil
}

// GetAlertRule returns one rule.
func (s *store) GetAlertRule(ctx context.Context, id string) (*switchyard.AlertRule, error) {
	r, err := scanAlertRule(s.queryRow(ctx, `SELECT `+alertRuleCols+` FROM alert_rules WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, notFound("alert rule", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get alert rule: %w", s.db.dialect.classify(err))
	}
	return r, nil
}

// ListAlertRules lists rules in creation order (the built-in one first).
func (s *store) ListAlertRules(ctx context.Context, opts switchyard.ListOptions) (switchyard.Page[*switchyard.AlertRule], error) {
	var w where
	tail, limit, err := paginate(&w, opts, false)
	if err != nil {
		return switchyard.Page[*switchyard.AlertRule]{}, err
	}
	rows, err := queryAll(ctx, s, `SELECT `+alertRuleCols+` FROM alert_rules`+w.String()+tail, w.args, scanAlertRule)
	if err != nil {
		return switchyard.Page[*switchyard.AlertRule]{}, fmt.Errorf("list alert rules: %w", err)
	}
	return finishPage(rows, limit, func(r *switchyard.AlertRule) string { return r.ID }), nil
}

// UpdateAlertRule saves r if its version is current; whether it is built
// in does not change.
func (s *store) UpdateAlertRule(ctx context.Context, r *switchyard.AlertRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	ids, err := jsonArg(r.ChannelIDs, "[]")
	if err != nil {
		return err
	}
	return s.tx(ctx, func(t *store) error {
		now := t.nowUTC()
		res, err := t.exec(ctx, `UPDATE alert_rules SET name = ?, kind = ?, enabled = ?, provider_id = ?, for_minutes = ?,
			threshold = ?, window_minutes = ?, cooldown_minutes = ?, channel_ids = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			r.Name, r.Kind, r.Enabled, r.ProviderID, r.ForMinutes, r.Threshold, r.WindowMinutes, r.CooldownMinutes, ids, t.ts(now), r.ID, r.Version)
		if err != nil {
			return nameTaken(err, "alert rule", r.Name)
		}
		if err := t.checkVersioned(ctx, res, "alert_rules", "alert rule", r.ID, r.Version); err != nil {
			return err
		}
		r.Version++
		r.UpdatedAt = now
		return t.queryRow(ctx, `SELECT builtin FROM alert_rules WHERE id = ?`, r.ID).Scan(&r.Builtin)
	})
}

// DeleteAlertRule deletes a rule with its alerts; the built-in rule is
// refused (disable it instead).
func (s *store) DeleteAlertRule(ctx context.Context, id string, version int64) error {
	return s.tx(ctx, func(t *store) error {
		var builtin bool
		err := t.queryRow(ctx, `SELECT builtin FROM alert_rules WHERE id = ?`, id).Scan(&builtin)
		if isNoRows(err) {
			return notFound("alert rule", id)
		}
		if err != nil {
			return t.db.dialect.classify(err)
		}
		if builtin {
			return switchyard.Errorf(switchyard.ECONFLICT, "the built-in alert rule cannot be deleted; set enabled to false to silence it")
		}
		return t.deleteVersioned(ctx, "alert_rules", "alert rule", id, version)
	})
}

// OpenAlert stores a new open alert; the unique index on open alerts makes
// a second one for the same rule and subject an ECONFLICT.
func (s *store) OpenAlert(ctx context.Context, a *switchyard.Alert) error {
	if a.ID == "" {
		a.ID = newID()
	}
	if a.OpenedAt.IsZero() {
		a.OpenedAt = s.nowUTC()
	}
	a.OpenedAt = a.OpenedAt.UTC().Truncate(time.Microsecond)
	a.State, a.ResolvedAt = switchyard.AlertOpen, nil
	_, err := s.exec(ctx, `INSERT INTO alerts (id, rule_id, subject, state, summary, opened_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.ID, a.RuleID, a.Subject, a.State, truncate(a.Summary, maxReason), s.ts(a.OpenedAt))
	if err != nil {
		if switchyard.ErrorCode(err) == switchyard.ECONFLICT {
			return switchyard.Errorf(switchyard.ECONFLICT, "an alert of rule %q for %q is already open (or the rule does not exist)", a.RuleID, a.Subject)
		}
		return fmt.Errorf("open alert: %w", err)
	}
	return nil
}

// ResolveAlert marks an open alert resolved.
func (s *store) ResolveAlert(ctx context.Context, id string, at time.Time) error {
	res, err := s.exec(ctx, `UPDATE alerts SET state = ?, resolved_at = ? WHERE id = ? AND state = ?`,
		switchyard.AlertResolved, s.ts(at.UTC().Truncate(time.Microsecond)), id, switchyard.AlertOpen)
	if err != nil {
		return fmt.Errorf("resolve alert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return switchyard.Errorf(switchyard.ENOTFOUND, "no open alert %q", id)
	}
	return nil
}

func scanAlert(sc interface{ Scan(...any) error }) (*switchyard.Alert, error) {
	var a switchyard.Alert
	err := sc.Scan(&a.ID, &a.RuleID, &a.Subject, &a.State, &a.Summary, dbTime{&a.OpenedAt}, nullTime{&a.ResolvedAt})
	return &a, err
}

func scanDelivery(sc interface{ Scan(...any) error }) (*switchyard.AlertDelivery, error) {
	var d switchyard.AlertDelivery
	var alertID *string
	err := sc.Scan(&d.ID, &alertID, &d.ChannelID, &d.Event, &d.Attempt, dbTime{&d.At}, &d.OK, &d.Status, &d.Error)
	if alertID != nil {
		d.AlertID = *alertID
	}
	return &d, err
}

// ListAlerts lists alerts newest first, each with its deliveries.
func (s *store) ListAlerts(ctx context.Context, f switchyard.AlertFilter) (switchyard.Page[*switchyard.Alert], error) {
	var w where
	if f.State != "" {
		w.add("state = ?", f.State)
	}
	if f.RuleID != "" {
		w.add("rule_id = ?", f.RuleID)
	}
	if f.Subject != "" {
		w.add("subject = ?", f.Subject)
	}
	tail, limit, err := paginate(&w, f.ListOptions, true)
	if err != nil {
		return switchyard.Page[*switchyard.Alert]{}, err
	}
	items, err := queryAll(ctx, s, `SELECT id, rule_id, subject, state, summary, opened_at, resolved_at FROM alerts`+w.String()+tail, w.args, scanAlert)
	if err != nil {
		return switchyard.Page[*switchyard.Alert]{}, fmt.Errorf("list alerts: %w", err)
	}
	page := finishPage(items, limit, func(a *switchyard.Alert) string { return a.ID })
	for _, a := range page.Items {
		ds, err := queryAll(ctx, s, `SELECT id, alert_id, channel_id, event, attempt, at, ok, status, error FROM alert_deliveries
			WHERE alert_id = ? ORDER BY id`, []any{a.ID}, scanDelivery)
		if err != nil {
			return switchyard.Page[*switchyard.Alert]{}, fmt.Errorf("list alert deliveries: %w", err)
		}
		a.Deliveries = ds
	}
	return page, nil
}

// AddAlertDelivery records one delivery attempt; a test message has no
// alert.
func (s *store) AddAlertDelivery(ctx context.Context, d *switchyard.AlertDelivery) error {
	if d.ID == "" {
		d.ID = newID()
	}
	if d.At.IsZero() {
		d.At = s.nowUTC()
	}
	d.At = d.At.UTC().Truncate(time.Microsecond)
	var alertID any
	if d.AlertID != "" {
		alertID = d.AlertID
	}
	_, err := s.exec(ctx, `INSERT INTO alert_deliveries (id, alert_id, channel_id, event, attempt, at, ok, status, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, alertID, d.ChannelID, d.Event, d.Attempt, s.ts(d.At), d.OK, d.Status, truncate(d.Error, maxReason))
	if err != nil {
		return fmt.Errorf("add alert delivery: %w", err)
	}
	return nil
}

// PruneAlerts deletes alerts resolved before t with their deliveries, and
// test deliveries made before t.
func (s *store) PruneAlerts(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(t *store) error {
		for _, q := range []string{
			`DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE state = 'resolved' AND resolved_at < ?)`,
			`DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?`,
			`DELETE FROM alert_deliveries WHERE alert_id IS NULL AND at < ?`,
		} {
			res, err := t.exec(ctx, q, t.ts(before))
			if err != nil {
				return fmt.Errorf("prune alerts: %w", err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	return n, err
}
