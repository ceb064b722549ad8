// Package alert tells people when a provider needs attention: rules
// evaluated against the providers' status (which the health monitor keeps,
// with its hysteresis), one open alert per rule and subject, a cooldown
// after each resolution, a "resolved" message when the condition clears,
// and delivery to channels (a signed generic webhook, a Slack-compatible
// incoming webhook, email over SMTP) retried with bounded exponential
// backoff. Every alert and every delivery attempt is stored. Only the
// replica that leads the health checks evaluates and sends, so several
// replicas send one message.
package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
)

// Store is what the engine reads and writes; sqlstore implements it.
type Store interface {
	ListAlertRules(ctx context.Context, opts switchyard.ListOptions) (switchyard.Page[*switchyard.AlertRule], error)
	ListAlertChannels(ctx context.Context, opts switchyard.ListOptions) (switchyard.Page[*switchyard.AlertChannel], error)
	OpenAlert(ctx context.Context, a *switchyard.Alert) error
	ResolveAlert(ctx context.Context, id string, at time.Time) error
	ListAlerts(ctx context.Context, f switchyard.AlertFilter) (switchyard.Page[*switchyard.Alert], error)
	AddAlertDelivery(ctx context.Context, d *switchyard.AlertDelivery) error
	PruneAlerts(ctx context.Context, before time.Time) (int64, error)
	ListProviders(ctx context.Context, f switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error)
	ListStatusChanges(ctx context.Context, providerID string, opts switchyard.ListOptions) (switchyard.Page[*switchyard.StatusChange], error)
	ListConnections(ctx context.Context, f switchyard.ConnectionFilter) (switchyard.Page[*switchyard.Connection], error)
}

// Usage answers usage reports from the rollups (analytics.Reader).
type Usage interface {
	Usage(ctx context.Context, q switchyard.UsageQuery) (*switchyard.UsageReport, error)
}

// Config holds an engine's dependencies and settings.
type Config struct {
	Store Store
	// Usage answers the error-rate, latency and spend rules; nil leaves
	// those rules quiet.
	Usage Usage
	// Policy is the SSRF guard every channel's connection goes through.
	Policy *netguard.Policy
	// Leader reports whether this replica leads (health.Monitor.Leader,
	// so that the replica deciding the status also alerts); nil: always.
	Leader func() bool
	// Every is how often the rules are evaluated (default 10 s).
	Every time.Duration
	// Attempts bounds the tries of one delivery (default 5); Backoff is
	// the wait after the first failure (default 2 s), doubled after each
	// further one up to MaxBackoff (default 1 min).
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Retention is how long resolved alerts and their deliveries are kept
	// (default 90 days); the leader prunes older ones hourly.
	Retention time.Duration
	// SMTP tunes email delivery (tests trust their own certificate).
	SMTP SMTPOptions
	// Name is how messages name the sender (default "Switchyard").
	Name   string
	Logger *slog.Logger
	Now    func() time.Time
}

// Engine evaluates the rules and sends the alerts.
type Engine struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client
	wg   sync.WaitGroup
	// mu serialises evaluations (Run's ticks and explicit calls).
	mu sync.Mutex
	// lastPrune is owned by Run's goroutine.
	lastPrune time.Time
}

// New returns an engine; Run starts it.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leader == nil {
		cfg.Leader = func() bool { return true }
	}
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Name == "" {
		cfg.Name = "Switchyard"
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 90 * 24 * time.Hour
	}
	if cfg.Policy == nil {
		cfg.Policy, _ = netguard.NewPolicy(nil)
	}
	return &Engine{cfg: cfg, log: cfg.Logger, http: cfg.Policy.Client(netguard.ClientOptions{Timeout: cfg.Timeout})}
}

