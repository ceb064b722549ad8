package transfer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
	"github.com/switchyard/switchyard/transfer"
)

var ctx = context.Background()

const (
	canaryKey    = "sk-canary-transfer-0123456789abcdef"
	canaryHeader = "hdr-canary-transfer-0123456789abcdef"
	canaryConn   = "sk-canary-byo-transfer-0123456789ab"
	passphrase   = "correct horse battery staple"
)

var fixed = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

// keys makes gateway keys for created connections.
func keys() func() (string, string, string, error) {
	n := 0
	return func() (string, string, string, error) {
		n++
		k := fmt.Sprintf("sk-sy-imported-%d", n)
		return k, "hash-" + k, k[:8], nil
	}
}

// seed fills a store with what an installation holds: a custom template,
// a provider with a secret key and header and models, a connection with
// its own credential and one naming a provider type.
func seed(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	owner := &switchyard.User{Username: "ada", Role: switchyard.RoleUser, Email: "ada@example.com"}
	if err := db.CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	tpl := &switchyard.ProviderTemplate{Slug: "team-vllm", Name: "Team vLLM", Protocol: switchyard.ProtocolOpenAICompatible,
		BaseURL: "https://{host}/v1", AuthMethod: switchyard.AuthAPIKey,
		Parameters: json.RawMessage(`{"type":"object","properties":{"host":{"type":"string"}},"required":["host"]}`),
		Models:     []switchyard.TemplateModel{{UpstreamID: "llama-3.1-8b"}}}
	if err := db.CreateTemplate(ctx, tpl); err != nil {
		t.Fatal(err)
	}
	p := &switchyard.Provider{Name: "OpenAI prod", Slug: "openai-prod", Protocol: switchyard.ProtocolOpenAI,
		BaseURL: "https://api.openai.com/v1", Enabled: true, Settings: switchyard.ProviderSettings{TimeoutMS: 30000, MaxRetries: 2},
		Headers: map[string]switchyard.Secret{"OpenAI-Organization": switchyard.NewSecret(canaryHeader)},
		Credentials: []switchyard.Credential{{Name: "primary", Method: switchyard.AuthAPIKey, Weight: 3,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(canaryKey)}}}}
	if err := db.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gpt-4o-mini", "gpt-4o"} {
		m := &switchyard.Model{ProviderID: p.ID, UpstreamID: id, DisplayName: strings.ToUpper(id), Enabled: true, Aliases: []string{"a-" + id},
			Capabilities: switchyard.Capabilities{ContextWindow: 128000, MaxOutputTokens: 16384, InputModalities: []string{"text"},
				OutputModalities: []string{"text"}, Streaming: true, Tools: true},
			Pricing: switchyard.Pricing{InputPerMTok: 0.15, OutputPerMTok: 0.6}}
		if err := db.CreateModel(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*switchyard.Connection{
		{Name: "billing", OwnerID: owner.ID, ProviderID: p.ID, KeyHash: "h1", KeyPrefix: "sk-sy-h1", Enabled: true, RateLimitRPM: 60, BudgetUSD: 25,
			Credential: &switchyard.Credential{Name: "byo", Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(canaryConn)}}},
		{Name: "legacy", OwnerID: owner.ID, ProviderType: "openai", KeyHash: "h2", KeyPrefix: "sk-sy-h2", Enabled: true},
	} {
		if err := db.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
}

