package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// BenchmarkStore measures the common store operations on every configured
// backend. Each sub-benchmark opens its own fresh database, so they do not
// see each other's rows; a backend that is not configured skips.
//
// The bulk insert is slow by design (10,000 rows per iteration); run it with
// a small fixed count, for example:
//
//	go test ./sqlstore -run '^$' -bench 'Store/.*/CreateModels10k' -benchtime=3x -benchmem
func BenchmarkStore(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			b.Run("GetProvider", func(b *testing.B) { benchGetProvider(b, be) })
			b.Run("GetModel", func(b *testing.B) { benchGetModel(b, be) })
			b.Run("ListModels", func(b *testing.B) { benchListModels(b, be) })
			b.Run("ListProviders", func(b *testing.B) { benchListProviders(b, be) })
			b.Run("CreateModels10k", func(b *testing.B) { benchCreateModels10k(b, be) })
			b.Run("UpdateProvider", func(b *testing.B) { benchUpdateProvider(b, be) })
		})
	}
}

// benchProvider is a provider with two API-key credentials and a secret
// header, so reading it decrypts three secrets.
func benchProvider(slug string) *switchyard.Provider {
	return &switchyard.Provider{
		Name: "Provider " + slug, Slug: slug, Protocol: switchyard.ProtocolOpenAI,
		BaseURL: "https://api.openai.com/v1", Enabled: true, Template: "openai",
		Params: map[string]string{"region": "eu"},
		Credentials: []switchyard.Credential{
			{Name: "primary", Method: switchyard.AuthAPIKey, Weight: 2,
				Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("sk-bench-primary-0123456789abcdef")},
				Models:  []string{"gpt-4o-mini"}},
			{Name: "secondary", Method: switchyard.AuthAPIKey, Weight: 1,
				Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("sk-bench-secondary-0123456789abcdef")}},
		},
		Headers:  map[string]switchyard.Secret{"X-Org": switchyard.NewSecret("org-bench")},
		Settings: switchyard.ProviderSettings{TimeoutMS: 30000, MaxRetries: 1},
	}
}

func benchModel(providerID, upstream string) *switchyard.Model {
	return &switchyard.Model{ProviderID: providerID, UpstreamID: upstream, DisplayName: "Model " + upstream,
		Enabled: true, Aliases: []string{"alias-" + upstream},
		Capabilities: switchyard.Capabilities{ContextWindow: 128000, MaxOutputTokens: 16384,
			InputModalities: []string{"text", "image"}, OutputModalities: []string{"text"}, Tools: true, Streaming: true},
		Pricing: switchyard.Pricing{InputPerMTok: 0.15, OutputPerMTok: 0.6}}
}

func benchModels(providerID string, n int) []*switchyard.Model {
	ms := make([]*switchyard.Model, n)
	for i := range ms {
		ms[i] = benchModel(providerID, fmt.Sprintf("model-%05d", i))
	}
	return ms
}

func mustProvider(b *testing.B, db *sqlstore.DB, slug string) *switchyard.Provider {
	b.Helper()
	p := benchProvider(slug)
	if err := db.CreateProvider(context.Background(), p); err != nil {
		b.Fatalf("create provider %s: %v", slug, err)
	}
	return p
}

func benchGetProvider(b *testing.B, be storetest.Backend) {
	ctx := context.Background()
	db := be.Open(b)
	p := mustProvider(b, db, "get")
	b.ReportAllocs()
	for b.Loop() {
		got, err := db.GetProvider(ctx, p.ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(got.Credentials) != 2 || got.Credentials[1].Secrets["api_key"].Reveal() == "" {
			b.Fatalf("got %d credentials, secrets not opened", len(got.Credentials))
		}
	}
}

func benchGetModel(b *testing.B, be storetest.Backend) {
	ctx := context.Background()
	db := be.Open(b)
	p := mustProvider(b, db, "get")
	ms := benchModels(p.ID, 100)
	if err := db.CreateModels(ctx, ms); err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.GetModel(ctx, ms[i%len(ms)].ID); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchListModels(b *testing.B, be storetest.Backend) {
	ctx := context.Background()
	db := be.Open(b)
	p := mustProvider(b, db, "list")
	if err := db.CreateModels(ctx, benchModels(p.ID, 1000)); err != nil {
		b.Fatal(err)
	}
	cursor := ""
	b.ReportAllocs()
	for b.Loop() {
		page, err := db.ListModels(ctx, switchyard.ModelFilter{ListOptions: switchyard.ListOptions{Limit: 50, Cursor: cursor}})
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Items) != 50 {
			b.Fatalf("page of %d models, want 50", len(page.Items))
		}
		cursor = page.NextCursor
	}
}

func benchListProviders(b *testing.B, be storetest.Backend) {
	ctx := context.Background()
	db := be.Open(b)
	for i := range 200 {
		mustProvider(b, db, fmt.Sprintf("p-%03d", i))
	}
	cursor := ""
	b.ReportAllocs()
	for b.Loop() {
		page, err := db.ListProviders(ctx, switchyard.ProviderFilter{ListOptions: switchyard.ListOptions{Limit: 50, Cursor: cursor}})
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Items) != 50 {
			b.Fatalf("page of %d providers, want 50", len(page.Items))
		}
		cursor = page.NextCursor
	}
}

func benchCreateModels10k(b *testing.B, be storetest.Backend) {
	const n = 10_000
	ctx := context.Background()
	db := be.Open(b)
	iters := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		p := mustProvider(b, db, fmt.Sprintf("bulk-%d", iters))
		ms := benchModels(p.ID, n)
		b.StartTimer()
		if err := db.CreateModels(ctx, ms); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(iters)/n, "ns/model")
}

func benchUpdateProvider(b *testing.B, be storetest.Backend) {
	ctx := context.Background()
	db := be.Open(b)
	mustProvider(b, db, "update")
	p, err := db.GetProviderBySlug(ctx, "update")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		p.Name = fmt.Sprintf("Provider update %d", i)
		if err := db.UpdateProvider(ctx, p); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
