package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/catalog"
)

type templateDoc struct {
	ID         string         `json:"id"`
	Slug       string         `json:"slug"`
	Name       string         `json:"name"`
	System     bool           `json:"system"`
	Version    int64          `json:"version"`
	Parameters map[string]any `json:"parameters"`
	Models     []struct {
		UpstreamID   string         `json:"upstream_id"`
		Capabilities map[string]any `json:"capabilities"`
	} `json:"models"`
}

type instantiateDoc struct {
	Provider providerDoc `json:"provider"`
	Models   []modelDoc  `json:"models"`
}

// sampleParams are parameters that each system template accepts.
var sampleParams = map[string]map[string]any{
	"azure-openai":      {"resource": "contoso"},
	"vertex":            {"project": "my-project-123"},
	"openai-compatible": {"base_url": "https://llm.example.com/v1"},
	"bedrock":           {"region": "eu-central-1"},
	"ollama":            {"host": "gpu-box:11434"},
}

// sampleSecrets are the secrets of an auth method.
func sampleSecrets(method switchyard.AuthMethod) map[string]string {
	switch method {
	case switchyard.AuthAPIKey:
		return map[string]string{"api_key": canaries[5]}
	case switchyard.AuthAWSSigV4:
		return map[string]string{"access_key_id": "AKIAEXAMPLE0000", "secret_access_key": canaries[5]}
	case switchyard.AuthGCPServiceAccount:
		return map[string]string{"service_account_json": `{"type":"service_account","private_key":"` + canaries[5] + `"}`}
	case switchyard.AuthNone:
		return nil
	}
	panic("no sample secrets for " + string(method))
}

func TestInstantiateEverySystemTemplate(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, tpl := range cat.Templates {
			slug := "mine-" + tpl.Slug
			body := map[string]any{"name": "Mine " + tpl.Name, "slug": slug, "enabled": true}
			if p := sampleParams[tpl.Slug]; p != nil {
				body["params"] = p
			}
			if s := sampleSecrets(tpl.AuthMethod); s != nil {
				body["secrets"] = s
			}
			var preview instantiateDoc
			want(t, e.admin("POST", "/api/v1/templates/"+tpl.Slug+"/preview", body), http.StatusOK).json(t, &preview)
			p := preview.Provider
			if p.Slug != slug || p.ID != "" || len(p.Credentials) != 1 || len(preview.Models) != len(tpl.Models) {
				t.Fatalf("%s: preview = %+v", tpl.Slug, preview)
			}
			for k, v := range p.Credentials[0].Secrets {
				if !v.Set {
					t.Errorf("%s: preview secret %s not set", tpl.Slug, k)
				}
			}
			if p.Name != "Mine "+tpl.Name || p.Enabled != true {
				t.Fatalf("%s: preview = %+v", tpl.Slug, p)
			}
			if _, err := e.db.GetProviderBySlug(t.Context(), slug); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
				t.Fatalf("%s: the preview saved a provider (%v)", tpl.Slug, err)
			}

			r := want(t, e.admin("POST", "/api/v1/templates/"+tpl.Slug+"/instantiate", body), http.StatusCreated)
			var made instantiateDoc
			r.json(t, &made)
			if made.Provider.ID == "" || r.Header.Get("Location") != "/api/v1/providers/"+made.Provider.ID ||
				len(made.Models) != len(tpl.Models) || !made.Provider.Enabled {
				t.Fatalf("%s: instantiated %+v, Location %q", tpl.Slug, made, r.Header.Get("Location"))
			}
			var list modelList
			want(t, e.admin("GET", "/api/v1/providers/"+made.Provider.ID+"/models?limit=1000", nil), http.StatusOK).json(t, &list)
			if len(list.Items) != len(tpl.Models) {
				t.Fatalf("%s: %d models stored, want %d", tpl.Slug, len(list.Items), len(tpl.Models))
			}
			stored, err := e.db.GetProvider(t.Context(), made.Provider.ID)
			if err != nil || stored.Template != tpl.Slug || stored.System {
				t.Fatalf("%s: stored %+v, %v", tpl.Slug, stored, err)
			}
			for k := range sampleSecrets(tpl.AuthMethod) {
				if !stored.Credentials[0].Secrets[k].IsSet() {
					t.Fatalf("%s: secret %s not stored", tpl.Slug, k)
				}
			}
			// The same slug again is a conflict, for preview and instantiate.
			for _, op := range []string{"preview", "instantiate"} {
				r = want(t, e.admin("POST", "/api/v1/templates/"+tpl.Slug+"/"+op, body), http.StatusConflict)
				if !r.problem(t).hasField("slug") {
					t.Fatalf("%s: problem = %s", tpl.Slug, r.Body)
				}
			}
		}

		// A bad or missing parameter is named.
		r := want(t, e.admin("POST", "/api/v1/templates/azure-openai/preview", map[string]any{"slug": "bad",
			"params": map[string]any{"resource": "bad host!"}}), http.StatusBadRequest)
		if !r.problem(t).hasField("params.resource") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.admin("POST", "/api/v1/templates/vertex/instantiate", map[string]any{"slug": "bad",
			"params": map[string]any{"location": "x", "zone": "y"}}), http.StatusBadRequest)
		if pd := r.problem(t); !pd.hasField("params.project") || !pd.hasField("params.location") || !pd.hasField("params.zone") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Enabled without secrets names the missing secret.
		r = want(t, e.admin("POST", "/api/v1/templates/openai/instantiate", map[string]any{"slug": "no-key", "enabled": true}), http.StatusBadRequest)
		if !r.problem(t).hasField("credentials[0].secrets.api_key") {
			t.Fatalf("problem = %s", r.Body)
		}
		if _, err := e.db.GetProviderBySlug(t.Context(), "no-key"); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
			t.Fatal("a refused instantiation saved a provider")
		}
		// A template's slug as the provider slug is taken by its system provider.
		r = want(t, e.admin("POST", "/api/v1/templates/openai/preview", map[string]any{}), http.StatusConflict)
		if !r.problem(t).hasField("slug") {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.admin("POST", "/api/v1/templates/no-such-template/preview", map[string]any{}), http.StatusNotFound)
	})
}

