package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// TestLegacyMigrationThroughTheAPI plans, applies, reads and rolls back a
// LiteLLM migration as an admin. The server never resolves os.environ/
// references, though its own environment holds the values: the provider is
// created disabled and the report says to set the secret.
func TestLegacyMigrationThroughTheAPI(t *testing.T) {
	const keyCanary = "sk-server-env-canary-0123456789"
	const dbCanary = "postgres://admin:db-canary-password@db.internal/switchyard"
	t.Setenv("OPENAI_API_KEY", keyCanary)
	t.Setenv("DATABASE_URL", dbCanary)
	e := newEnv(t, storetest.SQLite())
	config := `model_list:
  - model_name: local
    litellm_params:
      model: openai/qwen2.5
      api_base: https://llm.example.com/v1
      api_key: os.environ/OPENAI_API_KEY
  - model_name: leak
    litellm_params:
      model: openai/gpt-4o
      api_base: os.environ/DATABASE_URL
`
	body := map[string]any{"litellm_config": config}
	var rep struct {
		Summary map[string]int `json:"summary"`
		Items   []struct {
			Key, Status, Target, Reason string
			Changes                     []string
		} `json:"items"`
	}
	plan := want(t, e.admin("POST", "/api/v1/legacy/plan", body), http.StatusOK)
	plan.json(t, &rep)
	if len(rep.Items) != 2 || rep.Items[0].Status != "maps with changes" || !strings.Contains(strings.Join(rep.Items[0].Changes, " "), "not resolved by the server") ||
		rep.Items[1].Status != "cannot map" || !strings.Contains(rep.Items[1].Reason, "api_base refers to an environment variable") {
		t.Fatalf("plan = %s", plan.Body)
	}
	if page := want(t, e.admin("GET", "/api/v1/legacy", nil), http.StatusOK); !strings.Contains(string(page.Body), `"items":[]`) {
		t.Fatalf("a plan recorded a migration: %s", page.Body)
	}

	var m struct {
		ID      string `json:"id"`
		Changes []struct{ Kind, Action, Key, ID string }
	}
	applied := want(t, e.admin("POST", "/api/v1/legacy/apply", body), http.StatusCreated)
	applied.json(t, &m)
	if m.ID == "" || len(m.Changes) != 2 || m.Changes[0].Key != "openai-compatible-llm-example-com" {
		t.Fatalf("apply = %s", applied.Body)
	}
	var prov struct {
		Enabled bool `json:"enabled"`
	}
	want(t, e.admin("GET", "/api/v1/providers/"+m.Changes[0].ID, nil), http.StatusOK).json(t, &prov)
	if prov.Enabled {
		t.Fatal("a provider whose secret the server may not resolve was enabled")
	}
	export := want(t, e.admin("GET", "/api/v1/export", nil), http.StatusOK)
	for _, r := range []resp{plan, applied, export, want(t, e.admin("GET", "/api/v1/legacy/"+m.ID, nil), http.StatusOK),
		want(t, e.admin("GET", "/api/v1/legacy", nil), http.StatusOK)} {
		if strings.Contains(string(r.Body), "canary") {
			t.Fatalf("the server's environment leaked: %s", r.Body)
		}
	}
	if strings.Contains(e.logs.String(), "canary") {
		t.Fatal("the server's environment leaked into the log")
	}
	want(t, e.admin("POST", "/api/v1/legacy/apply", map[string]any{}), http.StatusBadRequest)

	rb := want(t, e.admin("POST", "/api/v1/legacy/"+m.ID+"/rollback", nil), http.StatusOK)
	if !strings.Contains(string(rb.Body), "created provider openai-compatible-llm-example-com") {
		t.Fatalf("rollback = %s", rb.Body)
	}
	want(t, e.admin("GET", "/api/v1/providers/"+m.Changes[0].ID, nil), http.StatusNotFound)
	if p := want(t, e.admin("POST", "/api/v1/legacy/"+m.ID+"/rollback", nil), http.StatusConflict).problem(t); !strings.Contains(p.Detail, "already rolled back") {
		t.Fatalf("second rollback: %+v", p)
	}
	want(t, e.admin("GET", "/api/v1/legacy/0193a1b2-0000-7000-8000-0000000000a1", nil), http.StatusNotFound)
	var audit struct {
		Items []struct{ Action string } `json:"items"`
	}
	want(t, e.admin("GET", "/api/v1/audit?resource_type=legacy_migration", nil), http.StatusOK).json(t, &audit)
	if len(audit.Items) != 2 || audit.Items[0].Action != "legacy_rollback" || audit.Items[1].Action != "legacy_migrate" {
		t.Fatalf("audit = %+v", audit)
	}
}

// TestLegacyRoleMatrix: every legacy operation is for admins; users get
// 403 and anonymous callers 401, with nothing written.
func TestLegacyRoleMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		body := map[string]any{"connections": true}
		id := "0193a1b2-0000-7000-8000-0000000000a1"
		before := e.countRows(t)
		for _, op := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/legacy", nil},
			{"POST", "/api/v1/legacy/plan", body},
			{"POST", "/api/v1/legacy/apply", body},
			{"GET", "/api/v1/legacy/" + id, nil},
			{"POST", "/api/v1/legacy/" + id + "/rollback", nil},
		} {
			if r := want(t, e.user(op.method, op.path, op.body), http.StatusForbidden); r.problem(t).Code != "forbidden" {
				t.Errorf("%s %s as a user: %s", op.method, op.path, r.Body)
			}
			want(t, e.anon(op.method, op.path, op.body), http.StatusUnauthorized)
		}
		if after := e.countRows(t); len(after) != len(before) || after["providers"] != before["providers"] || after["connections"] != before["connections"] {
			t.Fatalf("refused requests changed the database: %v → %v", before, after)
		}
		// An admin with nothing to migrate is told so.
		want(t, e.admin("POST", "/api/v1/legacy/apply", body), http.StatusConflict)
	})
}
