package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

func TestExportAndImportThroughTheAPI(t *testing.T) {
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
	p := e.newProvider("exported", true)
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/models", map[string]any{"upstream_id": "gpt-x", "aliases": []string{"x"}}), http.StatusCreated)

	plain := want(t, e.admin("GET", "/api/v1/export", nil), http.StatusOK)
	var doc map[string]any
	plain.json(t, &doc)
	if doc["format"] != "switchyard-export" || doc["secrets"] != "omitted" || !strings.Contains(string(plain.Body), `"slug":"exported"`) {
		t.Fatalf("export = %s", plain.Body)
	}
	sealed := want(t, e.send(request{method: "GET", path: "/api/v1/export?provider=exported", token: adminToken,
		header: map[string]string{"X-Switchyard-Passphrase": "a long enough passphrase"}}), http.StatusOK)
	if !strings.Contains(string(sealed.Body), "BEGIN AGE ENCRYPTED FILE") || strings.Contains(string(sealed.Body), `"slug":"openai"`) {
		t.Fatalf("sealed, filtered export = %.400s", sealed.Body)
	}
	want(t, e.send(request{method: "GET", path: "/api/v1/export", token: adminToken,
		header: map[string]string{"X-Switchyard-Passphrase": "short"}}), http.StatusBadRequest)

	// The same document (the provider, its model and the built-in alert
	// rule) changes nothing; with a changed name and rename,
	// a dry run plans a copy and writes nothing.
	changed := strings.Replace(string(sealed.Body), `"name":"Provider exported"`, `"name":"Provider copy"`, 1)
	imp := func(query, pass string, status int) map[string]any {
		t.Helper()
		r := request{method: "POST", path: "/api/v1/import" + query, token: adminToken, body: changed}
		if pass != "" {
			r.header = map[string]string{"X-Switchyard-Passphrase": pass}
		}
		var plan map[string]any
		want(t, e.send(r), status).json(t, &plan)
		return plan
	}
	var same map[string]any
	want(t, e.send(request{method: "POST", path: "/api/v1/import", token: adminToken, body: sealed.Body}), http.StatusOK).json(t, &same)
	if s, _ := json.Marshal(same["summary"]); string(s) != `{"unchanged":3}` || same["secrets"] != "not_opened" {
		t.Fatalf("importing the export itself: %v", same)
	}
	plan := imp("?on_conflict=rename", "a long enough passphrase", http.StatusOK)
	items, _ := json.Marshal(plan["items"])
	if plan["dry_run"] != true || !strings.Contains(string(items), `"renamed_to":"exported-2"`) {
		t.Fatalf("dry run plan = %v", plan)
	}
	if len(reg.Current().Resolve("exported-2/x")) != 0 {
		t.Fatal("a dry run created the copy")
	}
	// Applied: the copy is routable at once, with the secrets it was
	// exported with.
	plan = imp("?mode=apply&on_conflict=rename", "a long enough passphrase", http.StatusOK)
	if plan["dry_run"] != false || plan["secrets"] != "imported" {
		t.Fatalf("applied plan = %v", plan)
	}
	if len(reg.Current().Resolve("exported-2/x")) != 1 {
		t.Fatal("an imported provider is not routable")
	}
	var audit struct {
		Items []struct{ Action, ResourceType string } `json:"items"`
	}
	want(t, e.admin("GET", "/api/v1/audit?resource_type=configuration", nil), http.StatusOK).json(t, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Action != "import" {
		t.Fatalf("audit = %+v", audit)
	}
	// Bad input: a wrong passphrase, a broken item named by its path.
	prob := imp("?mode=apply", "the wrong passphrase!", http.StatusBadRequest)
	if !strings.Contains(prob["detail"].(string), "passphrase") {
		t.Fatalf("wrong passphrase: %v", prob)
	}
	bad := strings.Replace(string(plain.Body), `"upstream_id":"gpt-x"`, `"upstream_id":""`, 1)
	var pd problemDoc
	want(t, e.send(request{method: "POST", path: "/api/v1/import?mode=apply", token: adminToken, body: bad}), http.StatusBadRequest).json(t, &pd)
	if !pd.hasField("providers[0].models[0].upstream_id") && !hasFieldSuffix(pd, ".models[0].upstream_id") {
		t.Fatalf("problem = %+v", pd)
	}

	// Users may do neither.
	want(t, e.user("GET", "/api/v1/export", nil), http.StatusForbidden)
	want(t, e.send(request{method: "POST", path: "/api/v1/import", token: e.userToken, body: plain.Body}), http.StatusForbidden)
	want(t, e.anon("GET", "/api/v1/export", nil), http.StatusUnauthorized)
}

func hasFieldSuffix(p problemDoc, suffix string) bool {
	for _, f := range p.Errors {
		if strings.HasSuffix(f.Field, suffix) {
			return true
		}
	}
	return false
}
