package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// forEachBackendWithAdapters is forEachBackend with a control plane that
// builds adapters reaching loopback, where the fakes run, and a background
// context that ends (its runs waited for) when the test does.
func forEachBackendWithAdapters(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			bg, stop := context.WithCancel(context.Background())
			e := newEnvWith(t, b, func(c *control.Config) {
				pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
				if err != nil {
					t.Fatal(err)
				}
				f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
				c.Adapters = func(p *switchyard.Provider, cred switchyard.Credential) (provider.Adapter, error) {
					return f.New(p, cred, nil)
				}
				c.Background, c.ModelTestTimeout = bg, 5*time.Second
			})
			t.Cleanup(func() {
				stop()
				e.ctl.Wait()
			})
			fn(t, e)
		})
	}
}

// fakeProvider starts an OpenAI fake serving models and creates an enabled
// provider for it.
func (e *env) fakeProvider(slug string, models ...string) (*fake.OpenAI, providerDoc) {
	e.t.Helper()
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{canaries[0]}, Models: models})
	srv := httptest.NewServer(up)
	e.t.Cleanup(srv.Close)
	body := newProviderBody(slug)
	body["protocol"], body["base_url"] = "openai", srv.URL+"/v1"
	var p providerDoc
	want(e.t, e.admin("POST", "/api/v1/providers", body), http.StatusCreated).json(e.t, &p)
	return up, p
}

type discoveredDoc struct {
	UpstreamID      string            `json:"upstream_id"`
	DisplayName     string            `json:"display_name"`
	ModelID         string            `json:"model_id"`
	Capabilities    map[string]any    `json:"capabilities"`
	Sources         map[string]string `json:"sources"`
	CatalogTemplate string            `json:"catalog_template"`
	Pricing         struct {
		In float64 `json:"input_per_mtok"`
	} `json:"pricing"`
}

type discoveryDoc struct {
	New       []discoveredDoc `json:"new"`
	Missing   []discoveredDoc `json:"missing"`
	Unchanged []discoveredDoc `json:"unchanged"`
	Created   []modelDoc      `json:"created"`
	Updated   []modelDoc      `json:"updated"`
}

func ids(ds []discoveredDoc) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.UpstreamID)
	}
	return out
}

func find[T any](xs []T, match func(T) bool) T {
	for _, x := range xs {
		if match(x) {
			return x
		}
	}
	var zero T
	return zero
}

