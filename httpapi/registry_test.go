package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore/storetest"

	"github.com/switchyard/switchyard"
)

type nopAdapter struct{ provider.Adapter }

func TestRegistryFollowsChangesMadeThroughTheAPI(t *testing.T) {
	var reg *registry.Registry
	e := newEnvWith(t, storetest.SQLite(), func(c *control.Config) {
		reg = registry.New(registry.Config{Source: c.Store.(registry.Source),
			NewAdapter: func(*switchyard.Provider, switchyard.Credential, provider.Doer) (provider.Adapter, error) {
				return nopAdapter{}, nil
			}})
		if err := reg.Reload(t.Context(), "start"); err != nil {
			t.Fatal(err)
		}
		c.Store, c.Registry = reg.Track(c.Store), reg
	})
	var p providerDoc
	want(t, e.admin("POST", "/api/v1/providers", newProviderBody("routed")), http.StatusCreated).json(t, &p)
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/models", map[string]any{"upstream_id": "gpt-routed", "aliases": []string{"rt"}}), http.StatusCreated)
	if len(reg.Current().Resolve("routed/rt")) != 1 {
		t.Fatal("a model added through the API is not routable at once")
	}
	var status struct {
		Version   int64 `json:"version"`
		Models    int   `json:"models"`
		Providers []struct {
			Slug   string `json:"slug"`
			Keys   int    `json:"keys"`
			Models int    `json:"models"`
		} `json:"providers"`
		Reason string `json:"reason"`
	}
	want(t, e.admin("GET", "/api/v1/registry", nil), http.StatusOK).json(t, &status)
	if status.Models != 1 || len(status.Providers) != 1 || status.Providers[0].Slug != "routed" || status.Providers[0].Keys != 1 ||
		status.Providers[0].Models != 1 || status.Reason != "model created" {
		t.Fatalf("registry = %+v", status)
	}
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/disable", nil), http.StatusOK)
	if len(reg.Current().Resolve("gpt-routed")) != 0 {
		t.Fatal("a disabled provider is still routable")
	}
	want(t, e.user("GET", "/api/v1/registry", nil), http.StatusForbidden)
}