// fresh is an installation with the catalog's counterpart of what seed
// relies on: the user that owns connections.
func fresh(t *testing.T, b storetest.Backend) *sqlstore.DB {
	t.Helper()
	db := b.Open(t)
	if err := db.CreateUser(ctx, &switchyard.User{Username: "ada", Role: switchyard.RoleUser, Email: "ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	return db
}

func export(t *testing.T, db *sqlstore.DB, opts transfer.ExportOptions) (*transfer.Document, []byte) {
	t.Helper()
	opts.Now = fixed
	d, err := transfer.Export(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Encode("json")
	if err != nil {
		t.Fatal(err)
	}
	return d, b
}

// comparable drops what differs between two exports of the same state.
func comparable(t *testing.T, d *transfer.Document) string {
	t.Helper()
	c := *d
	c.Sealed, c.Secrets = "", ""
	b, _ := json.Marshal(c)
	return string(b)
}

func TestRoundTripBetweenDatabases(t *testing.T) {
	pg := storetest.Postgres()
	lite := storetest.SQLite()
	src := lite.Open(t)
	seed(t, src)
	doc, raw := export(t, src, transfer.ExportOptions{Passphrase: passphrase})
	for _, canary := range []string{canaryKey, canaryHeader, canaryConn, canaryKey[len(canaryKey)-10:]} {
		if strings.Contains(string(raw), canary) {
			t.Fatalf("a sealed export shows a secret in the clear: %q", canary)
		}
	}
	// SQLite → PostgreSQL → SQLite, through the encoded document.
	hop := func(from []byte, to *sqlstore.DB) {
		t.Helper()
		d, err := transfer.Decode(from)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := transfer.Import(ctx, to, d, transfer.ImportOptions{Passphrase: passphrase, NewKey: keys()})
		if err != nil {
			t.Fatal(err)
		}
		if plan.Summary[transfer.ActionCreate] == 0 || plan.Summary[transfer.ActionSkip] != 0 || plan.Secrets != "imported" {
			t.Fatalf("plan = %+v", plan.Summary)
		}
	}
	mid := fresh(t, pg)
	hop(raw, mid)
	_, midRaw := export(t, mid, transfer.ExportOptions{Passphrase: passphrase})
	back := fresh(t, lite)
	hop(midRaw, back)
	got, _ := export(t, back, transfer.ExportOptions{})
	if comparable(t, got) != comparable(t, doc) {
		t.Fatalf("after SQLite → PostgreSQL → SQLite:\n%s\nwant\n%s", comparable(t, got), comparable(t, doc))
	}
	// The secrets work after import.
	for _, db := range []*sqlstore.DB{mid, back} {
		p, err := db.GetProviderBySlug(ctx, "openai-prod")
		if err != nil {
			t.Fatal(err)
		}
		if p.Credentials[0].Secrets["api_key"].Reveal() != canaryKey || p.Headers["OpenAI-Organization"].Reveal() != canaryHeader || !p.Enabled {
			t.Fatalf("imported provider lost its secrets or was disabled: %+v", p)
		}
	}
	// Importing the same document again changes nothing.
	d, _ := transfer.Decode(raw)
	plan, err := transfer.Import(ctx, back, d, transfer.ImportOptions{Passphrase: passphrase, NewKey: keys()})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Summary[transfer.ActionUnchanged] != len(plan.Items) {
		t.Fatalf("a second import of the same document plans %+v", plan.Items)
	}
}

func TestExportWithoutPassphraseHasNoSecret(t *testing.T) {
	src := storetest.SQLite().Open(t)
	seed(t, src)
	for _, format := range []string{"json", "yaml"} {
		d, err := transfer.Export(ctx, src, transfer.ExportOptions{Now: fixed})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := d.Encode(format)
		if err != nil {
			t.Fatal(err)
		}
		for _, canary := range []string{canaryKey, canaryHeader, canaryConn, "0123456789ab", "abcdef"} {
			if strings.Contains(string(raw), canary) {
				t.Fatalf("%s export without a passphrase contains %q", format, canary)
			}
		}
		if !strings.Contains(string(raw), "openai-prod") || !strings.Contains(string(raw), "team-vllm") {
			t.Fatalf("%s export lacks items:\n%s", format, raw)
		}
		// A fresh installation gets the providers, disabled until their
		// secrets are set; the connection with its own key is skipped.
		dst := fresh(t, storetest.SQLite())
		back, err := transfer.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := transfer.Import(ctx, dst, back, transfer.ImportOptions{NewKey: keys()})
		if err != nil {
			t.Fatal(err)
		}
		p, err := dst.GetProviderBySlug(ctx, "openai-prod")
		if err != nil || p.Enabled {
			t.Fatalf("provider imported without secrets: %+v, %v", p, err)
		}
		notes := map[string]string{}
		for _, it := range plan.Items {
			notes[it.Key] = it.Action + ": " + it.Note
		}
		if !strings.Contains(notes["openai-prod"], "create: imported without its secrets: it stays disabled until") ||
			!strings.Contains(notes["ada/billing"], "skip: it brings its own credential") ||
			!strings.Contains(notes["ada/legacy"], "create: a new gateway key is issued") {
			t.Fatalf("plan notes = %q", notes)
		}
	}
}

// A redacted import over an installation keeps its secrets.
func TestImportWithoutSecretsKeepsExistingOnes(t *testing.T) {
	db := storetest.SQLite().Open(t)
	seed(t, db)
	d, _ := export(t, db, transfer.ExportOptions{})
	d.Providers[0].Settings.TimeoutMS = 45000
	plan, err := transfer.Import(ctx, db, d, transfer.ImportOptions{OnConflict: transfer.OnConflictOverwrite, NewKey: keys()})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := db.GetProviderBySlug(ctx, "openai-prod")
	if p.Settings.TimeoutMS != 45000 || p.Credentials[0].Secrets["api_key"].Reveal() != canaryKey || p.Headers["OpenAI-Organization"].Reveal() != canaryHeader || !p.Enabled {
		t.Fatalf("after overwrite without secrets: %+v", p)
	}
	if plan.Summary[transfer.ActionUpdate] != 1 {
		t.Fatalf("plan = %+v", plan.Summary)
	}
}

func TestImportOneBadItemAmongAThousandChangesNothing(t *testing.T) {
	db := fresh(t, storetest.SQLite())
	d := &transfer.Document{Format: transfer.Format, Version: transfer.Version, Secrets: transfer.SecretsOmitted}
	p := transfer.Provider{Slug: "big", Name: "Big", Protocol: switchyard.ProtocolOpenAICompatible, BaseURL: "https://llm.example.com/v1",
		Credentials: []transfer.Credential{{Name: "k", Method: switchyard.AuthAPIKey, Weight: 1}}}
	for i := range 1000 {
		p.Models = append(p.Models, transfer.Model{UpstreamID: fmt.Sprintf("model-%04d", i), Enabled: true,
			Capabilities: switchyard.Capabilities{ContextWindow: 8192, MaxOutputTokens: 1024}})
	}
	p.Models[537].Pricing.InputPerMTok = -1
	d.Providers = []transfer.Provider{p}
	raw, _ := d.Encode("json")
	doc, err := transfer.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		_, err := transfer.Import(ctx, db, doc, transfer.ImportOptions{DryRun: dry, NewKey: keys()})
		if switchyard.ErrorCode(err) != switchyard.EINVALID {
			t.Fatalf("dry run %v: %v, want invalid", dry, err)
		}
		fields := switchyard.ErrorFields(err)
		if len(fields) != 1 || fields[0].Field != "providers[0].models[537].pricing.input_per_mtok" {
			t.Fatalf("problems = %+v, want one naming providers[0].models[537].pricing.input_per_mtok", fields)
		}
	}
	if _, err := db.GetProviderBySlug(ctx, "big"); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
		t.Fatalf("an invalid import stored the provider: %v", err)
	}
	// Mended, a dry run plans 1,001 creations and writes none.
	doc.Providers[0].Models[537].Pricing.InputPerMTok = 1
	plan, err := transfer.Import(ctx, db, doc, transfer.ImportOptions{DryRun: true, NewKey: keys()})
	if err != nil || plan.Summary[transfer.ActionCreate] != 1001 || !plan.DryRun {
		t.Fatalf("dry run: %+v, %v", plan, err)
	}
	if _, err := db.GetProviderBySlug(ctx, "big"); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
		t.Fatalf("a dry run wrote: %v", err)
	}
	// A failure while applying (the store failing on the 991st model)
	// rolls everything back.
	_, err = transfer.Import(ctx, failingStore{DB: db, failOn: "model-0990"}, doc, transfer.ImportOptions{NewKey: keys()})
	if err == nil || !strings.Contains(err.Error(), "providers[0].models[990]") {
		t.Fatalf("apply with a clash = %v, want an error naming providers[0].models[990]", err)
	}
	if _, err := db.GetProviderBySlug(ctx, "big"); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
		t.Fatalf("a failed import left the provider behind: %v", err)
	}
}