func TestModelDiscoveryAndImport(t *testing.T) {
	forEachBackendWithAdapters(t, func(t *testing.T, e *env) {
		_, p := e.fakeProvider("discover", "gpt-4o-mini", "gpt-4.1", "text-embedding-3-small", "house-model")
		// Stored: one the fake lists (with an admin override), one it does not.
		var mini modelDoc
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/models", map[string]any{"upstream_id": "gpt-4o-mini",
			"capabilities": map[string]any{"context_window": 99999}}), http.StatusCreated).json(t, &mini)
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/models", map[string]any{"upstream_id": "retired-model"}), http.StatusCreated)

		var d discoveryDoc
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/discover-models", nil), http.StatusOK).json(t, &d)
		if !slices.Equal(ids(d.New), []string{"gpt-4.1", "house-model", "text-embedding-3-small"}) ||
			!slices.Equal(ids(d.Missing), []string{"retired-model"}) || !slices.Equal(ids(d.Unchanged), []string{"gpt-4o-mini"}) ||
			d.Created != nil {
			t.Fatalf("discovery = %+v", d)
		}
		gpt41 := find(d.New, func(x discoveredDoc) bool { return x.UpstreamID == "gpt-4.1" })
		if gpt41.CatalogTemplate != "openai" || gpt41.Sources["context_window"] != "catalog" || gpt41.Sources["pricing"] != "catalog" ||
			gpt41.Pricing.In == 0 || gpt41.Capabilities["vision"] != true || gpt41.DisplayName == "" || gpt41.ModelID != "" {
			t.Fatalf("gpt-4.1 = %+v", gpt41)
		}
		house := find(d.New, func(x discoveredDoc) bool { return x.UpstreamID == "house-model" })
		if house.CatalogTemplate != "" || house.Sources["context_window"] != "default" || house.Capabilities["streaming"] != true {
			t.Fatalf("an unknown model = %+v", house)
		}
		if u := d.Unchanged[0]; u.ModelID != mini.ID || u.Sources["context_window"] != "override" {
			t.Fatalf("unchanged = %+v", u)
		}
		// Nothing was stored by discovering.
		var list struct{ Items []modelDoc }
		want(t, e.admin("GET", "/api/v1/providers/"+p.ID+"/models", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("discovery stored models: %d", len(list.Items))
		}

		// An id the provider does not list refuses the whole import.
		r := want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/discover-models/import",
			map[string]any{"upstream_ids": []string{"gpt-4.1", "no-such-model"}}), http.StatusBadRequest)
		if pr := r.problem(t); !pr.hasField("upstream_ids[1]") {
			t.Fatalf("problem = %+v", pr)
		}

		// Import two.
		d = discoveryDoc{}
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/discover-models/import",
			map[string]any{"upstream_ids": []string{"gpt-4.1", "text-embedding-3-small"}}), http.StatusOK).json(t, &d)
		if len(d.Created) != 2 || len(d.Updated) != 0 || !slices.Equal(ids(d.New), []string{"house-model"}) ||
			!slices.Equal(ids(d.Unchanged), []string{"gpt-4.1", "gpt-4o-mini", "text-embedding-3-small"}) {
			t.Fatalf("import = %+v", d)
		}
		emb := find(d.Created, func(m modelDoc) bool { return m.UpstreamID == "text-embedding-3-small" })
		if emb.Capabilities["embeddings"] != true || emb.Sources["embeddings"] != "provider" || emb.Sources["pricing"] != "catalog" ||
			emb.Sources["context_window"] != "catalog" || emb.Pricing.In == 0 || emb.ProviderID != p.ID || emb.Version != 1 {
			t.Fatalf("embedding model = %+v", emb)
		}
		created := find(d.Created, func(m modelDoc) bool { return m.UpstreamID == "gpt-4.1" })
		var stored modelDoc
		want(t, e.admin("GET", "/api/v1/models/"+created.ID, nil), http.StatusOK).json(t, &stored)
		if stored.Sources["context_window"] != "catalog" || stored.Capabilities["tools"] != true {
			t.Fatalf("stored gpt-4.1 = %+v", stored)
		}

		// Importing a stored model refreshes its catalog values but keeps
		// the admin's override.
		d = discoveryDoc{}
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/discover-models/import",
			map[string]any{"upstream_ids": []string{"gpt-4o-mini"}}), http.StatusOK).json(t, &d)
		if len(d.Created) != 0 || len(d.Updated) != 1 {
			t.Fatalf("re-import = %+v", d)
		}
		want(t, e.admin("GET", "/api/v1/models/"+mini.ID, nil), http.StatusOK).json(t, &stored)
		if stored.Capabilities["context_window"] != float64(99999) || stored.Sources["context_window"] != "override" ||
			stored.Sources["pricing"] != "catalog" || stored.Pricing.In == 0 {
			t.Fatalf("after re-import = %+v", stored)
		}

		// Every change is audited.
		var audit auditList
		want(t, e.admin("GET", "/api/v1/audit?resource_type=model&resource_id="+created.ID, nil), http.StatusOK).json(t, &audit)
		if len(audit.Items) != 1 || audit.Items[0].Action != "import" || audit.Items[0].ActorID != e.adminID {
			t.Fatalf("audit of the import = %+v", audit.Items)
		}
		want(t, e.admin("GET", "/api/v1/audit?resource_type=model&resource_id="+mini.ID, nil), http.StatusOK).json(t, &audit)
		if len(audit.Items) != 2 || audit.Items[0].Action != "update" {
			t.Fatalf("audit of the re-import = %+v", audit.Items)
		}

		// Users may not discover or import.
		want(t, e.user("POST", "/api/v1/providers/"+p.ID+"/discover-models", nil), http.StatusForbidden)
		want(t, e.user("POST", "/api/v1/providers/"+p.ID+"/discover-models/import", map[string]any{"upstream_ids": []string{"house-model"}}), http.StatusForbidden)
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/disable", nil), http.StatusOK)
		want(t, e.user("POST", "/api/v1/providers/"+p.ID+"/discover-models", nil), http.StatusNotFound)
	})
}

type testResultDoc struct {
	OK           bool   `json:"ok"`
	Code         string `json:"code"`
	LatencyMS    int64  `json:"latency_ms"`
	TTFTMS       int64  `json:"ttft_ms"`
	InputTokens  int    `json:"input_tokens"`
	OutputTokens int    `json:"output_tokens"`
	Checks       []struct {
		Name     string `json:"name"`
		Declared bool   `json:"declared"`
		Result   string `json:"result"`
	} `json:"checks"`
}

func (d testResultDoc) check(name string) string {
	for _, c := range d.Checks {
		if c.Name == name {
			return c.Result
		}
	}
	return ""
}

