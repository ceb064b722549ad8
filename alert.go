package switchyard

import (
	"context"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// Alert channel kinds.
const (
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
	ChannelEmail   = "email"
)

// Alert rule kinds.
const (
	// RuleProviderDown fires while a provider's status is down.
	RuleProviderDown = "provider_down"
	// RuleProviderDegraded fires when a provider has been degraded (or
	// down) for ForMinutes.
	RuleProviderDegraded = "provider_degraded"
	// RuleErrorRate fires when a provider's gateway error rate over the
	// last WindowMinutes is at least Threshold (a fraction, 0.1 = 10 %),
	// over at least RuleMinRequests requests.
	RuleErrorRate = "error_rate"
	// RuleLatencyP95 fires when a provider's p95 gateway latency over the
	// last WindowMinutes is at least Threshold milliseconds.
	RuleLatencyP95 = "latency_p95"
	// RuleConnectionBudget fires when a connection with a monthly budget
	// has spent at least Threshold of it (a fraction, 0.8 = 80 %).
	RuleConnectionBudget = "connection_budget"
	// RuleMonthlySpend fires when this month's spend over every
	// connection is at least Threshold US dollars.
	RuleMonthlySpend = "monthly_spend"
)

// RuleMinRequests is how many requests an error-rate window needs before
// its rate counts: two failures out of three say little.
const RuleMinRequests = 10

// DefaultRuleWindow is the window of error-rate and latency rules whose
// WindowMinutes is 0.
const DefaultRuleWindow = 15

// MonthlySubject is the subject of a monthly_spend alert.
const MonthlySubject = "all"

// Alert states.
const (
	AlertOpen     = "open"
	AlertResolved = "resolved"
)

// Alert delivery events.
const (
	EventFiring   = "firing"
	EventResolved = "resolved"
	EventTest     = "test"
)

// BuiltinAlertRuleID is the id of the rule present out of the box: provider
// down and recovered, to every channel. It can be edited, not deleted.
const BuiltinAlertRuleID = "00000000-0000-7000-8000-00000000a1e7"

// Secret fields of alert channels, by kind.
const (
	ChannelSecretHMAC     = "hmac_secret" // webhook: the HMAC-SHA256 key (optional)
	ChannelSecretURL      = "url"         // slack: the incoming webhook URL, itself a credential
	ChannelSecretPassword = "password"    // email: the SMTP password (optional)
)

// AlertChannel is where alerts are sent: a generic webhook, a Slack-style
// incoming webhook, or email over SMTP. Its secrets are stored encrypted
// and shown only as {set, hint}.
type AlertChannel struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Enabled bool   `json:"enabled"`
	// URL is a webhook channel's endpoint (a Slack channel's URL is a
	// secret: Secrets["url"]).
	URL string `json:"url,omitempty"`
	// SMTP settings of an email channel.
	SMTPHost string   `json:"smtp_host,omitempty"`
	SMTPPort int      `json:"smtp_port,omitempty"`
	Username string   `json:"username,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
	// StartTLS is required unless InsecureSMTP is set (a relay on a private
	// network that cannot speak TLS).
	InsecureSMTP bool              `json:"insecure_smtp,omitempty"`
	Secrets      map[string]Secret `json:"secrets,omitempty"`
	Version      int64             `json:"version"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
}

