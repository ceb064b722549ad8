package sqlstore_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// dumpAll is every table's content, to compare states.
func dumpAll(t *testing.T, b storetest.Backend, db *sqlstore.DB) string {
	t.Helper()
	var buf bytes.Buffer
	m, err := db.Backup(context.Background(), &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	var sums []string
	for _, tb := range m.Tables {
		sums = append(sums, tb.Name+":"+tb.SHA256)
	}
	return strings.Join(sums, "\n")
}

func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	const key = "sk-backup-canary-0123456789abcdef"
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			u := &switchyard.User{Username: "bo", Role: switchyard.RoleAdmin, Email: "bo@example.com"}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			p := &switchyard.Provider{Name: "P", Slug: "p", Protocol: switchyard.ProtocolOpenAI, BaseURL: "https://api.openai.com/v1", Enabled: true,
				Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey, Weight: 1,
					Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(key)}}}}
			if err := db.CreateProvider(ctx, p); err != nil {
				t.Fatal(err)
			}
			m := &switchyard.Model{ProviderID: p.ID, UpstreamID: "gpt-4o-mini", Enabled: true, Aliases: []string{"fast"},
				Capabilities: switchyard.Capabilities{ContextWindow: 128000, InputModalities: []string{"text"}}, Pricing: switchyard.Pricing{InputPerMTok: 0.15}}
			if err := db.CreateModel(ctx, m); err != nil {
				t.Fatal(err)
			}
			if err := db.AppendUsage(ctx, []switchyard.UsageEvent{{At: time.Now(), Status: switchyard.UsageOK, CostUSD: 0.5, InputTokens: 10}}); err != nil {
				t.Fatal(err)
			}
			// Rollups carry their histograms as bytes.
			hour := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			if err := db.ReplaceRollups(ctx, switchyard.ResolutionHour, hour, hour.Add(time.Hour), []switchyard.UsageRollup{{
				Resolution: switchyard.ResolutionHour, Bucket: hour, ProviderID: p.ID, ModelID: m.ID, ConnectionID: "c", UserID: u.ID,
				Requests: 3, Errors: 1, ErrorClasses: map[string]int64{"timeout": 1}, CostUSD: 0.25,
				Latency: []byte{1, 40, 2, 0xff, 0x01}, TTFT: []byte{1, 7, 1}}}, hour.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			before := dumpAll(t, b, db)

			var backup bytes.Buffer
			man, err := db.Backup(ctx, &backup, "manual")
			if err != nil {
				t.Fatal(err)
			}
			if man.Dialect != b.Name || man.SchemaVersion == 0 || len(man.MasterKeyIDs) != 1 || man.Rows() < 5 || man.Note != "manual" {
				t.Fatalf("manifest = %+v", man)
			}
			if bytes.Contains(backup.Bytes(), []byte(key)) {
				t.Fatal("the backup holds a secret in the clear")
			}
			// Change things, then restore.
			p.Name, p.Version = "changed", 1
			if err := db.UpdateProvider(ctx, p); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteModel(ctx, m.ID, 0); err != nil {
				t.Fatal(err)
			}
			if err := db.CreateUser(ctx, &switchyard.User{Username: "late", Role: switchyard.RoleUser}); err != nil {
				t.Fatal(err)
			}
			v0, _ := db.ChangeVersion(ctx)
			got, err := db.Restore(ctx, bytes.NewReader(backup.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got.Rows() != man.Rows() {
				t.Fatalf("restored %d rows, backed up %d", got.Rows(), man.Rows())
			}
			if after := dumpAll(t, b, db); after != before {
				t.Fatalf("after restore:\n%s\nbefore:\n%s", after, before)
			}
			var rolled []switchyard.UsageRollup
			if err := db.ListRollups(ctx, switchyard.RollupFilter{Resolution: switchyard.ResolutionHour}, func(r *switchyard.UsageRollup) error {
				c := *r
				c.Latency = append([]byte(nil), r.Latency...)
				rolled = append(rolled, c)
				return nil
			}); err != nil || len(rolled) != 1 || !bytes.Equal(rolled[0].Latency, []byte{1, 40, 2, 0xff, 0x01}) || rolled[0].ErrorClasses["timeout"] != 1 {
				t.Fatalf("restored rollups = %+v, %v", rolled, err)
			}
			rp, err := db.GetProviderBySlug(ctx, "p")
			if err != nil || rp.Name != "P" || rp.Credentials[0].Secrets["api_key"].Reveal() != key {
				t.Fatalf("restored provider = %+v, %v", rp, err)
			}
			if v1, _ := db.ChangeVersion(ctx); v1 <= v0 {
				t.Fatalf("change version %d after restore, %d before: replicas would not reload", v1, v0)
			}

			// A damaged backup changes nothing.
			raw := backup.Bytes()
			for _, bad := range [][]byte{raw[:len(raw)/2], []byte("not a backup"), {}} {
				if _, err := db.Restore(ctx, bytes.NewReader(bad)); err == nil {
					t.Fatal("a damaged backup was restored")
				}
			}
			if after := dumpAll(t, b, db); after != before {
				t.Fatal("a failed restore changed the database")
			}
			// A backup restores only at its own schema version.
			if _, err := db.MigrateDown(ctx, man.SchemaVersion-1); err != nil {
				t.Fatal(err)
			}
			_, err = db.Restore(ctx, bytes.NewReader(raw))
			if switchyard.ErrorCode(err) != switchyard.EINVALID || !strings.Contains(err.Error(), "schema version") {
				t.Fatalf("restore at another schema version: %v", err)
			}
		})
	}
}
