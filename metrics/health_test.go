package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/metrics"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
)

type source struct{}

func (source) ListProviders(context.Context, switchyard.ProviderFilter) (switchyard.Page[*switchyard.Provider], error) {
	return switchyard.Page[*switchyard.Provider]{Items: []*switchyard.Provider{{ID: "p1", Slug: "openai-prod", Enabled: true}}}, nil
}

func (source) ListModels(context.Context, switchyard.ModelFilter) (switchyard.Page[*switchyard.Model], error) {
	return switchyard.Page[*switchyard.Model]{}, nil
}

func (source) ListConnections(context.Context, switchyard.ConnectionFilter) (switchyard.Page[*switchyard.Connection], error) {
	return switchyard.Page[*switchyard.Connection]{}, nil
}

func (source) ListUsers(context.Context, switchyard.UserFilter) (switchyard.Page[*switchyard.User], error) {
	return switchyard.Page[*switchyard.User]{}, nil
}

type nopAdapter struct{ provider.Adapter }

type statuses map[string]switchyard.ProviderStatus

func (s statuses) Status(id string) switchyard.ProviderStatus { return s[id] }

func TestMetricsExposeProviderStatus(t *testing.T) {
	reg := registry.New(registry.Config{Source: source{},
		NewAdapter: func(*switchyard.Provider, switchyard.Credential, provider.Doer) (provider.Adapter, error) {
			return nopAdapter{}, nil
		}})
	if err := reg.Reload(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	metrics.Handler(metrics.Config{Registry: reg, Health: statuses{"p1": switchyard.StatusDegraded}}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{`switchyard_provider_status{provider="openai-prod",status="degraded"} 1`,
		`switchyard_provider_status{provider="openai-prod",status="healthy"} 0`,
		`switchyard_provider_status{provider="openai-prod",status="down"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