// Run evaluates the rules every Every while this replica leads, until ctx
// ends; deliveries in flight then stop retrying.
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.wg.Wait()
			return
		case <-t.C:
		}
		if !e.cfg.Leader() {
			continue
		}
		if err := e.Evaluate(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("alerts: evaluating the rules failed", "error", err)
		}
		if now := e.cfg.Now(); now.Sub(e.lastPrune) >= time.Hour {
			e.lastPrune = now
			if n, err := e.cfg.Store.PruneAlerts(ctx, now.Add(-e.cfg.Retention)); err != nil && ctx.Err() == nil {
				e.log.Warn("alerts: pruning old alerts failed", "error", err)
			} else if n > 0 {
				e.log.Info("alerts: pruned old alerts and deliveries", "rows", n)
			}
		}
	}
}

// Wait waits for the deliveries in flight (with their retries).
func (e *Engine) Wait() { e.wg.Wait() }

// Evaluate checks every enabled rule once: it opens an alert (and sends
// it) for each subject whose condition now holds and has no open alert,
// unless the rule's cooldown since that subject's last resolution has not
// passed; and it resolves (and announces) each open alert whose condition
// cleared. Deliveries run in the background; Wait waits for them.
func (e *Engine) Evaluate(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now().UTC()
	rules, err := all(ctx, e.cfg.Store.ListAlertRules)
	if err != nil {
		return err
	}
	providers, err := all(ctx, func(ctx context.Context, o switchyard.ListOptions) (switchyard.Page[*switchyard.Provider], error) {
		return e.cfg.Store.ListProviders(ctx, switchyard.ProviderFilter{ListOptions: o})
	})
	if err != nil {
		return err
	}
	channels, err := all(ctx, e.cfg.Store.ListAlertChannels)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := e.evaluateRule(ctx, r, providers, channels, now); err != nil {
			return fmt.Errorf("rule %q: %w", r.Name, err)
		}
	}
	return nil
}

// condition is a subject for which a rule's condition holds.
type condition struct {
	name, summary string
}