// Validate reports every bad field at once.
func (c *AlertChannel) Validate() error {
	var pr Problems
	validateName(&pr, "name", c.Name)
	for name := range c.Secrets {
		if !channelSecretAllowed(c.Kind, name) {
			pr.Add("secrets."+name, "unknown", "is not a secret of a %s channel", c.Kind)
		}
	}
	switch c.Kind {
	case ChannelWebhook:
		if err := ValidateBaseURL(c.URL); err != nil {
			pr.Add("url", "invalid", "%s", ErrorMessage(err))
		}
	case ChannelSlack:
		if c.URL != "" {
			pr.Add("url", "unexpected", "a Slack channel's URL is a secret: send it as secrets.url")
		}
		if !c.Secrets[ChannelSecretURL].IsSet() {
			pr.Add("secrets.url", "required", "is required: the incoming webhook URL Slack gave you")
		} else if v := c.Secrets[ChannelSecretURL].Reveal(); v != "" {
			if err := ValidateBaseURL(v); err != nil {
				pr.Add("secrets.url", "invalid", "%s", ErrorMessage(err))
			}
		}
	case ChannelEmail:
		if strings.TrimSpace(c.SMTPHost) == "" || strings.ContainsAny(c.SMTPHost, "/:@ ") {
			pr.Add("smtp_host", "invalid", "is required: the SMTP server's host name, such as \"smtp.example.com\"")
		}
		if c.SMTPPort < 0 || c.SMTPPort > 65535 {
			pr.Add("smtp_port", "out_of_range", "must be a port number (587 for STARTTLS), or 0 for 587")
		}
		if _, err := mail.ParseAddress(c.From); err != nil {
			pr.Add("from", "invalid", "must be an email address, such as \"switchyard@example.com\"")
		}
		if len(c.To) == 0 {
			pr.Add("to", "required", "name at least one recipient")
		}
		for i, to := range c.To {
			if _, err := mail.ParseAddress(to); err != nil {
				pr.Add("to["+strconv.Itoa(i)+"]", "invalid", "must be an email address")
			}
		}
		if c.Secrets[ChannelSecretPassword].IsSet() && c.Username == "" {
			pr.Add("username", "required", "is required with a password")
		}
	default:
		pr.Add("kind", "invalid_enum", "must be webhook, slack or email")
	}
	return pr.Err("alert channel")
}

func channelSecretAllowed(kind, name string) bool {
	switch kind {
	case ChannelWebhook:
		return name == ChannelSecretHMAC
	case ChannelSlack:
		return name == ChannelSecretURL
	case ChannelEmail:
		return name == ChannelSecretPassword
	}
	return false
}

// AlertRule says when to alert and to which channels.
type AlertRule struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Enabled bool   `json:"enabled"`
	// Builtin marks the rule present out of the box; it cannot be deleted.
	Builtin bool `json:"builtin"`
	// ProviderID limits the rule to one provider; empty means every one.
	ProviderID string `json:"provider_id,omitempty"`
	// ForMinutes is how long the condition must hold before the alert
	// fires (provider_degraded; 0 elsewhere means at once).
	ForMinutes int `json:"for_minutes,omitempty"`
	// Threshold is the rule's limit: a fraction for error_rate and
	// connection_budget, milliseconds for latency_p95, US dollars for
	// monthly_spend; unused by the status rules.
	Threshold float64 `json:"threshold,omitempty"`
	// WindowMinutes is the window of error_rate and latency_p95 (0:
	// DefaultRuleWindow).
	WindowMinutes int `json:"window_minutes,omitempty"`
	// CooldownMinutes is how long after an alert resolves the same rule and
	// subject stay quiet (flapping is not re-announced every time).
	CooldownMinutes int `json:"cooldown_minutes"`
	// ChannelIDs are the channels to send to; empty means every enabled
	// channel.
	ChannelIDs []string  `json:"channel_ids"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate reports every bad field at once.
func (r *AlertRule) Validate() error {
	var pr Problems
	validateName(&pr, "name", r.Name)
	switch r.Kind {
	case RuleProviderDown, RuleProviderDegraded:
	case RuleErrorRate, RuleConnectionBudget:
		if r.Threshold <= 0 || r.Threshold > 1 && r.Kind == RuleErrorRate || r.Threshold > 10 {
			pr.Add("threshold", "out_of_range", "must be a fraction above 0 (0.1 for 10 %%)%s", map[bool]string{true: ", at most 1", false: ", at most 10"}[r.Kind == RuleErrorRate])
		}
	case RuleLatencyP95:
		if r.Threshold <= 0 || r.Threshold > 3_600_000 {
			pr.Add("threshold", "out_of_range", "must be a latency in milliseconds above 0, such as 5000")
		}
	case RuleMonthlySpend:
		if r.Threshold <= 0 {
			pr.Add("threshold", "out_of_range", "must be an amount in US dollars above 0, such as 1000")
		}
	default:
		pr.Add("kind", "invalid_enum", "must be provider_down, provider_degraded, error_rate, latency_p95, connection_budget or monthly_spend")
	}
	if r.WindowMinutes < 0 || r.WindowMinutes > 24*60 {
		pr.Add("window_minutes", "out_of_range", "must be between 0 (for 15) and 1440 (a day)")
	}
	if r.ForMinutes < 0 || r.ForMinutes > 7*24*60 {
		pr.Add("for_minutes", "out_of_range", "must be between 0 and 10080 (a week)")
	}
	if r.CooldownMinutes < 0 || r.CooldownMinutes > 7*24*60 {
		pr.Add("cooldown_minutes", "out_of_range", "must be between 0 and 10080 (a week)")
	}
	for i, id := range r.ChannelIDs {
		if strings.TrimSpace(id) == "" {
			pr.Add("channel_ids["+strconv.Itoa(i)+"]", "required", "must be a channel id")
		}
	}
	return pr.Err("alert rule")
}

// Alert is one occurrence of a rule's condition for one subject (a
// provider): open while the condition holds, then resolved. At most one
// alert per rule and subject is open at a time.
type Alert struct {
	ID         string     `json:"id"`
	RuleID     string     `json:"rule_id"`
	Subject    string     `json:"subject"`
	State      string     `json:"state"`
	Summary    string     `json:"summary"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Deliveries are the attempts to send it, oldest first (filled by
	// ListAlerts).
	Deliveries []*AlertDelivery `json:"deliveries,omitempty"`
}