func customTemplateBody(slug string) map[string]any {
	return map[string]any{
		"slug": slug, "name": "Corporate gateway", "protocol": "openai_compatible",
		"base_url": "https://{host}/v1", "auth_method": "api_key",
		"parameters": map[string]any{"type": "object", "required": []string{"host"}, "additionalProperties": false,
			"properties": map[string]any{"host": map[string]any{"type": "string", "pattern": "^[a-z0-9.-]+$",
				"examples": []string{"llm.corp.example"}}}},
		"models": []map[string]any{{"upstream_id": "corp-llm", "capabilities": map[string]any{"context_window": 8000},
			"pricing": map[string]any{"input_per_mtok": 0.5, "output_per_mtok": 1.5}}},
	}
}

func TestCustomTemplateLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := want(t, e.admin("POST", "/api/v1/templates", customTemplateBody("corp-gateway")), http.StatusCreated)
		var tpl templateDoc
		r.json(t, &tpl)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/templates/"+tpl.ID || tpl.System ||
			len(tpl.Models) != 1 || tpl.Models[0].Capabilities["context_window"] != float64(8000) ||
			tpl.Models[0].Capabilities["streaming"] != true || tpl.Parameters["type"] != "object" {
			t.Fatalf("created %+v; ETag %q Location %q", tpl, r.Header.Get("ETag"), r.Header.Get("Location"))
		}
		// By id and by slug.
		for _, ref := range []string{tpl.ID, tpl.Slug} {
			if r := want(t, e.admin("GET", "/api/v1/templates/"+ref, nil), http.StatusOK); r.Header.Get("ETag") != `"1"` {
				t.Fatalf("ETag %q", r.Header.Get("ETag"))
			}
		}
		var list struct {
			Items []templateDoc `json:"items"`
		}
		want(t, e.admin("GET", "/api/v1/templates?system=false", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != tpl.ID {
			t.Fatalf("custom templates = %+v", list.Items)
		}
		want(t, e.admin("GET", "/api/v1/templates?protocol=vertex&limit=1000", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].Slug != "vertex" {
			t.Fatalf("vertex templates = %+v", list.Items)
		}

		// Validation: a substituted parameter needs a pattern, the schema
		// must compile, the slug must be free.
		body := customTemplateBody("loose")
		body["parameters"].(map[string]any)["properties"].(map[string]any)["host"] = map[string]any{"type": "string"}
		r = want(t, e.admin("POST", "/api/v1/templates", body), http.StatusBadRequest)
		if !r.problem(t).hasField("parameters.properties.host") {
			t.Fatalf("problem = %s", r.Body)
		}
		body = customTemplateBody("broken")
		body["parameters"].(map[string]any)["type"] = 5
		r = want(t, e.admin("POST", "/api/v1/templates", body), http.StatusBadRequest)
		if pd := r.problem(t); !pd.hasField("parameters") && !pd.hasField("parameters.type") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.admin("POST", "/api/v1/templates", customTemplateBody("corp-gateway")), http.StatusConflict)
		if !r.problem(t).hasField("slug") {
			t.Fatalf("problem = %s", r.Body)
		}
		body = customTemplateBody("openai")
		want(t, e.admin("POST", "/api/v1/templates", body), http.StatusConflict)
		body = customTemplateBody("extra")
		body["system"] = true
		r = want(t, e.admin("POST", "/api/v1/templates", body), http.StatusBadRequest)
		if !r.problem(t).hasField("system") {
			t.Fatalf("problem = %s", r.Body)
		}

		// PATCH with If-Match, by slug; a stale one is 412; an update is
		// validated like a create.
		r = want(t, e.send(request{method: "PATCH", path: "/api/v1/templates/corp-gateway", token: adminToken,
			header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"description": "Our gateway"}}), http.StatusOK)
		if r.Header.Get("ETag") != `"2"` {
			t.Fatalf("ETag %q", r.Header.Get("ETag"))
		}
		want(t, e.send(request{method: "PATCH", path: "/api/v1/templates/" + tpl.ID, token: adminToken,
			header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"name": "Lost"}}), http.StatusPreconditionFailed)
		r = want(t, e.admin("PATCH", "/api/v1/templates/"+tpl.ID, map[string]any{"base_url": "https://{host}/{path}"}), http.StatusBadRequest)
		if !r.problem(t).hasField("base_url") {
			t.Fatalf("problem = %s", r.Body)
		}

		// Instantiate the custom template.
		var made instantiateDoc
		want(t, e.admin("POST", "/api/v1/templates/corp-gateway/instantiate", map[string]any{"slug": "corp",
			"params": map[string]any{"host": "llm.corp.example"}, "secrets": map[string]any{"api_key": canaries[5]}, "enabled": true}),
			http.StatusCreated).json(t, &made)
		if len(made.Models) != 1 || made.Models[0].Pricing.In != 0.5 || made.Models[0].Sources["pricing"] != "catalog" {
			t.Fatalf("instantiated %+v", made)
		}
		r = want(t, e.admin("POST", "/api/v1/templates/corp-gateway/preview", map[string]any{"slug": "corp2",
			"params": map[string]any{"host": "evil.example/x?"}}), http.StatusBadRequest)
		if !r.problem(t).hasField("params.host") {
			t.Fatalf("problem = %s", r.Body)
		}

		// System templates are read-only.
		for _, ref := range []string{"openai", systemTemplateID(t, e, "openai")} {
			r = want(t, e.admin("PATCH", "/api/v1/templates/"+ref, map[string]any{"name": "Mine"}), http.StatusForbidden)
			if r.problem(t).Code != "forbidden" {
				t.Fatalf("problem = %s", r.Body)
			}
			want(t, e.admin("DELETE", "/api/v1/templates/"+ref, nil), http.StatusForbidden)
		}
		if got, _ := e.db.GetTemplateBySlug(t.Context(), "openai"); got.Name != "OpenAI" || got.Version != 1 {
			t.Fatalf("a system template changed: %+v", got)
		}

		// DELETE honours If-Match; the provider made from it stays.
		want(t, e.send(request{method: "DELETE", path: "/api/v1/templates/" + tpl.ID, token: adminToken,
			header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
		want(t, e.admin("DELETE", "/api/v1/templates/corp-gateway", nil), http.StatusNoContent)
		want(t, e.admin("GET", "/api/v1/templates/"+tpl.ID, nil), http.StatusNotFound)
		want(t, e.admin("GET", "/api/v1/providers/"+made.Provider.ID, nil), http.StatusOK)

		audit, err := e.db.ListAudit(t.Context(), switchyard.AuditFilter{ResourceType: "template", ResourceID: tpl.ID})
		if err != nil || len(audit.Items) != 3 {
			t.Fatalf("template audit: %d entries, %v", len(audit.Items), err)
		}
		audit, err = e.db.ListAudit(t.Context(), switchyard.AuditFilter{ResourceID: made.Provider.ID})
		if err != nil || len(audit.Items) != 1 || audit.Items[0].Action != "create" {
			t.Fatalf("instantiated provider audit: %+v, %v", audit.Items, err)
		}
	})
}

