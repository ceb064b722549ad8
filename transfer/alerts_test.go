package transfer_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
	"github.com/switchyard/switchyard/transfer"
)

const (
	canaryHMAC  = "whsec-canary-transfer-0123456789ab"
	canarySlack = "slack-canary-transfer-0123456789ab"
	canarySMTP  = "smtp-canary-transfer-0123456789ab"
)

// seedAlerts adds three channels (each with a secret), a rule naming a
// provider and two channels, and changes the built-in rule.
func seedAlerts(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	chans := []*switchyard.AlertChannel{
		{Name: "hook", Kind: switchyard.ChannelWebhook, Enabled: true, URL: "https://hooks.example.com/in",
			Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretHMAC: switchyard.NewSecret(canaryHMAC)}},
		{Name: "slack", Kind: switchyard.ChannelSlack, Enabled: true,
			Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretURL: switchyard.NewSecret("https://hooks.slack.com/services/" + canarySlack)}},
		{Name: "mail", Kind: switchyard.ChannelEmail, Enabled: true, SMTPHost: "smtp.example.com", SMTPPort: 587, Username: "alerts",
			From: "sy@example.com", To: []string{"ops@example.com"},
			Secrets: map[string]switchyard.Secret{switchyard.ChannelSecretPassword: switchyard.NewSecret(canarySMTP)}},
	}
	for _, c := range chans {
		if err := db.CreateAlertChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	p, err := db.GetProviderBySlug(ctx, "openai-prod")
	if err != nil {
		t.Fatal(err)
	}
	r := &switchyard.AlertRule{Name: "errors", Kind: switchyard.RuleErrorRate, Enabled: true, ProviderID: p.ID, Threshold: 0.2,
		WindowMinutes: 10, CooldownMinutes: 30, ChannelIDs: []string{chans[0].ID, chans[1].ID}}
	if err := db.CreateAlertRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	b, err := db.GetAlertRule(ctx, switchyard.BuiltinAlertRuleID)
	if err != nil {
		t.Fatal(err)
	}
	b.CooldownMinutes, b.ChannelIDs = 9, []string{chans[2].ID}
	if err := db.UpdateAlertRule(ctx, b); err != nil {
		t.Fatal(err)
	}
}

func alertsOf(t *testing.T, d *transfer.Document) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"channels": d.AlertChannels, "rules": d.AlertRules})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAlertsRoundTrip(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			src := storetest.SQLite().Open(t)
			seed(t, src)
			seedAlerts(t, src)
			doc, raw := export(t, src, transfer.ExportOptions{Passphrase: passphrase})
			for _, c := range []string{canaryHMAC, canarySlack, canarySMTP} {
				if strings.Contains(string(raw), c) {
					t.Fatalf("the export shows %q", c)
				}
			}
			if len(doc.AlertChannels) != 3 || len(doc.AlertRules) != 2 || !strings.Contains(string(raw), `"channels": [`) {
				t.Fatalf("export: %s", alertsOf(t, doc))
			}
			dst := fresh(t, b)
			d, err := transfer.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			// The built-in rule exists everywhere: overwrite brings the
			// source's settings.
			plan, err := transfer.Import(ctx, dst, d, transfer.ImportOptions{Passphrase: passphrase, NewKey: keys(), OnConflict: transfer.OnConflictOverwrite})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range plan.Items {
				if strings.HasPrefix(it.Kind, "alert") && it.Action != transfer.ActionCreate && !(it.Key == "Provider down" && it.Action == transfer.ActionUpdate) {
					t.Fatalf("plan item %+v", it)
				}
			}
			got, _ := export(t, dst, transfer.ExportOptions{})
			if alertsOf(t, got) != alertsOf(t, doc) {
				t.Fatalf("after import:\n%s\nwant\n%s", alertsOf(t, got), alertsOf(t, doc))
			}
			chans, err := dst.ListAlertChannels(ctx, switchyard.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			secrets := ""
			for _, c := range chans.Items {
				for _, s := range c.Secrets {
					secrets += s.Reveal() + " "
				}
				if !c.Enabled {
					t.Fatalf("channel %s imported disabled", c.Name)
				}
			}
			for _, c := range []string{canaryHMAC, canarySlack, canarySMTP} {
				if !strings.Contains(secrets, c) {
					t.Fatalf("the imported channels lack %q", c)
				}
			}
			// Once more: nothing changes.
			plan, err = transfer.Import(ctx, dst, d, transfer.ImportOptions{Passphrase: passphrase, NewKey: keys()})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range plan.Items {
				if strings.HasPrefix(it.Kind, "alert") && it.Action != transfer.ActionUnchanged {
					t.Fatalf("second import: %+v", it)
				}
			}
		})
	}
}

// Without the passphrase, channels whose secrets are optional arrive
// disabled, a Slack channel (whose URL is its secret) is skipped, and a
// rule leaves out the channel that did not come.
func TestAlertsImportWithoutSecrets(t *testing.T) {
	src := storetest.SQLite().Open(t)
	seed(t, src)
	seedAlerts(t, src)
	_, raw := export(t, src, transfer.ExportOptions{})
	for _, c := range []string{canaryHMAC, canarySlack, canarySMTP, "0123456789ab"} {
		if strings.Contains(string(raw), c) {
			t.Fatalf("the export shows %q", c)
		}
	}
	dst := fresh(t, storetest.SQLite())
	d, err := transfer.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := transfer.Import(ctx, dst, d, transfer.ImportOptions{NewKey: keys()})
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{}
	for _, it := range plan.Items {
		notes[it.Kind+" "+it.Key] = it.Action + ": " + it.Note
	}
	if !strings.HasPrefix(notes["alert_channel hook"], "create: imported without its secrets") ||
		!strings.HasPrefix(notes["alert_channel slack"], "skip: cannot be created without its secrets") ||
		!strings.HasPrefix(notes["alert_rule errors"], "create: channel slack was not imported") ||
		!strings.HasPrefix(notes["alert_rule Provider down"], "skip") {
		t.Fatalf("notes %q", notes)
	}
	r, err := dst.ListAlertRules(ctx, switchyard.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Items) != 2 || len(r.Items[1].ChannelIDs) != 1 || r.Items[1].ProviderID == "" {
		t.Fatalf("rules %+v", r.Items[1])
	}
}

func TestAlertRuleNamingAnUnknownChannelIsRefused(t *testing.T) {
	dst := fresh(t, storetest.SQLite())
	d, err := transfer.Decode([]byte(`{"format":"switchyard-export","version":1,"secrets":"omitted","templates":[],"providers":[],"connections":[],
		"alert_rules":[{"name":"r","kind":"provider_down","cooldown_minutes":0,"channels":["nowhere"],"provider":"nope"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = transfer.Import(ctx, dst, d, transfer.ImportOptions{NewKey: keys()})
	fields := switchyard.ErrorFields(err)
	if len(fields) != 2 || fields[0].Field != "alert_rules[0].provider" || fields[1].Field != "alert_rules[0].channels[0]" {
		t.Fatalf("err = %v (%+v)", err, fields)
	}
}