// AlertDelivery is one attempt to send an alert (or a test message) to a
// channel.
type AlertDelivery struct {
	ID        string    `json:"id"`
	AlertID   string    `json:"alert_id,omitempty"`
	ChannelID string    `json:"channel_id"`
	Event     string    `json:"event"`
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at"`
	OK        bool      `json:"ok"`
	// Status is the HTTP status (webhooks) or SMTP reply code, when one came.
	Status int `json:"status,omitempty"`
	// Error says why the attempt failed, without any secret.
	Error string `json:"error,omitempty"`
}

// AlertFilter narrows ListAlerts.
type AlertFilter struct {
	ListOptions
	State   string
	RuleID  string
	Subject string
}

// AlertStore keeps alert channels, rules, alerts and their deliveries.
type AlertStore interface {
	CreateAlertChannel(ctx context.Context, c *AlertChannel) error
	GetAlertChannel(ctx context.Context, id string) (*AlertChannel, error)
	ListAlertChannels(ctx context.Context, opts ListOptions) (Page[*AlertChannel], error)
	// UpdateAlertChannel saves c if c.Version is current (ESTALE if not);
	// a secret set without plaintext keeps its stored value.
	UpdateAlertChannel(ctx context.Context, c *AlertChannel) error
	DeleteAlertChannel(ctx context.Context, id string, version int64) error

	CreateAlertRule(ctx context.Context, r *AlertRule) error
	GetAlertRule(ctx context.Context, id string) (*AlertRule, error)
	ListAlertRules(ctx context.Context, opts ListOptions) (Page[*AlertRule], error)
	UpdateAlertRule(ctx context.Context, r *AlertRule) error
	// DeleteAlertRule returns ECONFLICT for the built-in rule.
	DeleteAlertRule(ctx context.Context, id string, version int64) error

	// OpenAlert stores a new open alert; ECONFLICT when one is already
	// open for the same rule and subject.
	OpenAlert(ctx context.Context, a *Alert) error
	// ResolveAlert marks an open alert resolved; ENOTFOUND when it is not
	// open.
	ResolveAlert(ctx context.Context, id string, at time.Time) error
	// ListAlerts lists alerts newest first, each with its deliveries.
	ListAlerts(ctx context.Context, f AlertFilter) (Page[*Alert], error)
	AddAlertDelivery(ctx context.Context, d *AlertDelivery) error
	// PruneAlerts deletes alerts resolved before t (with their deliveries)
	// and test deliveries made before t, and returns how many rows went.
	PruneAlerts(ctx context.Context, before time.Time) (int64, error)
}
