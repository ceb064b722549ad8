package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/alert"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

const hmacSecret = "whsec-alert-test-0123456789abcdef"

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver is a webhook endpoint that verifies each request's signature
// and keeps the messages; fail makes the first n requests answer 503.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	messages []alert.Message
	times    []time.Time
	fail     atomic.Int32
	requests atomic.Int32
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		r.mu.Unlock()
		if r.fail.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if secret != "" {
			// The receiver checks against its own clock: the engine's is
			// fake, so the tolerance is generous here.
			if err := alert.Verify(secret, req.Header, body, time.Unix(mustInt(req.Header.Get(alert.HeaderTimestamp)), 0), time.Minute); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		var m alert.Message
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.messages = append(r.messages, m)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func mustInt(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

func (r *receiver) got() []alert.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]alert.Message(nil), r.messages...)
}

type env struct {
	db  *sqlstore.DB
	clk *clock
	eng *alert.Engine
}

func newEnv(t *testing.T, db *sqlstore.DB, tweak func(*alert.Config)) *env {
	t.Helper()
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, clk: &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}}
	cfg := alert.Config{Store: db, Policy: pol, Now: e.clk.Now, Backoff: 20 * time.Millisecond, Attempts: 3, Timeout: 2 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	e.eng = alert.New(cfg)
	return e
}

func (e *env) provider(t *testing.T, slug string) *switchyard.Provider {
	t.Helper()
	p := &switchyard.Provider{Name: "Provider " + slug, Slug: slug, Protocol: switchyard.ProtocolOpenAI, BaseURL: "https://api.example.com/v1", Enabled: true,
		Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("sk-alert-test-0123456789abcdef")}}}}
	if err := e.db.CreateProvider(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) status(t *testing.T, p *switchyard.Provider, s switchyard.ProviderStatus) {
	t.Helper()
	if err := e.db.ChangeProviderStatus(t.Context(), &switchyard.StatusChange{ProviderID: p.ID, To: s, At: e.clk.Now(), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) webhook(t *testing.T, r *receiver, secret string) *switchyard.AlertChannel {
	t.Helper()
	c := &switchyard.AlertChannel{Name: "hook " + r.srv.URL, Kind: switchyard.ChannelWebhook, Enabled: true, URL: r.srv.URL + "/alerts"}
	if secret != "" {
		c.Secrets = map[string]switchyard.Secret{switchyard.ChannelSecretHMAC: switchyard.NewSecret(secret)}
	}
	if err := e.db.CreateAlertChannel(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) evaluate(t *testing.T) {
	t.Helper()
	if err := e.eng.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.eng.Wait()
}

func events(ms []alert.Message) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Event)
	}
	return strings.Join(s, ",")
}

// TestBuiltinRuleSendsDownOnceThenResolved: out of the box, creating a
// channel is enough; the alert arrives once however many evaluations see
// the provider down, signed, and a resolved message follows recovery.
func TestBuiltinRuleSendsDownOnceThenResolved(t *testing.T) {
	e := newEnv(t, storetest.SQLite().Open(t), nil)
	rcv := newReceiver(t, hmacSecret)
	e.webhook(t, rcv, hmacSecret)
	p := e.provider(t, "flaky")
	e.status(t, p, switchyard.StatusHealthy)
	e.evaluate(t)
	e.status(t, p, switchyard.StatusDown)
	for range 3 {
		e.evaluate(t)
		e.clk.Add(10 * time.Second)
	}
	got := rcv.got()
	if events(got) != "firing" || got[0].Subject != p.ID || got[0].SubjectName != p.Name || got[0].RuleID != switchyard.BuiltinAlertRuleID ||
		!strings.Contains(got[0].Summary, "is down") {
		t.Fatalf("messages = %+v", got)
	}
	e.status(t, p, switchyard.StatusHealthy)
	e.evaluate(t)
	e.evaluate(t)
	got = rcv.got()
	if events(got) != "firing,resolved" || got[1].AlertID != got[0].AlertID || got[1].ResolvedAt == nil {
		t.Fatalf("messages = %+v", got)
	}
	alerts, err := e.db.ListAlerts(t.Context(), switchyard.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts.Items) != 1 || alerts.Items[0].State != switchyard.AlertResolved || len(alerts.Items[0].Deliveries) != 2 ||
		!alerts.Items[0].Deliveries[0].OK || alerts.Items[0].Deliveries[1].Event != switchyard.EventResolved {
		t.Fatalf("stored = %+v", alerts.Items)
	}
}

// TestCooldownKeepsAFlapQuiet: a provider that goes down again within the
// rule's cooldown is not announced again; after the cooldown it is.
func TestCooldownKeepsAFlapQuiet(t *testing.T) {
	e := newEnv(t, storetest.SQLite().Open(t), nil)
	rcv := newReceiver(t, "")
	e.webhook(t, rcv, "")
	p := e.provider(t, "flappy")
	// The built-in rule's cooldown is 5 minutes.
	e.status(t, p, switchyard.StatusDown)
	e.evaluate(t)
	e.status(t, p, switchyard.StatusHealthy)
	e.evaluate(t)
	e.clk.Add(time.Minute)
	e.status(t, p, switchyard.StatusDown)
	e.evaluate(t)
	if got := events(rcv.got()); got != "firing,resolved" {
		t.Fatalf("within the cooldown: %s", got)
	}
	e.clk.Add(5 * time.Minute)
	e.evaluate(t)
	if got := events(rcv.got()); got != "firing,resolved,firing" {
		t.Fatalf("after the cooldown: %s", got)
	}
}

