package httpapi

import (
	"context"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

func alertChannelOut(c *switchyard.AlertChannel) apigen.AlertChannel {
	out := apigen.AlertChannel{Id: c.ID, Name: c.Name, Kind: apigen.AlertChannelKind(c.Kind), Enabled: c.Enabled,
		Secrets: secretViews(c.Secrets), Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.URL != "" {
		out.Url = ptr(c.URL)
	}
	if c.Kind == switchyard.ChannelEmail {
		out.SmtpHost, out.SmtpPort, out.From, out.To, out.InsecureSmtp = ptr(c.SMTPHost), ptr(c.SMTPPort), ptr(c.From), ptr(orEmpty(c.To)), ptr(c.InsecureSMTP)
		if c.Username != "" {
			out.Username = ptr(c.Username)
		}
	}
	return out
}

// applySecrets applies a secret input: a value replaces, null clears, an
// absent field is kept.
func applySecrets(dst map[string]switchyard.Secret, in *apigen.SecretInput) map[string]switchyard.Secret {
	if dst == nil {
		dst = map[string]switchyard.Secret{}
	}
	if in == nil {
		return dst
	}
	for k, v := range *in {
		if v == nil {
			delete(dst, k)
			continue
		}
		dst[k] = switchyard.NewSecret(*v)
	}
	return dst
}

func alertChannelIn(in *apigen.AlertChannelCreate) *switchyard.AlertChannel {
	c := &switchyard.AlertChannel{Name: in.Name, Kind: string(in.Kind), Enabled: in.Enabled == nil || *in.Enabled,
		URL: deref(in.Url), SMTPHost: deref(in.SmtpHost), SMTPPort: deref(in.SmtpPort), Username: deref(in.Username),
		From: deref(in.From), InsecureSMTP: deref(in.InsecureSmtp), Secrets: applySecrets(nil, in.Secrets)}
	if in.To != nil {
		c.To = append([]string{}, *in.To...)
	}
	return c
}

func applyAlertChannelPatch(c *switchyard.AlertChannel, in *apigen.AlertChannelPatch) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.Name, in.Name)
	set(&c.URL, in.Url)
	set(&c.SMTPHost, in.SmtpHost)
	set(&c.Username, in.Username)
	set(&c.From, in.From)
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if in.SmtpPort != nil {
		c.SMTPPort = *in.SmtpPort
	}
	if in.InsecureSmtp != nil {
		c.InsecureSMTP = *in.InsecureSmtp
	}
	if in.To != nil {
		c.To = append([]string{}, *in.To...)
	}
	c.Secrets = applySecrets(c.Secrets, in.Secrets)
}

