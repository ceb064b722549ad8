package catalog_test

import (
	"context"
	"slices"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			db := b.Open(t)
			c, err := catalog.Load()
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Seed(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.TemplatesCreated) != len(c.Templates) || len(res.TemplatesUpdated) != 0 {
				t.Fatalf("first seed: %d templates created, %d updated; want %d and 0", len(res.TemplatesCreated), len(res.TemplatesUpdated), len(c.Templates))
			}
			for _, slug := range []string{"openai", "anthropic", "bedrock", "gemini", "mistral", "groq", "ollama"} {
				if !slices.Contains(res.ProvidersCreated, slug) {
					t.Errorf("no system provider for %s; created %v", slug, res.ProvidersCreated)
				}
			}
			for _, slug := range []string{"azure-openai", "vertex", "openai-compatible"} {
				if slices.Contains(res.ProvidersCreated, slug) {
					t.Errorf("system provider %s needs parameters and must not be seeded", slug)
				}
			}
			p, err := db.GetProviderBySlug(ctx, "openai")
			if err != nil {
				t.Fatal(err)
			}
			if !p.System || p.SystemType != "openai" || p.Enabled || p.EffectiveStatus() != switchyard.StatusDisabled {
				t.Fatalf("system provider openai = %+v", p)
			}
			models, _ := db.ListModels(ctx, switchyard.ModelFilter{ProviderID: p.ID})
			if len(models.Items) == 0 || models.Items[0].SourceOf("context_window") != switchyard.SourceCatalog {
				t.Fatalf("system provider openai has %d models from the catalog", len(models.Items))
			}

			// Seeding again changes nothing.
			again, err := c.Seed(ctx, db)
			if err != nil || again.Changed() {
				t.Fatalf("second seed changed %+v (%v)", again, err)
			}

			// An admin enables the system provider and sets its key.
			p.Enabled, p.Name = true, "OpenAI (ours)"
			p.Credentials[0].Secrets = map[string]switchyard.Secret{"api_key": switchyard.NewSecret("sk-admin-set-key-0123456789")}
			if err := db.UpdateProvider(ctx, p); err != nil {
				t.Fatal(err)
			}
			// A newer binary brings a newer catalog with a changed template.
			newer, _ := catalog.Load()
			newer.Version = c.Version + 1
			tpl, _ := newer.Template("openai")
			tpl.Description = "updated by a newer catalog"
			up, err := newer.Seed(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if len(up.TemplatesUpdated) != len(c.Templates) || len(up.ProvidersCreated) != 0 {
				t.Fatalf("upgrade seed: %+v", up)
			}
			stored, _ := db.GetTemplateBySlug(ctx, "openai")
			if stored.Description != "updated by a newer catalog" || stored.CatalogVersion != c.Version+1 {
				t.Fatalf("template not updated: %q v%d", stored.Description, stored.CatalogVersion)
			}
			kept, _ := db.GetProviderBySlug(ctx, "openai")
			if !kept.Enabled || kept.Name != "OpenAI (ours)" || kept.Credentials[0].Secrets["api_key"].Reveal() != "sk-admin-set-key-0123456789" {
				t.Fatalf("the upgrade touched the admin's provider: %+v", kept)
			}
			// An older binary does not downgrade.
			if old, err := c.Seed(ctx, db); err != nil || old.Changed() {
				t.Fatalf("older catalog changed %+v (%v)", old, err)
			}
		})
	}
}

func TestSeedLeavesCustomSlugsAlone(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite().Open(t)
	custom := &switchyard.ProviderTemplate{Slug: "groq", Name: "My Groq", Protocol: switchyard.ProtocolOpenAICompatible,
		BaseURL: "https://groq.internal.example/v1", AuthMethod: switchyard.AuthNone}
	if err := db.CreateTemplate(ctx, custom); err != nil {
		t.Fatal(err)
	}
	mine := &switchyard.Provider{Name: "Mine", Slug: "mistral", Protocol: switchyard.ProtocolOpenAICompatible,
		BaseURL: "https://mistral.internal.example/v1", Enabled: true}
	if err := db.CreateProvider(ctx, mine); err != nil {
		t.Fatal(err)
	}
	c, _ := catalog.Load()
	res, err := c.Seed(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 2 || slices.Contains(res.TemplatesCreated, "groq") || slices.Contains(res.ProvidersCreated, "mistral") {
		t.Fatalf("seed result %+v", res)
	}
	got, _ := db.GetTemplateBySlug(ctx, "groq")
	if got.System || got.Name != "My Groq" {
		t.Fatalf("custom template overwritten: %+v", got)
	}
}