// TestDegradedForMinutes: the rule holds its fire until the provider has
// been degraded for the rule's minutes, and a short dip says nothing.
func TestDegradedForMinutes(t *testing.T) {
	e := newEnv(t, storetest.SQLite().Open(t), nil)
	rcv := newReceiver(t, "")
	ch := e.webhook(t, rcv, "")
	builtin, err := e.db.GetAlertRule(t.Context(), switchyard.BuiltinAlertRuleID)
	if err != nil {
		t.Fatal(err)
	}
	builtin.Enabled = false
	if err := e.db.UpdateAlertRule(t.Context(), builtin); err != nil {
		t.Fatal(err)
	}
	r := &switchyard.AlertRule{Name: "slow 10m", Kind: switchyard.RuleProviderDegraded, Enabled: true, ForMinutes: 10, ChannelIDs: []string{ch.ID}}
	if err := e.db.CreateAlertRule(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	p := e.provider(t, "slow")
	e.status(t, p, switchyard.StatusDegraded)
	e.clk.Add(4 * time.Minute)
	e.evaluate(t)
	e.status(t, p, switchyard.StatusHealthy)
	e.evaluate(t)
	if got := rcv.got(); len(got) != 0 {
		t.Fatalf("a 4-minute dip was announced: %+v", got)
	}
	e.status(t, p, switchyard.StatusDegraded)
	e.clk.Add(9 * time.Minute)
	e.evaluate(t)
	if got := rcv.got(); len(got) != 0 {
		t.Fatalf("announced after 9 minutes: %+v", got)
	}
	e.clk.Add(time.Minute)
	e.evaluate(t)
	if got := rcv.got(); events(got) != "firing" || got[0].Rule != "slow 10m" || !strings.Contains(got[0].Summary, "degraded since") {
		t.Fatalf("after 10 minutes: %+v", got)
	}
}

// TestDeliveryRetriedWithBackoff: a failing receiver gets the message again
// after growing waits, and every attempt is stored; a receiver that never
// recovers gets a bounded number of attempts.
func TestDeliveryRetriedWithBackoff(t *testing.T) {
	e := newEnv(t, storetest.SQLite().Open(t), nil)
	rcv := newReceiver(t, "")
	rcv.fail.Store(2)
	e.webhook(t, rcv, "")
	p := e.provider(t, "p")
	e.status(t, p, switchyard.StatusDown)
	e.evaluate(t)
	if got := events(rcv.got()); got != "firing" || rcv.requests.Load() != 3 {
		t.Fatalf("messages %s after %d requests", got, rcv.requests.Load())
	}
	rcv.mu.Lock()
	gap1, gap2 := rcv.times[1].Sub(rcv.times[0]), rcv.times[2].Sub(rcv.times[1])
	rcv.mu.Unlock()
	if gap1 < 20*time.Millisecond || gap2 < 40*time.Millisecond {
		t.Fatalf("waits %s, %s: want at least 20ms then 40ms", gap1, gap2)
	}
	alerts, err := e.db.ListAlerts(t.Context(), switchyard.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ds := alerts.Items[0].Deliveries
	if len(ds) != 3 || ds[0].OK || ds[0].Status != 503 || ds[0].Error == "" || ds[1].Attempt != 2 || !ds[2].OK || ds[2].Attempt != 3 {
		t.Fatalf("deliveries %+v %+v %+v", ds[0], ds[1], ds[2])
	}

	rcv.fail.Store(100)
	rcv.requests.Store(0)
	e.status(t, p, switchyard.StatusHealthy)
	e.evaluate(t)
	if n := rcv.requests.Load(); n != 3 {
		t.Fatalf("a dead receiver got %d attempts, want 3 (the bound)", n)
	}
}

// TestSSRFGuardRefusesPrivateWebhook: without an allowlist entry, a
// webhook on a private address is refused at save and at send, and
// nothing reaches it.
func TestSSRFGuardRefusesPrivateWebhook(t *testing.T) {
	strict, err := netguard.NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, storetest.SQLite().Open(t), func(c *alert.Config) { c.Policy = strict })
	rcv := newReceiver(t, "")
	ch := e.webhook(t, rcv, "")
	err = e.eng.CheckChannel(t.Context(), ch)
	if switchyard.ErrorCode(err) != switchyard.EINVALID || !strings.Contains(err.Error(), "SWITCHYARD_OUTBOUND_ALLOW") {
		t.Fatalf("CheckChannel = %v", err)
	}
	if f := switchyard.ErrorFields(err); len(f) != 1 || f[0].Field != "url" {
		t.Fatalf("fields = %+v", f)
	}
	d, _ := e.eng.Test(t.Context(), ch)
	if d.OK || !strings.Contains(d.Error, "refused") || rcv.requests.Load() != 0 {
		t.Fatalf("test delivery = %+v, %d requests", d, rcv.requests.Load())
	}
	// Allowlisted, the same channel works.
	allowed := newEnv(t, e.db, nil)
	if err := allowed.eng.CheckChannel(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	if d, _ := allowed.eng.Test(t.Context(), ch); !d.OK || rcv.requests.Load() != 1 || rcv.got()[0].Event != "test" {
		t.Fatalf("allowed test delivery = %+v", d)
	}
}

// TestSlackShape: a Slack channel gets text plus blocks, at the URL kept
// as a secret, and a failure never shows that URL.
func TestSlackShape(t *testing.T) {
	var body map[string]any
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	e := newEnv(t, storetest.SQLite().Open(t), nil)
	secretPath := "/services/T000/B000/slacksecretcanary0123"
	c := &switchyard.AlertChannel{Name: "slack", Kind: switchyard.ChannelSlack, Enabled: true,
		Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretURL: switchyard.NewSecret(srv.URL + secretPath)}}
	if err := e.db.CreateAlertChannel(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	p := e.provider(t, "s")
	e.status(t, p, switchyard.StatusDown)
	e.evaluate(t)
	if path != secretPath {
		t.Fatalf("posted to %q", path)
	}
	text, _ := body["text"].(string)
	blocks, _ := body["blocks"].([]any)
	if !strings.Contains(text, "FIRING") || !strings.Contains(text, "Provider s") || len(blocks) != 3 {
		t.Fatalf("body = %+v", body)
	}
	head := blocks[0].(map[string]any)
	section := blocks[1].(map[string]any)
	if head["type"] != "header" || head["text"].(map[string]any)["type"] != "plain_text" ||
		section["type"] != "section" || section["text"].(map[string]any)["type"] != "mrkdwn" {
		t.Fatalf("blocks = %+v", blocks)
	}
	// A failing Slack URL: the stored error does not carry it.
	srv.Close()
	d, _ := e.eng.Test(t.Context(), c)
	if d.OK || d.Error == "" || strings.Contains(d.Error, "slacksecretcanary") || strings.Contains(d.Error, "/services/") {
		t.Fatalf("failed delivery = %+v", d)
	}
}

// TestOnlyTheLeaderSends: two replicas evaluate over one database; only
// the one whose Leader says so sends, and the unique open alert keeps a
// second sender from announcing it again.
func TestOnlyTheLeaderSends(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db1, db2 := b.OpenPair(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			e1, ok1 := lead(t, ctx, db1)
			e2, ok2 := lead(t, ctx, db2)
			if ok1 == ok2 && b.Name == "postgres" {
				t.Fatalf("leaders: %v, %v; want exactly one", ok1, ok2)
			}
			rcv := newReceiver(t, "")
			r1 := newEnv(t, db1, func(c *alert.Config) { c.Leader = func() bool { return ok1 }; c.Every = 10 * time.Millisecond })
			r2 := newEnv(t, db2, func(c *alert.Config) { c.Leader = func() bool { return ok2 }; c.Every = 10 * time.Millisecond })
			_ = e1
			_ = e2
			r1.webhook(t, rcv, "")
			p := r1.provider(t, "shared")
			r1.status(t, p, switchyard.StatusDown)
			done := make(chan struct{}, 2)
			for _, r := range []*env{r1, r2} {
				go func() { r.eng.Run(ctx); done <- struct{}{} }()
			}
			deadline := time.Now().Add(3 * time.Second)
			for len(rcv.got()) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // both replicas get several ticks
			cancel()
			<-done
			<-done
			if got := rcv.got(); len(got) != 1 {
				t.Fatalf("%d messages, want 1: %+v", len(got), got)
			}
		})
	}
}

// lead takes the "health" leadership, as the monitor does.
func lead(t *testing.T, ctx context.Context, db *sqlstore.DB) (sqlstore.Lease, bool) {
	t.Helper()
	el := db.Elector("health")
	t.Cleanup(el.Close)
	l, ok, err := el.TryLead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Cleanup(l.Release)
	}
	return l, ok
}

// TestResolvedMessageSaysHowLong: the resolved message carries the
// alert's summary and how long it lasted.
func TestResolvedMessageSaysHowLong(t *testing.T) {
	e := newEnv(t, storetest.SQLite().Open(t), nil)
	rcv := newReceiver(t, "")
	e.webhook(t, rcv, "")
	p := e.provider(t, "brief")
	e.status(t, p, switchyard.StatusDown)
	e.evaluate(t)
	e.clk.Add(7 * time.Minute)
	e.status(t, p, switchyard.StatusHealthy)
	e.evaluate(t)
	got := rcv.got()
	if len(got) != 2 || got[1].Summary != "Resolved after 7m0s: Provider Provider brief (brief) is down" || got[1].State != switchyard.AlertResolved {
		t.Fatalf("messages %+v", got)
	}
}
