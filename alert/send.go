package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
)

// Webhook headers. The signature is HMAC-SHA256, keyed with the channel's
// hmac_secret, over "<timestamp>.<body>", written "sha256=<hex>"; a
// receiver recomputes it and refuses a timestamp too far from its clock,
// so a captured request cannot be replayed later.
const (
	HeaderTimestamp = "X-Switchyard-Timestamp"
	HeaderSignature = "X-Switchyard-Signature"
	HeaderEvent     = "X-Switchyard-Event"
)

// Message is what a channel receives: the JSON body of a generic webhook,
// and the content of a Slack message or an email.
type Message struct {
	// Event is firing, resolved or test.
	Event   string `json:"event"`
	AlertID string `json:"alert_id,omitempty"`
	RuleID  string `json:"rule_id,omitempty"`
	Rule    string `json:"rule"`
	Kind    string `json:"kind,omitempty"`
	// Subject is the provider's id; SubjectName its name.
	Subject     string     `json:"subject,omitempty"`
	SubjectName string     `json:"subject_name,omitempty"`
	Summary     string     `json:"summary"`
	State       string     `json:"state"`
	OpenedAt    time.Time  `json:"opened_at"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	At          time.Time  `json:"at"`
}

// title is the one-line form of a message.
func (m Message) title() string {
	var what string
	switch m.Event {
	case switchyard.EventFiring:
		what = "FIRING"
	case switchyard.EventResolved:
		what = "RESOLVED"
	default:
		what = "TEST"
	}
	s := what + ": " + m.Rule
	if m.SubjectName != "" {
		s += " — " + m.SubjectName
	}
	return oneLine(s)
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// SMTPOptions tune email delivery.
type SMTPOptions struct {
	// RootCAs verifies the server's certificate after STARTTLS; nil uses
	// the system's roots.
	RootCAs *x509.CertPool
}

// deliveryError is a failure with the status that came with it.
type deliveryError struct {
	status int
	msg    string
	final  bool
}

func (e *deliveryError) Error() string { return e.msg }

// sendOnce delivers m to c once and returns the HTTP status or SMTP code.
func (e *Engine) sendOnce(ctx context.Context, c *switchyard.AlertChannel, m Message) (int, error) {
	for name, s := range c.Secrets {
		if s.Err() != nil {
			return 0, &deliveryError{msg: "the channel's secret " + name + " cannot be decrypted; set it again", final: true}
		}
	}
	switch c.Kind {
	case switchyard.ChannelWebhook:
		body, err := json.Marshal(m)
		if err != nil {
			return 0, err
		}
		h := http.Header{}
		ts := strconv.FormatInt(e.cfg.Now().Unix(), 10)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderEvent, m.Event)
		if s := c.Secrets[switchyard.ChannelSecretHMAC]; s.Reveal() != "" {
			h.Set(HeaderSignature, Sign(s.Reveal(), ts, body))
		}
		return e.post(ctx, c.URL, h, body)
	case switchyard.ChannelSlack:
		body, err := json.Marshal(slackBody(m))
		if err != nil {
			return 0, err
		}
		return e.post(ctx, c.Secrets[switchyard.ChannelSecretURL].Reveal(), http.Header{}, body)
	case switchyard.ChannelEmail:
		return e.sendEmail(ctx, c, m)
	}
	return 0, &deliveryError{msg: "unknown channel kind " + c.Kind, final: true}
}

func (e *Engine) post(ctx context.Context, u string, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, &deliveryError{msg: "the channel's URL is not valid", final: true}
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", e.cfg.Name+"-Alerts")
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, &deliveryError{status: resp.StatusCode, msg: fmt.Sprintf("the receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	return resp.StatusCode, nil
}

// Sign returns the signature header value for a webhook body sent at the
// timestamp ts (Unix seconds, as in the timestamp header).
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook request's signature and that its timestamp is
// within tolerance of now; receivers written in Go can use it.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or bad " + HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("the timestamp is too old or in the future (a replay?)")
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return errors.New("the signature does not match")
	}
	return nil
}

// slackBody is the incoming-webhook shape Slack documents: text (the
// notification's fallback) and blocks (what the message shows).
func slackBody(m Message) map[string]any {
	icon := ":red_circle:"
	switch m.Event {
	case switchyard.EventResolved:
		icon = ":large_green_circle:"
	case switchyard.EventTest:
		icon = ":white_circle:"
	}
	fields := []map[string]string{
		{"type": "mrkdwn", "text": "*Rule*\n" + m.Rule},
		{"type": "mrkdwn", "text": "*State*\n" + m.State},
	}
	if m.SubjectName != "" {
		fields = append(fields, map[string]string{"type": "mrkdwn", "text": "*Provider*\n" + m.SubjectName})
	}
	return map[string]any{
		"text": icon + " " + m.title() + ": " + m.Summary,
		"blocks": []any{
			map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": m.title()}},
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": icon + " " + m.Summary}, "fields": fields},
			map[string]any{"type": "context", "elements": []any{map[string]string{"type": "mrkdwn", "text": "Switchyard · " + m.At.Format(time.RFC3339)}}},
		},
	}
}

// sendEmail sends m over SMTP: STARTTLS (required unless the channel
// allows a plain relay), AUTH PLAIN when the channel has a password, the
// connection made through the SSRF guard.
func (e *Engine) sendEmail(ctx context.Context, c *switchyard.AlertChannel, m Message) (int, error) {
	port := c.SMTPPort
	if port == 0 {
		port = 587
	}
	conn, err := e.cfg.Policy.DialContext(netguard.ClientOptions{})(ctx, "tcp", net.JoinHostPort(c.SMTPHost, strconv.Itoa(port)))
	if err != nil {
		return 0, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, c.SMTPHost)
	if err != nil {
		_ = conn.Close()
		return smtpCode(err), err
	}
	defer cl.Close()
	if err := cl.Hello("switchyard"); err != nil {
		return smtpCode(err), err
	}
	if ok, _ := cl.Extension("STARTTLS"); ok {
		if err := cl.StartTLS(&tls.Config{ServerName: c.SMTPHost, RootCAs: e.cfg.SMTP.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
			return smtpCode(err), &deliveryError{msg: "STARTTLS failed: " + err.Error(), final: true}
		}
	} else if !c.InsecureSMTP {
		return 0, &deliveryError{msg: "the SMTP server does not offer STARTTLS; use a server that does, or set insecure_smtp for a relay on a private network", final: true}
	}
	if pw := c.Secrets[switchyard.ChannelSecretPassword]; pw.Reveal() != "" {
		if err := cl.Auth(smtp.PlainAuth("", c.Username, pw.Reveal(), c.SMTPHost)); err != nil {
			return smtpCode(err), &deliveryError{status: smtpCode(err), msg: "SMTP authentication failed: check username and password", final: true}
		}
	}
	if err := cl.Mail(c.From); err != nil {
		return smtpCode(err), err
	}
	for _, to := range c.To {
		if err := cl.Rcpt(to); err != nil {
			return smtpCode(err), err
		}
	}
	w, err := cl.Data()
	if err != nil {
		return smtpCode(err), err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: [%s] %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		oneLine(c.From), oneLine(strings.Join(c.To, ", ")), oneLine(e.cfg.Name), m.title(), m.At.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "%s\r\n\r\nRule: %s\r\nState: %s\r\nOpened: %s\r\n", m.Summary, m.Rule, m.State, m.OpenedAt.Format(time.RFC3339))
	if m.ResolvedAt != nil {
		fmt.Fprintf(&b, "Resolved: %s\r\n", m.ResolvedAt.Format(time.RFC3339))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return smtpCode(err), err
	}
	if err := cl.Quit(); err != nil {
		return smtpCode(err), nil // the message was accepted
	}
	return 250, nil
}

func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// retryable says whether a failed attempt is worth trying again: transport
// errors, timeouts, 408, 429 and 5xx from a webhook, 4xx from SMTP; not a
// refusal by the SSRF guard, a rejection or a configuration problem.
func retryable(status int, err error) bool {
	var de *deliveryError
	if errors.As(err, &de) && de.final {
		return false
	}
	var refused *netguard.Refused
	if errors.As(err, &refused) {
		return false
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 400 && te.Code < 500
	}
	switch {
	case status == 0:
		return true
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return true
	}
	return false
}

// describe turns a delivery error into text safe to store and show: never
// the URL (a Slack URL is itself a secret), never a secret.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
		if ue.Timeout() {
			return "timed out"
		}
	}
	return netguard.Redact(err).Error()
}
