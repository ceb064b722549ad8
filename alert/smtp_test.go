package alert_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/alert"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

const smtpPassword = "smtp-pass-canary-0123456789"

// fakeSMTP is a small SMTP server: it offers STARTTLS (when tls is set),
// takes AUTH PLAIN only over TLS, and keeps what it was sent.
type fakeSMTP struct {
	ln   net.Listener
	tls  *tls.Config
	mu   sync.Mutex
	auth []string // decoded AUTH PLAIN credentials
	data []string
	rcpt []string
	tlsd bool
}

func newFakeSMTP(t *testing.T, withTLS bool) (*fakeSMTP, *x509.CertPool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln}
	var pool *x509.CertPool
	if withTLS {
		// httptest's certificate is valid for 127.0.0.1.
		ts := httptest.NewTLSServer(nil)
		f.tls = &tls.Config{Certificates: ts.TLS.Certificates}
		pool = x509.NewCertPool()
		pool.AddCert(ts.Certificate())
		ts.Close()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return f, pool
}

func (f *fakeSMTP) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(s string) { _, _ = w.WriteString(s + "\r\n"); _ = w.Flush() }
	secure := false
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch cmd {
		case "EHLO", "HELO":
			ext := []string{"250-fake"}
			if f.tls != nil && !secure {
				ext = append(ext, "250-STARTTLS")
			}
			if secure {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 8BITMIME")
			say(strings.Join(ext, "\r\n"))
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, f.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, secure = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
			f.mu.Lock()
			f.tlsd = true
			f.mu.Unlock()
		case "AUTH":
			parts := strings.Fields(line)
			raw, _ := base64.StdEncoding.DecodeString(parts[len(parts)-1])
			f.mu.Lock()
			f.auth = append(f.auth, string(raw))
			f.mu.Unlock()
			say("235 ok")
		case "MAIL":
			say("250 ok")
		case "RCPT":
			f.mu.Lock()
			f.rcpt = append(f.rcpt, line)
			f.mu.Unlock()
			say("250 ok")
		case "DATA":
			say("354 go")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			f.mu.Lock()
			f.data = append(f.data, b.String())
			f.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

// TestEmailOverSTARTTLS: an email channel upgrades to TLS, authenticates,
// and sends the alert and its resolution to every recipient.
func TestEmailOverSTARTTLS(t *testing.T) {
	srv, pool := newFakeSMTP(t, true)
	e := newEnv(t, storetest.SQLite().Open(t), func(c *alert.Config) { c.SMTP.RootCAs = pool })
	c := &switchyard.AlertChannel{Name: "mail", Kind: switchyard.ChannelEmail, Enabled: true, SMTPHost: "127.0.0.1", SMTPPort: srv.port(),
		Username: "alerts", From: "switchyard@example.com", To: []string{"ops@example.com", "oncall@example.com"},
		Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretPassword: switchyard.NewSecret(smtpPassword)}}
	if err := e.db.CreateAlertChannel(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	p := e.provider(t, "mailed")
	e.status(t, p, switchyard.StatusDown)
	e.evaluate(t)
	e.status(t, p, switchyard.StatusHealthy)
	e.evaluate(t)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !srv.tlsd || len(srv.auth) != 2 || srv.auth[0] != "\x00alerts\x00"+smtpPassword {
		t.Fatalf("tls %v, auth %q", srv.tlsd, srv.auth)
	}
	if len(srv.data) != 2 || len(srv.rcpt) != 4 {
		t.Fatalf("%d messages, %d recipients", len(srv.data), len(srv.rcpt))
	}
	if !strings.Contains(srv.data[0], "Subject: [Switchyard] FIRING: Provider down") || !strings.Contains(srv.data[0], "Provider mailed (mailed) is down") ||
		!strings.Contains(srv.data[1], "Subject: [Switchyard] RESOLVED: Provider down") {
		t.Fatalf("messages:\n%s\n---\n%s", srv.data[0], srv.data[1])
	}
	alerts, err := e.db.ListAlerts(t.Context(), switchyard.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if ds := alerts.Items[0].Deliveries; len(ds) != 2 || !ds[0].OK || ds[0].Status != 250 {
		t.Fatalf("deliveries %+v", ds)
	}
}

// TestEmailRefusesPlainServer: a server without STARTTLS gets neither the
// password nor the message, unless the channel allows a plain relay.
func TestEmailRefusesPlainServer(t *testing.T) {
	srv, _ := newFakeSMTP(t, false)
	e := newEnv(t, storetest.SQLite().Open(t), nil)
	c := &switchyard.AlertChannel{Name: "plain", Kind: switchyard.ChannelEmail, Enabled: true, SMTPHost: "127.0.0.1", SMTPPort: srv.port(),
		Username: "alerts", From: "switchyard@example.com", To: []string{"ops@example.com"},
		Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretPassword: switchyard.NewSecret(smtpPassword)}}
	d, _ := e.eng.Test(t.Context(), c)
	if d.OK || !strings.Contains(d.Error, "STARTTLS") || strings.Contains(d.Error, smtpPassword) {
		t.Fatalf("delivery %+v", d)
	}
	c.InsecureSMTP, c.Secrets, c.Username = true, nil, ""
	if d, _ := e.eng.Test(t.Context(), c); !d.OK {
		t.Fatalf("plain relay delivery %+v", d)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.auth) != 0 || len(srv.data) != 1 || !strings.Contains(srv.data[0], "TEST") {
		t.Fatalf("auth %q, data %q", srv.auth, srv.data)
	}
}

// TestEmailPrivateHostRefused: the SMTP host goes through the SSRF guard
// like any URL.
func TestEmailPrivateHostRefused(t *testing.T) {
	strict, err := netguard.NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, storetest.SQLite().Open(t), func(c *alert.Config) { c.Policy = strict })
	c := &switchyard.AlertChannel{Name: "mail", Kind: switchyard.ChannelEmail, Enabled: true, SMTPHost: "127.0.0.1", SMTPPort: 2525,
		From: "switchyard@example.com", To: []string{"ops@example.com"}}
	err = e.eng.CheckChannel(t.Context(), c)
	if f := switchyard.ErrorFields(err); len(f) != 1 || f[0].Field != "smtp_host" {
		t.Fatalf("CheckChannel = %v", err)
	}
	if d, _ := e.eng.Test(t.Context(), c); d.OK || !strings.Contains(d.Error, "refused") {
		t.Fatalf("delivery %+v", d)
	}
}