func (e *Engine) firing(ctx context.Context, r *switchyard.AlertRule, providers []*switchyard.Provider, now time.Time) (map[string]condition, error) {
	out := map[string]condition{}
	if !r.Enabled {
		return out, nil
	}
	switch r.Kind {
	case switchyard.RuleErrorRate, switchyard.RuleLatencyP95:
		return e.gatewayCondition(ctx, r, providers, now)
	case switchyard.RuleConnectionBudget, switchyard.RuleMonthlySpend:
		return e.spendCondition(ctx, r, now)
	}
	for _, p := range providers {
		if !p.Enabled || (r.ProviderID != "" && r.ProviderID != p.ID) {
			continue
		}
		switch r.Kind {
		case switchyard.RuleProviderDown:
			if p.Status == switchyard.StatusDown {
				out[p.ID] = condition{p.Name, fmt.Sprintf("Provider %s (%s) is down", p.Name, p.Slug)}
			}
		case switchyard.RuleProviderDegraded:
			if p.Status != switchyard.StatusDegraded && p.Status != switchyard.StatusDown {
				continue
			}
			since := now
			changes, err := e.cfg.Store.ListStatusChanges(ctx, p.ID, switchyard.ListOptions{Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(changes.Items) > 0 {
				since = changes.Items[0].At
			}
			if now.Sub(since) >= time.Duration(r.ForMinutes)*time.Minute {
				out[p.ID] = condition{p.Name, fmt.Sprintf("Provider %s (%s) has been %s since %s", p.Name, p.Slug, p.Status, since.Format(time.RFC3339))}
			}
		}
	}
	return out, nil
}

func (e *Engine) evaluateRule(ctx context.Context, r *switchyard.AlertRule, providers []*switchyard.Provider, channels []*switchyard.AlertChannel, now time.Time) error {
	firing, err := e.firing(ctx, r, providers, now)
	if err != nil {
		return err
	}
	open, err := all(ctx, func(ctx context.Context, o switchyard.ListOptions) (switchyard.Page[*switchyard.Alert], error) {
		return e.cfg.Store.ListAlerts(ctx, switchyard.AlertFilter{ListOptions: o, State: switchyard.AlertOpen, RuleID: r.ID})
	})
	if err != nil {
		return err
	}
	targets := targetsOf(r, channels)
	isOpen := map[string]bool{}
	for _, a := range open {
		isOpen[a.Subject] = true
		if _, still := firing[a.Subject]; still {
			continue
		}
		if err := e.cfg.Store.ResolveAlert(ctx, a.ID, now); err != nil {
			if switchyard.ErrorCode(err) == switchyard.ENOTFOUND {
				continue // resolved meanwhile
			}
			return err
		}
		a.State, a.ResolvedAt = switchyard.AlertResolved, &now
		e.log.Info("alert resolved", "rule", r.Name, "subject", a.Subject)
		if r.Enabled {
			e.send(ctx, r, a, switchyard.EventResolved, nameOf(providers, a.Subject), targets)
		}
	}
	for subject, c := range firing {
		if isOpen[subject] {
			continue
		}
		if r.CooldownMinutes > 0 {
			last, err := e.cfg.Store.ListAlerts(ctx, switchyard.AlertFilter{ListOptions: switchyard.ListOptions{Limit: 1}, RuleID: r.ID, Subject: subject})
			if err != nil {
				return err
			}
			if len(last.Items) > 0 && last.Items[0].ResolvedAt != nil &&
				now.Before(last.Items[0].ResolvedAt.Add(time.Duration(r.CooldownMinutes)*time.Minute)) {
				continue // cooling down: the flap is not announced again
			}
		}
		a := &switchyard.Alert{RuleID: r.ID, Subject: subject, Summary: c.summary, OpenedAt: now}
		if err := e.cfg.Store.OpenAlert(ctx, a); err != nil {
			if switchyard.ErrorCode(err) == switchyard.ECONFLICT {
				continue // another evaluation opened it
			}
			return err
		}
		e.log.Warn("alert", "rule", r.Name, "subject", subject, "summary", c.summary)
		e.send(ctx, r, a, switchyard.EventFiring, c.name, targets)
	}
	return nil
}

// targetsOf returns the enabled channels a rule sends to: those it names,
// or every one.
func targetsOf(r *switchyard.AlertRule, channels []*switchyard.AlertChannel) []*switchyard.AlertChannel {
	var out []*switchyard.AlertChannel
	for _, c := range channels {
		if !c.Enabled {
			continue
		}
		if len(r.ChannelIDs) == 0 {
			out = append(out, c)
			continue
		}
		for _, id := range r.ChannelIDs {
			if id == c.ID {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// nameOf names a provider subject; other subjects (connections, the
// month) are named by the alert's summary.
func nameOf(providers []*switchyard.Provider, id string) string {
	for _, p := range providers {
		if p.ID == id {
			return p.Name
		}
	}
	return ""
}

// send delivers an alert event to each channel in the background.
func (e *Engine) send(ctx context.Context, r *switchyard.AlertRule, a *switchyard.Alert, event, subjectName string, targets []*switchyard.AlertChannel) {
	m := Message{Event: event, AlertID: a.ID, RuleID: r.ID, Rule: r.Name, Kind: r.Kind, Subject: a.Subject, SubjectName: subjectName,
		Summary: a.Summary, State: a.State, OpenedAt: a.OpenedAt, ResolvedAt: a.ResolvedAt, At: e.cfg.Now().UTC()}
	if a.ResolvedAt != nil {
		m.Summary = fmt.Sprintf("Resolved after %s: %s", a.ResolvedAt.Sub(a.OpenedAt).Round(time.Second), a.Summary)
	}
	for _, c := range targets {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.deliver(ctx, c, m)
		}()
	}
}

// deliver tries a channel until it accepts the message or the attempts run
// out, waiting Backoff, 2×Backoff, … (at most MaxBackoff) between tries;
// every attempt is stored.
func (e *Engine) deliver(ctx context.Context, c *switchyard.AlertChannel, m Message) {
	wait := e.cfg.Backoff
	for attempt := 1; attempt <= e.cfg.Attempts; attempt++ {
		d := e.attempt(ctx, c, m, attempt)
		if d.OK || !d.retry {
			return
		}
		if attempt == e.cfg.Attempts {
			e.log.Warn("alerts: giving up on a delivery", "channel", c.Name, "event", m.Event, "attempts", attempt, "error", d.Error)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, e.cfg.MaxBackoff)
	}
}

type attemptResult struct {
	*switchyard.AlertDelivery
	retry bool
}

// attempt sends once and stores the attempt.
func (e *Engine) attempt(ctx context.Context, c *switchyard.AlertChannel, m Message, n int) attemptResult {
	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	status, err := e.sendOnce(actx, c, m)
	cancel()
	d := &switchyard.AlertDelivery{AlertID: m.AlertID, ChannelID: c.ID, Event: m.Event, Attempt: n, At: e.cfg.Now().UTC(), OK: err == nil, Status: status}
	retry := false
	if err != nil {
		d.Error = describe(err)
		retry = retryable(status, err)
	}
	if serr := e.cfg.Store.AddAlertDelivery(context.WithoutCancel(ctx), d); serr != nil {
		e.log.Error("alerts: storing a delivery attempt", "error", serr)
	}
	return attemptResult{d, retry}
}

// Test sends a test message to a channel once and returns the stored
// attempt; the error is the delivery's failure, safe to show.
func (e *Engine) Test(ctx context.Context, c *switchyard.AlertChannel) (*switchyard.AlertDelivery, error) {
	now := e.cfg.Now().UTC()
	m := Message{Event: switchyard.EventTest, Rule: "test", Summary: fmt.Sprintf("Test message for channel %s: alerts will arrive like this", c.Name),
		State: "test", OpenedAt: now, At: now}
	r := e.attempt(ctx, c, m, 1)
	return r.AlertDelivery, nil
}

// CheckChannel checks a channel's URL against the SSRF guard before it is
// saved, so an address the policy refuses is named at once rather than at
// the first alert.
func (e *Engine) CheckChannel(ctx context.Context, c *switchyard.AlertChannel) error {
	var field, u string
	switch c.Kind {
	case switchyard.ChannelWebhook:
		field, u = "url", c.URL
	case switchyard.ChannelSlack:
		field, u = "secrets.url", c.Secrets[switchyard.ChannelSecretURL].Reveal()
	case switchyard.ChannelEmail:
		port := c.SMTPPort
		if port == 0 {
			port = 587
		}
		field, u = "smtp_host", "https://"+net.JoinHostPort(c.SMTPHost, strconv.Itoa(port))
	default:
		return nil
	}
	if u == "" {
		return nil
	}
	// Only a refusal is final here: a name that does not resolve now may
	// resolve later, and every connection is checked again when it dials.
	var refused *netguard.Refused
	if err := e.cfg.Policy.CheckURL(ctx, u); err != nil && errors.As(err, &refused) {
		msg := switchyard.ErrorMessage(err)
		return &switchyard.Error{Code: switchyard.EINVALID, Message: "alert channel is invalid: " + field + ": " + msg,
			Fields: []switchyard.FieldError{{Field: field, Code: "refused", Message: msg}}}
	}
	return nil
}

// all reads every page of a list.
func all[T any](ctx context.Context, list func(context.Context, switchyard.ListOptions) (switchyard.Page[T], error)) ([]T, error) {
	var out []T
	opts := switchyard.ListOptions{Limit: switchyard.MaxPageSize}
	for {
		page, err := list(ctx, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		opts.Cursor = page.NextCursor
	}
}

// gatewayCondition finds the providers whose gateway error rate or p95
// latency over the rule's window reached its threshold, from the usage
// rollups.
func (e *Engine) gatewayCondition(ctx context.Context, r *switchyard.AlertRule, providers []*switchyard.Provider, now time.Time) (map[string]condition, error) {
	out := map[string]condition{}
	if e.cfg.Usage == nil {
		return out, nil
	}
	window := r.WindowMinutes
	if window == 0 {
		window = switchyard.DefaultRuleWindow
	}
	rep, err := e.cfg.Usage.Usage(ctx, switchyard.UsageQuery{From: now.Add(-time.Duration(window) * time.Minute), To: now,
		GroupBy: switchyard.GroupByProvider, Resolution: switchyard.ResolutionMinute, ProviderID: r.ProviderID})
	if err != nil {
		return nil, err
	}
	enabled := map[string]*switchyard.Provider{}
	for _, p := range providers {
		if p.Enabled {
			enabled[p.ID] = p
		}
	}
	for _, s := range rep.Series {
		p, ok := enabled[s.Key]
		if !ok {
			continue
		}
		t := s.Total
		switch r.Kind {
		case switchyard.RuleErrorRate:
			if t.Requests >= switchyard.RuleMinRequests && t.ErrorRate >= r.Threshold {
				out[p.ID] = condition{p.Name, fmt.Sprintf("Provider %s (%s): %.1f%% of %d requests failed in the last %d minutes (threshold %.1f%%)",
					p.Name, p.Slug, 100*t.ErrorRate, t.Requests, window, 100*r.Threshold)}
			}
		case switchyard.RuleLatencyP95:
			if t.Requests-t.Errors > 0 && t.LatencyP95 >= r.Threshold {
				out[p.ID] = condition{p.Name, fmt.Sprintf("Provider %s (%s): p95 latency %.0f ms over the last %d minutes (threshold %.0f ms)",
					p.Name, p.Slug, t.LatencyP95, window, r.Threshold)}
			}
		}
	}
	return out, nil
}

// spendCondition finds the connections past the rule's share of their
// monthly budget, or this month's total spend past the rule's amount
// (calendar month, UTC, as the gateway's budgets count it).
func (e *Engine) spendCondition(ctx context.Context, r *switchyard.AlertRule, now time.Time) (map[string]condition, error) {
	out := map[string]condition{}
	if e.cfg.Usage == nil {
		return out, nil
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	q := switchyard.UsageQuery{From: month, To: now, Resolution: switchyard.ResolutionHour}
	if r.Kind == switchyard.RuleConnectionBudget {
		q.GroupBy = switchyard.GroupByConnection
	}
	if !month.Before(now) {
		return out, nil
	}
	rep, err := e.cfg.Usage.Usage(ctx, q)
	if err != nil {
		return nil, err
	}
	if r.Kind == switchyard.RuleMonthlySpend {
		var total float64
		for _, s := range rep.Series {
			total += s.Total.CostUSD
		}
		if total >= r.Threshold {
			out[switchyard.MonthlySubject] = condition{"this month", fmt.Sprintf("Spend this month is $%.2f, at or over the $%.2f threshold", total, r.Threshold)}
		}
		return out, nil
	}
	spent := map[string]float64{}
	for _, s := range rep.Series {
		spent[s.Key] = s.Total.CostUSD
	}
	conns, err := all(ctx, func(ctx context.Context, o switchyard.ListOptions) (switchyard.Page[*switchyard.Connection], error) {
		return e.cfg.Store.ListConnections(ctx, switchyard.ConnectionFilter{ListOptions: o})
	})
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		if c.BudgetUSD <= 0 || !c.Enabled {
			continue
		}
		if s := spent[c.ID]; s >= r.Threshold*c.BudgetUSD {
			out[c.ID] = condition{c.Name, fmt.Sprintf("Connection %s has spent $%.2f of its $%.2f monthly budget (%.0f%%)", c.Name, s, c.BudgetUSD, 100*s/c.BudgetUSD)}
		}
	}
	return out, nil
}