func TestModelTestThroughTheAPI(t *testing.T) {
	forEachBackendWithAdapters(t, func(t *testing.T, e *env) {
		up, p := e.fakeProvider("tested", "gpt-4o-mini")
		var m modelDoc
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/models", map[string]any{"upstream_id": "gpt-4o-mini",
			"capabilities": map[string]any{"tools": true, "json_mode": true}}), http.StatusCreated).json(t, &m)

		var res testResultDoc
		want(t, e.admin("POST", "/api/v1/models/"+m.ID+"/test", nil), http.StatusOK).json(t, &res)
		if !res.OK || res.Code != "" || res.TTFTMS <= 0 || res.LatencyMS < res.TTFTMS || res.InputTokens == 0 || res.OutputTokens == 0 {
			t.Fatalf("test = %+v", res)
		}
		// The fake streams, calls offered tools, and ignores the response
		// format (its echo is no JSON: inconclusive).
		if res.check("streaming") != "verified" || res.check("tools") != "verified" || res.check("json_mode") != "unknown" ||
			res.check("vision") != "unknown" || res.check("embeddings") != "unknown" || len(res.Checks) != 5 {
			t.Fatalf("checks = %+v", res.Checks)
		}
		var stored struct {
			modelDoc
			LastTest *testResultDoc `json:"last_test"`
		}
		want(t, e.admin("GET", "/api/v1/models/"+m.ID, nil), http.StatusOK).json(t, &stored)
		if stored.Status != "available" || stored.LastTest == nil || !stored.LastTest.OK || stored.Version != m.Version {
			t.Fatalf("after the test: status %s, last test %+v, version %d (was %d)", stored.Status, stored.LastTest, stored.Version, m.Version)
		}

		// A rejected key marks the model unavailable, with the code.
		up.SetFault(fake.Status(401))
		res = testResultDoc{}
		want(t, e.admin("POST", "/api/v1/models/"+m.ID+"/test", nil), http.StatusOK).json(t, &res)
		if res.OK || res.Code != "auth_rejected" {
			t.Fatalf("401: %+v", res)
		}
		up.ClearFaults()
		want(t, e.admin("GET", "/api/v1/models/"+m.ID, nil), http.StatusOK).json(t, &stored)
		if stored.Status != "unavailable" || stored.LastTest.Code != "auth_rejected" || stored.Version != m.Version {
			t.Fatalf("after the failed test: %+v, version %d", stored.LastTest, stored.Version)
		}
		// An If-Match read before the tests still applies.
		want(t, e.send(request{method: "PATCH", path: "/api/v1/models/" + m.ID, token: adminToken,
			body: map[string]any{"display_name": "Mini"}, header: map[string]string{"If-Match": `"1"`}}), http.StatusOK)

		want(t, e.user("POST", "/api/v1/models/"+m.ID+"/test", nil), http.StatusForbidden)
		want(t, e.admin("POST", "/api/v1/models/0193a1b2-0000-7000-8000-0000000000ff/test", nil), http.StatusNotFound)
	})
}

type benchRunDoc struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Requests    int    `json:"requests"`
	Concurrency int    `json:"concurrency"`
	Done        int    `json:"done"`
	Errors      int    `json:"errors"`
	Result      *struct {
		ID         string  `json:"id"`
		Status     string  `json:"status"`
		Requests   int     `json:"requests"`
		Errors     int     `json:"errors"`
		ErrorRate  float64 `json:"error_rate"`
		P50        float64 `json:"p50_ms"`
		P95        float64 `json:"p95_ms"`
		P99        float64 `json:"p99_ms"`
		TTFT       float64 `json:"ttft_ms"`
		TokensPerS float64 `json:"tokens_per_s"`
	} `json:"result"`
}