// failingStore fails creating one model inside the import's transaction.
type failingStore struct {
	*sqlstore.DB
	failOn string
}

func (f failingStore) InTx(ctx context.Context, fn func(tx switchyard.Store) error) error {
	return f.DB.InTx(ctx, func(tx switchyard.Store) error { return fn(failingTx{Store: tx, failOn: f.failOn}) })
}

type failingTx struct {
	switchyard.Store
	failOn string
}

func (f failingTx) CreateModel(ctx context.Context, m *switchyard.Model) error {
	if m.UpstreamID == f.failOn {
		return errors.New("disk full")
	}
	return f.Store.CreateModel(ctx, m)
}

func TestImportConflictStrategies(t *testing.T) {
	db := storetest.SQLite().Open(t)
	seed(t, db)
	d, _ := export(t, db, transfer.ExportOptions{Passphrase: passphrase})
	d.Providers[0].Name = "OpenAI (changed)"
	d.Providers[0].Models[0].Pricing.OutputPerMTok = 9
	d.Templates[0].Description = "changed"

	find := func(p *transfer.Plan, key string) transfer.PlanItem {
		for _, it := range p.Items {
			if it.Key == key {
				return it
			}
		}
		t.Fatalf("no plan item %q in %+v", key, p.Items)
		return transfer.PlanItem{}
	}
	plan, err := transfer.Import(ctx, db, d, transfer.ImportOptions{Passphrase: passphrase, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if it := find(plan, "openai-prod"); it.Action != transfer.ActionSkip || !it.Conflict || strings.Join(it.Changes, ",") != "name" {
		t.Fatalf("skip: %+v", it)
	}
	if it := find(plan, "openai-prod/gpt-4o"); it.Action != transfer.ActionSkip {
		t.Fatalf("model of a skipped provider: %+v", it)
	}
	if it := find(plan, "ada/legacy"); it.Action != transfer.ActionUnchanged {
		t.Fatalf("unchanged connection: %+v", it)
	}

	plan, err = transfer.Import(ctx, db, d, transfer.ImportOptions{Passphrase: passphrase, OnConflict: transfer.OnConflictOverwrite, NewKey: keys()})
	if err != nil {
		t.Fatal(err)
	}
	if it := find(plan, "openai-prod/gpt-4o"); it.Action != transfer.ActionUpdate || strings.Join(it.Changes, ",") != "pricing" {
		t.Fatalf("overwrite model: %+v", it)
	}
	p, _ := db.GetProviderBySlug(ctx, "openai-prod")
	if p.Name != "OpenAI (changed)" {
		t.Fatalf("overwrite did not apply: %q", p.Name)
	}

	d.Providers[0].Name = "Renamed copy"
	d.Templates[0].Description = "changed again"
	plan, err = transfer.Import(ctx, db, d, transfer.ImportOptions{Passphrase: passphrase, OnConflict: transfer.OnConflictRename, NewKey: keys()})
	if err != nil {
		t.Fatal(err)
	}
	if it := find(plan, "openai-prod"); it.Action != transfer.ActionRename || it.RenamedTo != "openai-prod-2" {
		t.Fatalf("rename: %+v", it)
	}
	cp, err := db.GetProviderBySlug(ctx, "openai-prod-2")
	if err != nil || cp.Name != "Renamed copy" || cp.Credentials[0].Secrets["api_key"].Reveal() != canaryKey {
		t.Fatalf("renamed copy: %+v, %v", cp, err)
	}
	if _, err := db.GetTemplateBySlug(ctx, "team-vllm-2"); err != nil {
		t.Fatalf("renamed template: %v", err)
	}
}

func TestImportRefusesWhatItCannotRead(t *testing.T) {
	db := storetest.SQLite().Open(t)
	seed(t, db)
	d, raw := export(t, db, transfer.ExportOptions{Passphrase: passphrase})
	if _, err := transfer.Import(ctx, db, d, transfer.ImportOptions{Passphrase: "not the passphrase at all"}); switchyard.ErrorCode(err) != switchyard.EINVALID ||
		!strings.Contains(err.Error(), "passphrase does not open") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := transfer.Export(ctx, db, transfer.ExportOptions{Passphrase: "short"}); switchyard.ErrorCode(err) != switchyard.EINVALID {
		t.Fatalf("short passphrase: %v", err)
	}
	for _, tc := range []struct{ doc, want string }{
		{`[1, 2]`, "must be an object"},
		{`{"format": "something-else", "version": 1}`, "format"},
		{`{"format": "switchyard-export", "version": 99}`, "newer Switchyard"},
		{`{"format": "switchyard-export", "version": 1, "providers": [{"slug": "x", "colour": "red"}]}`, `unknown field "colour"`},
		{strings.Replace(string(raw), `"version": 1`, `"version": "one"`, 1), "version"},
	} {
		_, err := transfer.Decode([]byte(tc.doc))
		if switchyard.ErrorCode(err) != switchyard.EINVALID || !strings.Contains(err.Error()+fmt.Sprint(switchyard.ErrorFields(err)), tc.want) {
			t.Errorf("Decode(%.60s…) = %v, want invalid mentioning %q", tc.doc, err, tc.want)
		}
	}
	// Values that look like indirections are data, never followed.
	d2, _ := export(t, db, transfer.ExportOptions{})
	d2.Providers[0].Params = map[string]string{"region": "os.environ/DATABASE_URL"}
	d2.Providers[0].Name = "${SWITCHYARD_MASTER_KEY}"
	if _, err := transfer.Import(ctx, db, d2, transfer.ImportOptions{OnConflict: transfer.OnConflictOverwrite, NewKey: keys()}); err != nil {
		t.Fatal(err)
	}
	p, _ := db.GetProviderBySlug(ctx, "openai-prod")
	if p.Params["region"] != "os.environ/DATABASE_URL" || p.Name != "${SWITCHYARD_MASTER_KEY}" {
		t.Fatalf("indirections were resolved: %+v", p.Params)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"format": "switchyard-export", "version": 1, "providers": [{"slug": "a", "models": [{"upstream_id": "m"}]}]}`))
	f.Add([]byte("format: switchyard-export\nversion: 1\ntemplates: []\n"))
	f.Add([]byte(`{"format": "switchyard-export", "version": 1, "sealed": "-----BEGIN AGE ENCRYPTED FILE-----"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := transfer.Decode(b)
		if err != nil {
			if switchyard.ErrorCode(err) != switchyard.EINVALID {
				t.Fatalf("a bad document gave %v, want invalid", err)
			}
			return
		}
		if _, err := d.Encode("json"); err != nil {
			t.Fatalf("a decoded document does not encode: %v", err)
		}
	})
}
