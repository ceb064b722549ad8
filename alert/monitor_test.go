package alert_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/alert"
	"github.com/switchyard/switchyard/health"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// TestBuiltinRuleWithTheHealthMonitor drives the real monitor against a
// fake upstream that starts failing: the alert reaches the webhook once,
// not once per check, and "resolved" follows when the fake recovers.
func TestBuiltinRuleWithTheHealthMonitor(t *testing.T) {
	const key = "sk-alert-monitor-0123456789abcdef"
	db := storetest.SQLite().Open(t)
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{key}})
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
	reg := registry.New(registry.Config{Source: db, NewAdapter: f.New})
	p := &switchyard.Provider{Name: "Flaky", Slug: "flaky", Protocol: switchyard.ProtocolOpenAI, BaseURL: upSrv.URL + "/v1", Enabled: true,
		Settings: switchyard.ProviderSettings{HealthCheckIntervalS: 10},
		Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(key)}}}}
	if err := db.CreateProvider(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := reg.Reload(t.Context(), "start"); err != nil {
		t.Fatal(err)
	}
	mon := health.New(health.Config{Store: db, Registry: reg, IntervalUnit: 10 * time.Millisecond, Tick: 10 * time.Millisecond})
	rcv := newReceiver(t, hmacSecret)
	c := &switchyard.AlertChannel{Name: "hook", Kind: switchyard.ChannelWebhook, Enabled: true, URL: rcv.srv.URL,
		Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretHMAC: switchyard.NewSecret(hmacSecret)}}
	if err := db.CreateAlertChannel(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	eng := alert.New(alert.Config{Store: db, Policy: pol, Leader: mon.Leader, Every: 20 * time.Millisecond, Backoff: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{}, 2)
	go func() { mon.Run(ctx); done <- struct{}{} }()
	go func() { eng.Run(ctx); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()

	status := func() switchyard.ProviderStatus {
		got, err := db.GetProvider(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (messages %+v)", what, rcv.got())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("healthy", func() bool { return status() == switchyard.StatusHealthy })
	up.SetFault(fake.Status(http.StatusServiceUnavailable))
	wait("down", func() bool { return status() == switchyard.StatusDown })
	wait("the alert", func() bool { return len(rcv.got()) >= 1 })
	// Several more failed checks and evaluations: still one message.
	time.Sleep(200 * time.Millisecond)
	if got := events(rcv.got()); got != "firing" {
		t.Fatalf("while down: %s", got)
	}
	up.ClearFaults()
	wait("resolved", func() bool { return len(rcv.got()) >= 2 })
	time.Sleep(100 * time.Millisecond)
	if got := rcv.got(); events(got) != "firing,resolved" || got[0].SubjectName != "Flaky" || got[1].AlertID != got[0].AlertID {
		t.Fatalf("messages %+v", got)
	}
}
