package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type providerDoc struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Slug        string         `json:"slug"`
	Enabled     bool           `json:"enabled"`
	Status      string         `json:"status"`
	System      bool           `json:"system"`
	Version     int64          `json:"version"`
	Credentials []credDoc      `json:"credentials"`
	Headers     map[string]any `json:"headers"`
	Settings    map[string]int `json:"settings"`
}

type credDoc struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Secrets map[string]struct {
		Set  bool   `json:"set"`
		Hint string `json:"hint"`
	} `json:"secrets"`
}

func newProviderBody(slug string) map[string]any {
	return map[string]any{
		"name": "Provider " + slug, "slug": slug, "protocol": "openai", "base_url": "https://api.openai.com/v1",
		"credentials": []map[string]any{{"name": "primary", "method": "api_key", "secrets": map[string]any{"api_key": canaries[0]}}},
		"headers":     map[string]any{"X-Org": canaries[1]},
		"settings":    map[string]any{"timeout_ms": 30000, "max_retries": 2},
	}
}

// newProvider creates an enabled (or disabled) custom provider as the admin.
func (e *env) newProvider(slug string, enabled bool) providerDoc {
	e.t.Helper()
	body := newProviderBody(slug)
	body["enabled"] = enabled
	var p providerDoc
	want(e.t, e.admin("POST", "/api/v1/providers", body), http.StatusCreated).json(e.t, &p)
	return p
}

func TestProviderLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := want(t, e.admin("POST", "/api/v1/providers", newProviderBody("openai-prod")), http.StatusCreated)
		var p providerDoc
		r.json(t, &p)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/providers/"+p.ID {
			t.Fatalf("ETag %q Location %q", r.Header.Get("ETag"), r.Header.Get("Location"))
		}
		if len(p.Credentials) != 1 || !p.Credentials[0].Secrets["api_key"].Set || p.Credentials[0].Secrets["api_key"].Hint != "sk-…a9c" && !strings.HasPrefix(p.Credentials[0].Secrets["api_key"].Hint, "sk-…") {
			t.Fatalf("credential view = %+v", p.Credentials)
		}
		if p.Headers["X-Org"] == nil || !p.Enabled || p.Status != "unknown" {
			t.Fatalf("provider = %+v", p)
		}

		// PATCH without the secret keeps it; the list shows it still set.
		r = want(t, e.send(request{method: "PATCH", path: "/api/v1/providers/" + p.ID, token: adminToken,
			header: map[string]string{"If-Match": `"1"`},
			body:   map[string]any{"name": "Renamed", "settings": map[string]any{"timeout_ms": 5000}}}), http.StatusOK)
		var patched providerDoc
		r.json(t, &patched)
		if patched.Name != "Renamed" || patched.Version != 2 || patched.Settings["timeout_ms"] != 5000 || patched.Settings["max_retries"] != 2 ||
			!patched.Credentials[0].Secrets["api_key"].Set || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("patched = %+v", patched)
		}
		stored, err := e.db.GetProvider(t.Context(), p.ID)
		if err != nil || stored.Credentials[0].Secrets["api_key"].Reveal() != canaries[0] || stored.Headers["X-Org"].Reveal() != canaries[1] {
			t.Fatalf("the PATCH lost a secret: %v", err)
		}

		// A stale If-Match is refused with 412 and changes nothing.
		r = want(t, e.send(request{method: "PATCH", path: "/api/v1/providers/" + p.ID, token: adminToken,
			header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"name": "Lost"}}), http.StatusPreconditionFailed)
		if r.problem(t).Code != "stale_version" {
			t.Fatalf("stale problem = %s", r.Body)
		}

		// Replace the credential list: keep the first by id, clear nothing,
		// add an AWS one; remove a header with null.
		r = want(t, e.admin("PATCH", "/api/v1/providers/"+p.ID, map[string]any{
			"credentials": []map[string]any{
				{"id": p.Credentials[0].ID, "name": "primary", "method": "api_key"},
				{"name": "aws", "method": "aws_sigv4", "config": map[string]any{"region": "eu-west-1"},
					"secrets": map[string]any{"access_key_id": "AKIAEXAMPLE", "secret_access_key": canaries[2]}},
			},
			"headers": map[string]any{"X-Org": nil},
		}), http.StatusOK)
		patched = providerDoc{}
		r.json(t, &patched)
		if len(patched.Credentials) != 2 || len(patched.Headers) != 0 || !patched.Credentials[0].Secrets["api_key"].Set {
			t.Fatalf("after credential patch: %+v", patched)
		}
		// An unknown credential id is named.
		r = want(t, e.admin("PATCH", "/api/v1/providers/"+p.ID, map[string]any{
			"credentials": []map[string]any{{"id": "no-such", "name": "x", "method": "api_key"}}}), http.StatusBadRequest)
		if !r.problem(t).hasField("credentials[0].id") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Clearing a required secret of an enabled provider is refused.
		r = want(t, e.admin("PATCH", "/api/v1/providers/"+p.ID, map[string]any{
			"credentials": []map[string]any{{"id": p.Credentials[0].ID, "name": "primary", "method": "api_key", "secrets": map[string]any{"api_key": nil}}}}), http.StatusBadRequest)
		if !r.problem(t).hasField("credentials[0].secrets.api_key") {
			t.Fatalf("problem = %s", r.Body)
		}

		// Disable and enable.
		r = want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/disable", nil), http.StatusOK)
		r.json(t, &patched)
		if patched.Enabled || patched.Status != "disabled" {
			t.Fatalf("disabled = %+v", patched)
		}
		want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/enable", nil), http.StatusOK)

		// List, filters and search.
		var list struct {
			Items      []providerDoc `json:"items"`
			NextCursor *string       `json:"next_cursor"`
		}
		want(t, e.admin("GET", "/api/v1/providers?system=false&q=renamed", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != p.ID || list.NextCursor != nil {
			t.Fatalf("search = %+v", list)
		}
		want(t, e.admin("GET", "/api/v1/providers?limit=5", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 5 || list.NextCursor == nil {
			t.Fatalf("first page of the seeded providers: %d items, cursor %v", len(list.Items), list.NextCursor)
		}
		want(t, e.admin("GET", "/api/v1/providers?limit=5&cursor="+*list.NextCursor, nil), http.StatusOK)

		// System providers cannot be deleted; custom ones can, with If-Match.
		want(t, e.admin("GET", "/api/v1/providers?system=true&limit=1", nil), http.StatusOK).json(t, &list)
		r = want(t, e.admin("DELETE", "/api/v1/providers/"+list.Items[0].ID, nil), http.StatusForbidden)
		if r.problem(t).Code != "forbidden" {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.send(request{method: "DELETE", path: "/api/v1/providers/" + p.ID, token: adminToken, header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
		want(t, e.admin("DELETE", "/api/v1/providers/"+p.ID, nil), http.StatusNoContent)
		want(t, e.admin("GET", "/api/v1/providers/"+p.ID, nil), http.StatusNotFound)
	})
}

func TestProviderInputErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		// Every bad field at once, by name.
		r := want(t, e.admin("POST", "/api/v1/providers", map[string]any{"name": "", "slug": "Bad Slug", "protocol": "openai",
			"base_url": "ftp://x", "credentials": []map[string]any{{"name": "k", "method": "oauth2_client_credentials"}}}), http.StatusBadRequest)
		pd := r.problem(t)
		for _, f := range []string{"name", "slug", "base_url", "credentials[0].config.client_id", "credentials[0].config.token_url"} {
			if !pd.hasField(f) {
				t.Errorf("problem does not name %s: %s", f, r.Body)
			}
		}
		// Unknown fields are refused by name, also nested ones.
		body := newProviderBody("unknown-fields")
		body["api_base"] = "https://attacker.example"
		body["credentials"].([]map[string]any)[0]["token_url_override"] = "x"
		r = want(t, e.admin("POST", "/api/v1/providers", body), http.StatusBadRequest)
		pd = r.problem(t)
		if !pd.hasField("api_base") || !pd.hasField("credentials[0].token_url_override") {
			t.Fatalf("unknown fields not named: %s", r.Body)
		}
		// Wrong enum value and wrong type are named.
		r = want(t, e.admin("POST", "/api/v1/providers", map[string]any{"name": "x", "slug": "x", "protocol": "smoke", "base_url": 5}), http.StatusBadRequest)
		pd = r.problem(t)
		if !pd.hasField("protocol") || !pd.hasField("base_url") {
			t.Fatalf("problem = %s", r.Body)
		}
		// A taken slug is 409 naming the slug.
		want(t, e.admin("POST", "/api/v1/providers", newProviderBody("taken")), http.StatusCreated)
		r = want(t, e.admin("POST", "/api/v1/providers", newProviderBody("taken")), http.StatusConflict)
		if !r.problem(t).hasField("slug") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Malformed JSON, wrong content type, too large, bad query.
		want(t, e.send(request{method: "POST", path: "/api/v1/providers", token: adminToken, body: "{not json"}), http.StatusBadRequest)
		r = want(t, e.send(request{method: "POST", path: "/api/v1/providers", token: adminToken, body: "a=b",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}), http.StatusUnsupportedMediaType)
		if r.problem(t).Code != "unsupported_media_type" {
			t.Fatalf("problem = %s", r.Body)
		}
		big := newProviderBody("big")
		big["name"] = strings.Repeat("x", 70<<10)
		r = want(t, e.admin("POST", "/api/v1/providers", big), http.StatusRequestEntityTooLarge)
		if r.problem(t).Code != "too_large" {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.admin("GET", "/api/v1/providers?limit=0", nil), http.StatusBadRequest)
		if !r.problem(t).hasField("limit") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.admin("GET", "/api/v1/providers?cursor=%21%21", nil), http.StatusBadRequest)
		if !r.problem(t).hasField("cursor") {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.admin("GET", "/api/v1/nowhere", nil), http.StatusNotFound)
		want(t, e.admin("PUT", "/api/v1/providers", nil), http.StatusMethodNotAllowed)
	})
}

func TestProviderConcurrentIfMatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		var p providerDoc
		want(t, e.admin("POST", "/api/v1/providers", newProviderBody("race")), http.StatusCreated).json(t, &p)
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = e.send(request{method: "PATCH", path: "/api/v1/providers/" + p.ID, token: adminToken,
					header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"name": fmt.Sprintf("writer %d", i)}}).Status
			}()
		}
		wg.Wait()
		if !(statuses[0] == 200 && statuses[1] == 412 || statuses[0] == 412 && statuses[1] == 200) {
			t.Fatalf("two PATCHes with the same If-Match answered %v, want one 200 and one 412", statuses)
		}
	})
}

func TestProvidersAsUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		var enabled, disabled providerDoc
		want(t, e.admin("POST", "/api/v1/providers", newProviderBody("visible")), http.StatusCreated).json(t, &enabled)
		body := newProviderBody("hidden")
		body["enabled"] = false
		want(t, e.admin("POST", "/api/v1/providers", body), http.StatusCreated).json(t, &disabled)

		var list struct {
			Items []map[string]any `json:"items"`
		}
		want(t, e.user("GET", "/api/v1/providers?limit=1000", nil), http.StatusOK).json(t, &list)
		for _, p := range list.Items {
			if p["enabled"] != true {
				t.Errorf("a user sees disabled provider %v", p["slug"])
			}
			for _, k := range []string{"credentials", "headers", "params"} {
				if v, ok := p[k]; ok && k != "params" || ok && len(v.(map[string]any)) > 0 {
					t.Errorf("a user sees %s of %v", k, p["slug"])
				}
			}
		}
		want(t, e.user("GET", "/api/v1/providers/"+enabled.ID, nil), http.StatusOK)
		// A disabled provider does not exist for a user, for reads and writes.
		want(t, e.user("GET", "/api/v1/providers/"+disabled.ID, nil), http.StatusNotFound)
		want(t, e.user("PATCH", "/api/v1/providers/"+disabled.ID, map[string]any{"name": "x"}), http.StatusNotFound)
		want(t, e.user("DELETE", "/api/v1/providers/"+disabled.ID, nil), http.StatusNotFound)
		want(t, e.user("POST", "/api/v1/providers/"+disabled.ID+"/enable", nil), http.StatusNotFound)
		// A visible one may be read but not changed.
		want(t, e.user("PATCH", "/api/v1/providers/"+enabled.ID, map[string]any{"name": "x"}), http.StatusForbidden)
		want(t, e.user("POST", "/api/v1/providers/"+enabled.ID+"/disable", nil), http.StatusForbidden)
		want(t, e.user("DELETE", "/api/v1/providers/"+enabled.ID, nil), http.StatusForbidden)
		want(t, e.user("POST", "/api/v1/providers", newProviderBody("mine")), http.StatusForbidden)
		if p, _ := e.db.GetProvider(t.Context(), enabled.ID); p.Name != "Provider visible" || !p.Enabled {
			t.Fatal("a refused user request changed the provider")
		}
	})
}
