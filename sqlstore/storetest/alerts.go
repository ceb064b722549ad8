package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
)

const canaryHMAC = "whsec-canary-7a1c9e0b4d2f6a8c"

func testAlertChannels(t *testing.T, b Backend, db *sqlstore.DB) {
	c := &switchyard.AlertChannel{Name: "ops hook", Kind: switchyard.ChannelWebhook, Enabled: true, URL: "https://hooks.example.com/in",
		Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretHMAC: switchyard.NewSecret(canaryHMAC)}}
	if err := db.CreateAlertChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetAlertChannel(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != c.URL || got.Secrets[switchyard.ChannelSecretHMAC].Reveal() != canaryHMAC || got.Version != 1 {
		t.Fatalf("got %+v", got)
	}
	wantCode(t, db.CreateAlertChannel(ctx, &switchyard.AlertChannel{Name: "ops hook", Kind: switchyard.ChannelWebhook, URL: "https://x.example"}), switchyard.ECONFLICT)
	wantCode(t, db.CreateAlertChannel(ctx, &switchyard.AlertChannel{Name: "bad", Kind: switchyard.ChannelSlack}), switchyard.EINVALID)
	dump := b.Dump(t, db)
	if bytes.Contains(dump, []byte(canaryHMAC[6:20])) {
		t.Fatal("the HMAC secret is stored in plaintext")
	}
	// A secret sent back without its plaintext keeps the stored value.
	got.Secrets[switchyard.ChannelSecretHMAC] = switchyard.SealedSecret("", nil)
	got.Name = "ops"
	if err := db.UpdateAlertChannel(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := db.GetAlertChannel(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Name != "ops" || again.Version != 2 || again.Secrets[switchyard.ChannelSecretHMAC].Reveal() != canaryHMAC {
		t.Fatalf("after update: %+v", again)
	}
	got.Version = 1
	wantCode(t, db.UpdateAlertChannel(ctx, got), switchyard.ESTALE)
	page, err := db.ListAlertChannels(ctx, switchyard.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("list = %+v, %v", page, err)
	}
	if err := db.DeleteAlertChannel(ctx, c.ID, 2); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteAlertChannel(ctx, c.ID, 0), switchyard.ENOTFOUND)
}

func testAlertRulesAndAlerts(t *testing.T, _ Backend, db *sqlstore.DB) {
	builtin, err := db.GetAlertRule(ctx, switchyard.BuiltinAlertRuleID)
	if err != nil {
		t.Fatalf("the built-in rule is not there out of the box: %v", err)
	}
	if !builtin.Builtin || !builtin.Enabled || builtin.Kind != switchyard.RuleProviderDown || len(builtin.ChannelIDs) != 0 {
		t.Fatalf("built-in rule = %+v", builtin)
	}
	wantCode(t, db.DeleteAlertRule(ctx, builtin.ID, 0), switchyard.ECONFLICT)
	builtin.CooldownMinutes = 10
	if err := db.UpdateAlertRule(ctx, builtin); err != nil {
		t.Fatal(err)
	}
	if !builtin.Builtin || builtin.Version != 2 {
		t.Fatalf("after update: %+v", builtin)
	}
	r := &switchyard.AlertRule{Name: "degraded 10m", Kind: switchyard.RuleProviderDegraded, Enabled: true, ForMinutes: 10, ChannelIDs: []string{"c1"}}
	if err := db.CreateAlertRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.CreateAlertRule(ctx, &switchyard.AlertRule{Name: "x", Kind: "cpu"}), switchyard.EINVALID)
	wantCode(t, db.CreateAlertRule(ctx, &switchyard.AlertRule{Name: "x", Kind: switchyard.RuleErrorRate, Threshold: 2}), switchyard.EINVALID)
	errs := &switchyard.AlertRule{Name: "errors", Kind: switchyard.RuleErrorRate, Enabled: true, Threshold: 0.25, WindowMinutes: 30}
	if err := db.CreateAlertRule(ctx, errs); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetAlertRule(ctx, errs.ID); err != nil || got.Threshold != 0.25 || got.WindowMinutes != 30 {
		t.Fatalf("error-rate rule = %+v, %v", got, err)
	}
	if err := db.DeleteAlertRule(ctx, errs.ID, 1); err != nil {
		t.Fatal(err)
	}
	rules, err := db.ListAlertRules(ctx, switchyard.ListOptions{})
	if err != nil || len(rules.Items) != 2 || rules.Items[0].ID != builtin.ID || rules.Items[1].ChannelIDs[0] != "c1" {
		t.Fatalf("rules = %+v, %v", rules, err)
	}

	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	a := &switchyard.Alert{RuleID: r.ID, Subject: "p1", Summary: "p1 degraded", OpenedAt: at}
	if err := db.OpenAlert(ctx, a); err != nil {
		t.Fatal(err)
	}
	// One open alert per rule and subject.
	wantCode(t, db.OpenAlert(ctx, &switchyard.Alert{RuleID: r.ID, Subject: "p1"}), switchyard.ECONFLICT)
	if err := db.OpenAlert(ctx, &switchyard.Alert{RuleID: r.ID, Subject: "p2", OpenedAt: at}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		if err := db.AddAlertDelivery(ctx, &switchyard.AlertDelivery{AlertID: a.ID, ChannelID: "c1", Event: switchyard.EventFiring,
			Attempt: i, OK: i == 2, Status: 500 - 300*(i-1), Error: map[bool]string{true: "", false: "status 500"}[i == 2]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AddAlertDelivery(ctx, &switchyard.AlertDelivery{ChannelID: "c1", Event: switchyard.EventTest, Attempt: 1, OK: true, At: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.ResolveAlert(ctx, a.ID, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.ResolveAlert(ctx, a.ID, at), switchyard.ENOTFOUND)
	open, err := db.ListAlerts(ctx, switchyard.AlertFilter{State: switchyard.AlertOpen})
	if err != nil || len(open.Items) != 1 || open.Items[0].Subject != "p2" {
		t.Fatalf("open = %+v, %v", open, err)
	}
	resolved, err := db.ListAlerts(ctx, switchyard.AlertFilter{State: switchyard.AlertResolved, RuleID: r.ID, Subject: "p1"})
	if err != nil || len(resolved.Items) != 1 {
		t.Fatalf("resolved = %+v, %v", resolved, err)
	}
	got := resolved.Items[0]
	if got.ResolvedAt == nil || !got.ResolvedAt.Equal(at.Add(time.Minute)) || len(got.Deliveries) != 2 ||
		got.Deliveries[0].OK || got.Deliveries[0].Error != "status 500" || !got.Deliveries[1].OK || got.Deliveries[1].Attempt != 2 {
		t.Fatalf("resolved alert = %+v (deliveries %+v)", got, got.Deliveries)
	}
	// Pruning takes resolved alerts with their deliveries and old test
	// deliveries; open alerts stay.
	n, err := db.PruneAlerts(ctx, at.Add(2*time.Minute))
	if err != nil || n != 4 {
		t.Fatalf("pruned %d rows, %v; want 4 (an alert, its 2 deliveries, a test delivery)", n, err)
	}
	if left, err := db.ListAlerts(ctx, switchyard.AlertFilter{}); err != nil || len(left.Items) != 1 || left.Items[0].Subject != "p2" {
		t.Fatalf("left after pruning: %+v, %v", left, err)
	}
	// A new alert may open once the last one resolved.
	if err := db.OpenAlert(ctx, &switchyard.Alert{RuleID: r.ID, Subject: "p1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAlertRule(ctx, r.ID, 0); err != nil {
		t.Fatal(err)
	}
	all, err := db.ListAlerts(ctx, switchyard.AlertFilter{})
	if err != nil || len(all.Items) != 0 {
		t.Fatalf("alerts outlived their rule: %+v, %v", all, err)
	}
}
