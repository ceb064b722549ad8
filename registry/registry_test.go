package registry_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

var ctx = context.Background()

// nopAdapter stands in for a protocol adapter.
type nopAdapter struct{ provider.Adapter }

func adapters(p *switchyard.Provider, c switchyard.Credential, _ provider.Doer) (provider.Adapter, error) {
	if c.Config["broken"] == "yes" {
		return nil, errors.New("cannot build")
	}
	return nopAdapter{}, nil
}

func addProvider(t testing.TB, db *sqlstore.DB, slug string, enabled bool, models ...*switchyard.Model) *switchyard.Provider {
	t.Helper()
	p := &switchyard.Provider{Name: slug, Slug: slug, Protocol: switchyard.ProtocolOpenAICompatible, BaseURL: "https://" + slug + ".example/v1",
		Enabled: enabled, Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("sk-registry-test-0123456789")}}}}
	if err := db.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		m.ProviderID = p.ID
		if m.Status == "" {
			m.Enabled = true
		}
	}
	if len(models) > 0 {
		if err := db.CreateModels(ctx, models); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func model(id string, aliases ...string) *switchyard.Model {
	return &switchyard.Model{UpstreamID: id, Aliases: aliases, Enabled: true}
}

func TestResolve(t *testing.T) {
	db := storetest.SQLite().Open(t)
	first := addProvider(t, db, "alpha", true, model("gpt-4o-mini", "fast"), model("shared"))
	second := addProvider(t, db, "beta", true, model("shared"), model("meta-llama/llama-3", "llama"))
	addProvider(t, db, "off", false, model("hidden"))
	disabledModel := model("disabled-model")
	addProvider(t, db, "gamma", true, disabledModel)
	disabledModel.Enabled = false
	if err := db.UpdateModel(ctx, disabledModel); err != nil {
		t.Fatal(err)
	}
	r := registry.New(registry.Config{Source: db, NewAdapter: adapters})
	if err := r.Reload(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	s := r.Current()
	tests := []struct {
		name      string
		providers []string
	}{
		{"gpt-4o-mini", []string{"alpha"}},
		{"fast", []string{"alpha"}},
		{"alpha/gpt-4o-mini", []string{"alpha"}},
		{"alpha/fast", []string{"alpha"}},
		{"shared", []string{"alpha", "beta"}},
		{"beta/shared", []string{"beta"}},
		{"meta-llama/llama-3", []string{"beta"}},
		{"beta/meta-llama/llama-3", []string{"beta"}},
		{"llama", []string{"beta"}},
		{"hidden", nil},
		{"off/hidden", nil},
		{"disabled-model", nil},
		{"nothing", nil},
	}
	for _, tt := range tests {
		routes := s.Resolve(tt.name)
		var got []string
		for _, rt := range routes {
			got = append(got, rt.Provider.Slug)
		}
		if len(got) != len(tt.providers) {
			t.Errorf("Resolve(%q) = %v, want %v", tt.name, got, tt.providers)
			continue
		}
		for i := range got {
			if got[i] != tt.providers[i] {
				t.Errorf("Resolve(%q) = %v, want %v (in creation order)", tt.name, got, tt.providers)
			}
		}
	}
	if p, ok := s.Provider(first.ID); !ok || len(p.Keys) != 1 {
		t.Fatalf("provider by id: %v %v", p, ok)
	}
	if _, ok := s.Provider(second.ID); !ok {
		t.Fatal("second provider missing")
	}
	if s.Models != 4 || len(s.Providers) != 3 || s.Version != 1 || s.Reason != "test" {
		t.Fatalf("snapshot: %d models, %d providers, version %d, reason %q", s.Models, len(s.Providers), s.Version, s.Reason)
	}
	if n := testing.AllocsPerRun(1000, func() { _ = s.Resolve("beta/shared"); _ = s.Resolve("fast") }); n != 0 {
		t.Fatalf("Resolve allocates %.1f times per call, want 0", n)
	}
}

func TestReloadSwapsAndReportsProblems(t *testing.T) {
	db := storetest.SQLite().Open(t)
	p := addProvider(t, db, "alpha", true, model("m1"))
	r := registry.New(registry.Config{Source: db, NewAdapter: adapters})
	if err := r.Reload(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	old := r.Current()
	if len(old.Resolve("m1")) != 1 {
		t.Fatal("m1 not routable")
	}
	// Disabling the provider takes it out at the next reload; a request
	// holding the old snapshot still sees it.
	p.Enabled = false
	if err := db.UpdateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(ctx, "provider disabled"); err != nil {
		t.Fatal(err)
	}
	if len(r.Current().Resolve("m1")) != 0 || len(old.Resolve("m1")) != 1 || r.Current().Version != old.Version+1 {
		t.Fatal("the reload did not swap the snapshot, or changed the old one")
	}
	// A credential whose adapter cannot be built is reported, not fatal.
	broken := &switchyard.Provider{Name: "broken", Slug: "broken", Protocol: switchyard.ProtocolOpenAICompatible, BaseURL: "https://b.example/v1",
		Enabled: true, Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthNone, Config: nil}}}
	if err := db.CreateProvider(ctx, broken); err != nil {
		t.Fatal(err)
	}
	brokenAdapters := func(pp *switchyard.Provider, c switchyard.Credential, d provider.Doer) (provider.Adapter, error) {
		if pp.Slug == "broken" {
			return nil, errors.New("cannot build")
		}
		return adapters(pp, c, d)
	}
	r2 := registry.New(registry.Config{Source: db, NewAdapter: brokenAdapters})
	if err := r2.Reload(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	s := r2.Current()
	if _, ok := s.Provider(broken.ID); ok || len(s.Errors) == 0 || s.Errors[0].Provider != "broken" {
		t.Fatalf("errors = %+v", s.Errors)
	}
	// When the source fails, the last good snapshot stays and says so.
	before := r2.Current()
	fr := registry.New(registry.Config{Source: failing{db}, NewAdapter: adapters})
	if err := fr.Reload(ctx, "x"); err == nil {
		t.Fatal("a failing source reloaded")
	}
	if _, err, stale := fr.Stale(); !stale || err == nil {
		t.Fatal("a failed reload is not reported")
	}
	if r2.Current() != before {
		t.Fatal("snapshot changed")
	}
}

type failing struct{ registry.Source }

func (failing) ListProviders(context.Context, switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error) {
	return switchyard.Page[*switchyard.Provider]{}, errors.New("database gone")
}

func TestUndecryptableSecretIsReported(t *testing.T) {
	db := storetest.SQLite().Open(t)
	good := addProvider(t, db, "good", true, model("m"))
	bad := addProvider(t, db, "bad", true, model("m"))
	// Move the good provider's sealed secret into the bad one's row: it no
	// longer opens there.
	if _, err := db.SQL().Exec(`UPDATE provider_credentials SET secrets = (SELECT secrets FROM provider_credentials WHERE provider_id = ?) WHERE provider_id = ?`, good.ID, bad.ID); err != nil {
		t.Fatal(err)
	}
	r := registry.New(registry.Config{Source: db, NewAdapter: adapters})
	if err := r.Reload(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	s := r.Current()
	if len(s.Resolve("m")) != 1 || s.Resolve("m")[0].Provider.Slug != "good" {
		t.Fatalf("routes for m: %d", len(s.Resolve("m")))
	}
	found := false
	for _, e := range s.Errors {
		if e.Provider == "bad" {
			found = true
		}
	}
	if !found {
		t.Fatalf("the undecryptable credential is not reported: %+v", s.Errors)
	}
}

func TestSystemProviderForOldStyleConnections(t *testing.T) {
	db := storetest.SQLite().Open(t)
	p := &switchyard.Provider{Name: "OpenAI", Slug: "openai", Protocol: switchyard.ProtocolOpenAI, BaseURL: "https://api.openai.com/v1",
		System: true, SystemType: "openai", Enabled: true, Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("sk-system-0123456789abcdef")}}}}
	if err := db.CreateProvider(ctx, p); err != nil {
		t.Fatal(err)
	}
	r := registry.New(registry.Config{Source: db, NewAdapter: adapters})
	if err := r.Reload(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	if sp, ok := r.Current().System("openai"); !ok || sp.ID != p.ID {
		t.Fatal("old-style type openai does not resolve to its system provider")
	}
	if _, ok := r.Current().System("anthropic"); ok {
		t.Fatal("a type without an enabled system provider resolved")
	}
}

func BenchmarkResolve(b *testing.B) {
	db := storetest.SQLite().Open(b)
	for i := range 20 {
		var ms []*switchyard.Model
		for j := range 25 {
			ms = append(ms, model("model-"+strconv.Itoa(i)+"-"+strconv.Itoa(j), "alias-"+strconv.Itoa(i)+"-"+strconv.Itoa(j)))
		}
		addProvider(b, db, "p"+strconv.Itoa(i), true, ms...)
	}
	r := registry.New(registry.Config{Source: db, NewAdapter: adapters})
	if err := r.Reload(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s := r.Current()
		if len(s.Resolve("p7/alias-7-3")) != 1 || len(s.Resolve("model-12-20")) != 1 {
			b.Fatal("not found")
		}
	}
}