func alertRuleOut(r *switchyard.AlertRule) apigen.AlertRule {
	out := apigen.AlertRule{Id: r.ID, Name: r.Name, Kind: apigen.AlertRuleKind(r.Kind), Enabled: r.Enabled, Builtin: r.Builtin,
		CooldownMinutes: r.CooldownMinutes, ChannelIds: orEmpty(r.ChannelIDs), Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.ProviderID != "" {
		out.ProviderId = ptr(r.ProviderID)
	}
	if r.ForMinutes != 0 {
		out.ForMinutes = ptr(r.ForMinutes)
	}
	if r.Threshold != 0 {
		out.Threshold = ptr(r.Threshold)
	}
	if r.WindowMinutes != 0 {
		out.WindowMinutes = ptr(r.WindowMinutes)
	}
	return out
}

func deliveryOut(d *switchyard.AlertDelivery) apigen.AlertDelivery {
	out := apigen.AlertDelivery{Id: d.ID, ChannelId: d.ChannelID, Event: apigen.AlertDeliveryEvent(d.Event), Attempt: d.Attempt, At: d.At, Ok: d.OK}
	if d.AlertID != "" {
		out.AlertId = ptr(d.AlertID)
	}
	if d.Status != 0 {
		out.Status = ptr(d.Status)
	}
	if d.Error != "" {
		out.Error = ptr(d.Error)
	}
	return out
}

// ListAlertChannels lists the alert channels.
func (h *handlers) ListAlertChannels(ctx context.Context, req apigen.ListAlertChannelsRequestObject) (apigen.ListAlertChannelsResponseObject, error) {
	page, err := h.ctl.ListAlertChannels(ctx, actorFrom(ctx), listOptions(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := apigen.ListAlertChannels200JSONResponse{Items: make([]apigen.AlertChannel, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, c := range page.Items {
		out.Items[i] = alertChannelOut(c)
	}
	return out, nil
}

// CreateAlertChannel creates an alert channel.
func (h *handlers) CreateAlertChannel(ctx context.Context, req apigen.CreateAlertChannelRequestObject) (apigen.CreateAlertChannelResponseObject, error) {
	c := alertChannelIn(req.Body)
	if err := h.ctl.CreateAlertChannel(ctx, actorFrom(ctx), c); err != nil {
		return nil, err
	}
	return apigen.CreateAlertChannel201JSONResponse{Body: alertChannelOut(c),
		Headers: apigen.CreateAlertChannel201ResponseHeaders{ETag: etag(c.Version), Location: location("alerts/channels/" + c.ID)}}, nil
}

// GetAlertChannel returns an alert channel.
func (h *handlers) GetAlertChannel(ctx context.Context, req apigen.GetAlertChannelRequestObject) (apigen.GetAlertChannelResponseObject, error) {
	c, err := h.ctl.GetAlertChannel(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetAlertChannel200JSONResponse{Body: alertChannelOut(c), Headers: apigen.GetAlertChannel200ResponseHeaders{ETag: etag(c.Version)}}, nil
}

// UpdateAlertChannel applies a merge patch to an alert channel.
func (h *handlers) UpdateAlertChannel(ctx context.Context, req apigen.UpdateAlertChannelRequestObject) (apigen.UpdateAlertChannelResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	c, err := h.ctl.UpdateAlertChannel(ctx, actorFrom(ctx), req.Id, version, func(c *switchyard.AlertChannel) error {
		applyAlertChannelPatch(c, req.Body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return apigen.UpdateAlertChannel200JSONResponse{Body: alertChannelOut(c), Headers: apigen.UpdateAlertChannel200ResponseHeaders{ETag: etag(c.Version)}}, nil
}

// DeleteAlertChannel deletes an alert channel.
func (h *handlers) DeleteAlertChannel(ctx context.Context, req apigen.DeleteAlertChannelRequestObject) (apigen.DeleteAlertChannelResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.DeleteAlertChannel(ctx, actorFrom(ctx), req.Id, version); err != nil {
		return nil, err
	}
	return apigen.DeleteAlertChannel204Response{}, nil
}

// TestAlertChannel sends a test message.
func (h *handlers) TestAlertChannel(ctx context.Context, req apigen.TestAlertChannelRequestObject) (apigen.TestAlertChannelResponseObject, error) {
	d, err := h.ctl.TestAlertChannel(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.TestAlertChannel200JSONResponse(deliveryOut(d)), nil
}

// ListAlertRules lists the alert rules.
func (h *handlers) ListAlertRules(ctx context.Context, req apigen.ListAlertRulesRequestObject) (apigen.ListAlertRulesResponseObject, error) {
	page, err := h.ctl.ListAlertRules(ctx, actorFrom(ctx), listOptions(req.Params.Limit, req.Params.Cursor))
	if err != nil {
		return nil, err
	}
	out := apigen.ListAlertRules200JSONResponse{Items: make([]apigen.AlertRule, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, r := range page.Items {
		out.Items[i] = alertRuleOut(r)
	}
	return out, nil
}

// CreateAlertRule creates an alert rule.
func (h *handlers) CreateAlertRule(ctx context.Context, req apigen.CreateAlertRuleRequestObject) (apigen.CreateAlertRuleResponseObject, error) {
	in := req.Body
	r := &switchyard.AlertRule{Name: in.Name, Kind: string(in.Kind), Enabled: in.Enabled == nil || *in.Enabled, ProviderID: deref(in.ProviderId),
		ForMinutes: deref(in.ForMinutes), Threshold: deref(in.Threshold), WindowMinutes: deref(in.WindowMinutes),
		CooldownMinutes: deref(in.CooldownMinutes), ChannelIDs: []string{}}
	if in.ChannelIds != nil {
		r.ChannelIDs = append(r.ChannelIDs, *in.ChannelIds...)
	}
	if err := h.ctl.CreateAlertRule(ctx, actorFrom(ctx), r); err != nil {
		return nil, err
	}
	return apigen.CreateAlertRule201JSONResponse{Body: alertRuleOut(r),
		Headers: apigen.CreateAlertRule201ResponseHeaders{ETag: etag(r.Version), Location: location("alerts/rules/" + r.ID)}}, nil
}

// GetAlertRule returns an alert rule.
func (h *handlers) GetAlertRule(ctx context.Context, req apigen.GetAlertRuleRequestObject) (apigen.GetAlertRuleResponseObject, error) {
	r, err := h.ctl.GetAlertRule(ctx, actorFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return apigen.GetAlertRule200JSONResponse{Body: alertRuleOut(r), Headers: apigen.GetAlertRule200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// UpdateAlertRule applies a merge patch to an alert rule.
func (h *handlers) UpdateAlertRule(ctx context.Context, req apigen.UpdateAlertRuleRequestObject) (apigen.UpdateAlertRuleResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	in := req.Body
	r, err := h.ctl.UpdateAlertRule(ctx, actorFrom(ctx), req.Id, version, func(r *switchyard.AlertRule) error {
		if in.Name != nil {
			r.Name = *in.Name
		}
		if in.Kind != nil {
			r.Kind = string(*in.Kind)
		}
		if in.Enabled != nil {
			r.Enabled = *in.Enabled
		}
		if in.ProviderId != nil {
			r.ProviderID = *in.ProviderId
		}
		if in.ForMinutes != nil {
			r.ForMinutes = *in.ForMinutes
		}
		if in.CooldownMinutes != nil {
			r.CooldownMinutes = *in.CooldownMinutes
		}
		if in.Threshold != nil {
			r.Threshold = *in.Threshold
		}
		if in.WindowMinutes != nil {
			r.WindowMinutes = *in.WindowMinutes
		}
		if in.ChannelIds != nil {
			r.ChannelIDs = append([]string{}, *in.ChannelIds...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return apigen.UpdateAlertRule200JSONResponse{Body: alertRuleOut(r), Headers: apigen.UpdateAlertRule200ResponseHeaders{ETag: etag(r.Version)}}, nil
}

// DeleteAlertRule deletes an alert rule.
func (h *handlers) DeleteAlertRule(ctx context.Context, req apigen.DeleteAlertRuleRequestObject) (apigen.DeleteAlertRuleResponseObject, error) {
	version, err := ifMatch(req.Params.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := h.ctl.DeleteAlertRule(ctx, actorFrom(ctx), req.Id, version); err != nil {
		return nil, err
	}
	return apigen.DeleteAlertRule204Response{}, nil
}

// ListAlerts lists alerts with their deliveries.
func (h *handlers) ListAlerts(ctx context.Context, req apigen.ListAlertsRequestObject) (apigen.ListAlertsResponseObject, error) {
	p := req.Params
	f := switchyard.AlertFilter{ListOptions: listOptions(p.Limit, p.Cursor), RuleID: deref(p.RuleId)}
	if p.State != nil {
		f.State = string(*p.State)
	}
	page, err := h.ctl.ListAlerts(ctx, actorFrom(ctx), f)
	if err != nil {
		return nil, err
	}
	out := apigen.ListAlerts200JSONResponse{Items: make([]apigen.Alert, len(page.Items)), NextCursor: nextCursor(page.NextCursor)}
	for i, a := range page.Items {
		item := apigen.Alert{Id: a.ID, RuleId: a.RuleID, Subject: a.Subject, State: apigen.AlertState(a.State), Summary: a.Summary,
			OpenedAt: a.OpenedAt, ResolvedAt: a.ResolvedAt, Deliveries: make([]apigen.AlertDelivery, len(a.Deliveries))}
		for j, d := range a.Deliveries {
			item.Deliveries[j] = deliveryOut(d)
		}
		out.Items[i] = item
	}
	return out, nil
}