func systemTemplateID(t *testing.T, e *env, slug string) string {
	t.Helper()
	tpl, err := e.db.GetTemplateBySlug(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return tpl.ID
}

func TestTemplatesRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		var custom templateDoc
		want(t, e.admin("POST", "/api/v1/templates", customTemplateBody("corp-gateway")), http.StatusCreated).json(t, &custom)
		inst := map[string]any{"slug": "by-user", "params": map[string]any{"host": "llm.corp.example"}}
		type call struct {
			method, path string
			body         any
			user         int // the status a user gets
		}
		calls := []call{
			{"GET", "/api/v1/templates", nil, http.StatusForbidden},
			{"POST", "/api/v1/templates", customTemplateBody("users-own"), http.StatusForbidden},
		}
		for _, ref := range []string{custom.ID, "corp-gateway", "openai", "no-such-template"} {
			calls = append(calls,
				call{"GET", "/api/v1/templates/" + ref, nil, http.StatusNotFound},
				call{"PATCH", "/api/v1/templates/" + ref, map[string]any{"name": "x"}, http.StatusNotFound},
				call{"DELETE", "/api/v1/templates/" + ref, nil, http.StatusNotFound},
				call{"POST", "/api/v1/templates/" + ref + "/preview", inst, http.StatusNotFound},
				call{"POST", "/api/v1/templates/" + ref + "/instantiate", inst, http.StatusNotFound},
			)
		}
		for _, c := range calls {
			if r := e.user(c.method, c.path, c.body); r.Status != c.user {
				t.Errorf("user %s %s answered %d, want %d: %s", c.method, c.path, r.Status, c.user, r.Body)
			}
			if r := e.anon(c.method, c.path, c.body); r.Status != http.StatusUnauthorized {
				t.Errorf("anonymous %s %s answered %d", c.method, c.path, r.Status)
			}
		}
		// Nothing changed.
		got, err := e.db.GetTemplate(t.Context(), custom.ID)
		if err != nil || got.Version != 1 || got.Name != "Corporate gateway" {
			t.Fatalf("template changed: %+v, %v", got, err)
		}
		for _, slug := range []string{"by-user", "users-own"} {
			if _, err := e.db.GetProviderBySlug(t.Context(), slug); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
				t.Fatalf("a refused request created provider %s", slug)
			}
		}
		if _, err := e.db.GetTemplateBySlug(t.Context(), "users-own"); switchyard.ErrorCode(err) != switchyard.ENOTFOUND {
			t.Fatal("a refused request created a template")
		}
		// The admin may do all of it.
		want(t, e.admin("GET", "/api/v1/templates", nil), http.StatusOK)
		want(t, e.admin("POST", "/api/v1/templates/corp-gateway/preview", inst), http.StatusOK)
		want(t, e.admin("POST", "/api/v1/templates/corp-gateway/instantiate", inst), http.StatusCreated)
		want(t, e.admin("PATCH", "/api/v1/templates/corp-gateway", map[string]any{"name": "x"}), http.StatusOK)
		want(t, e.admin("DELETE", "/api/v1/templates/corp-gateway", nil), http.StatusNoContent)
	})
}