// waitRun polls the model's benchmark until done says so (bounded).
func (e *env) waitRun(modelID string, done func(benchRunDoc) bool) benchRunDoc {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var r benchRunDoc
		want(e.t, e.admin("GET", "/api/v1/models/"+modelID+"/benchmark", nil), http.StatusOK).json(e.t, &r)
		if done(r) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("benchmark still %+v", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBenchmarkThroughTheAPI(t *testing.T) {
	forEachBackendWithAdapters(t, func(t *testing.T, e *env) {
		up, p := e.fakeProvider("benched", "gpt-4o-mini")
		var m modelDoc
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/models", map[string]any{"upstream_id": "gpt-4o-mini"}), http.StatusCreated).json(t, &m)
		want(t, e.admin("GET", "/api/v1/models/"+m.ID+"/benchmark", nil), http.StatusNotFound)

		// Slow enough to watch: 10 requests, 3 at a time, 60 ms each.
		up.SetFault(fake.Slow(60 * time.Millisecond))
		var run benchRunDoc
		want(t, e.admin("POST", "/api/v1/models/"+m.ID+"/benchmark", map[string]any{"requests": 10, "concurrency": 3}), http.StatusAccepted).json(t, &run)
		if run.Status != "running" || run.Requests != 10 || run.Concurrency != 3 || run.ID == "" {
			t.Fatalf("started = %+v", run)
		}
		// A second start while it runs is refused.
		if p := want(t, e.admin("POST", "/api/v1/models/"+m.ID+"/benchmark", map[string]any{}), http.StatusConflict).problem(t); p.Code != "conflict" {
			t.Fatalf("second start: %+v", p)
		}
		mid := e.waitRun(m.ID, func(r benchRunDoc) bool { return r.Done > 0 })
		if mid.Status == "running" && (mid.Done >= 10 || mid.Result != nil) {
			t.Fatalf("progress = %+v", mid)
		}
		fin := e.waitRun(m.ID, func(r benchRunDoc) bool { return r.Status != "running" })
		up.ClearFaults()
		if fin.Status != "completed" || fin.Done != 10 || fin.Result == nil || fin.Result.Requests != 10 || fin.Result.Errors != 0 ||
			fin.Result.P50 < 60 || fin.Result.P50 > fin.Result.P95 || fin.Result.P95 > fin.Result.P99 || fin.Result.TTFT <= 0 ||
			fin.Result.TTFT > fin.Result.P99 || fin.Result.TokensPerS <= 0 || fin.Result.ID != run.ID {
			t.Fatalf("finished = %+v (result %+v)", fin, fin.Result)
		}
		var stored struct {
			modelDoc
			LastBenchmark *struct {
				ID  string  `json:"id"`
				P99 float64 `json:"p99_ms"`
			} `json:"last_benchmark"`
		}
		want(t, e.admin("GET", "/api/v1/models/"+m.ID, nil), http.StatusOK).json(t, &stored)
		if stored.LastBenchmark == nil || stored.LastBenchmark.ID != run.ID || stored.Version != m.Version {
			t.Fatalf("last benchmark = %+v, version %d", stored.LastBenchmark, stored.Version)
		}

		// Injected 500s are counted.
		up.QueueFault(fake.Status(500), fake.Status(500), fake.Status(500))
		want(t, e.admin("POST", "/api/v1/models/"+m.ID+"/benchmark", map[string]any{"requests": 6, "concurrency": 1}), http.StatusAccepted)
		fin = e.waitRun(m.ID, func(r benchRunDoc) bool { return r.Status != "running" })
		if fin.Result == nil || fin.Result.Errors != 3 || fin.Result.ErrorRate != 0.5 || fin.Errors != 3 {
			t.Fatalf("with 500s = %+v (result %+v)", fin, fin.Result)
		}

		// Cancel a long run.
		up.SetFault(fake.Slow(200 * time.Millisecond))
		want(t, e.admin("POST", "/api/v1/models/"+m.ID+"/benchmark", map[string]any{"requests": 500, "concurrency": 2}), http.StatusAccepted)
		e.waitRun(m.ID, func(r benchRunDoc) bool { return r.Done > 0 })
		want(t, e.admin("DELETE", "/api/v1/models/"+m.ID+"/benchmark", nil), http.StatusOK).json(t, &run)
		up.ClearFaults()
		if run.Status != "cancelled" || run.Done == 0 || run.Done >= 500 || run.Result == nil || run.Result.Status != "cancelled" {
			t.Fatalf("cancelled = %+v", run)
		}
		want(t, e.admin("DELETE", "/api/v1/models/"+m.ID+"/benchmark", nil), http.StatusNotFound)

		// The history keeps every run, newest first; the last completed one
		// stays the model's last benchmark.
		var hist struct {
			Items []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"items"`
		}
		want(t, e.admin("GET", "/api/v1/models/"+m.ID+"/benchmarks", nil), http.StatusOK).json(t, &hist)
		if len(hist.Items) != 3 || hist.Items[0].Status != "cancelled" || hist.Items[2].ID != stored.LastBenchmark.ID {
			t.Fatalf("history = %+v", hist.Items)
		}

		// Bounds, and users.
		r := want(t, e.admin("POST", "/api/v1/models/"+m.ID+"/benchmark", map[string]any{"requests": 501, "concurrency": 17}), http.StatusBadRequest)
		if pr := r.problem(t); pr.Code != "invalid" {
			t.Fatalf("bounds: %+v", pr)
		}
		want(t, e.user("POST", "/api/v1/models/"+m.ID+"/benchmark", map[string]any{}), http.StatusForbidden)
		want(t, e.user("GET", "/api/v1/models/"+m.ID+"/benchmark", nil), http.StatusForbidden)
		want(t, e.user("GET", "/api/v1/models/"+m.ID+"/benchmarks", nil), http.StatusForbidden)
		want(t, e.user("DELETE", "/api/v1/models/"+m.ID+"/benchmark", nil), http.StatusForbidden)
	})
}
