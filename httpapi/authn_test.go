package httpapi_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// TestEveryOperationNeedsAuthentication calls every operation of the
// document without credentials, with a wrong token, and with credentials in
// headers other peers accept: each answers 401 before doing anything.
func TestEveryOperationNeedsAuthentication(t *testing.T) {
	forEachBackend(t, testEveryOperationNeedsAuthentication)
}

func testEveryOperationNeedsAuthentication(t *testing.T, e *env) {
	before := e.countRows(t)
	ops := 0
	for path, item := range e.spec.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "createSession" {
				continue
			}
			ops++
			url := "/api/v1" + strings.NewReplacer("{id}", "0193a1b2-0000-7000-8000-0000000000a1").Replace(path)
			var body any
			if op.RequestBody != nil {
				body = map[string]any{"name": "x"}
			}
			for _, tc := range []struct {
				name   string
				header map[string]string
			}{
				{"no credentials", nil},
				{"unknown token", map[string]string{"Authorization": "Bearer syt_not-a-real-token-000000000000"}},
				{"wrong scheme", map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}},
				{"token in x-api-key", map[string]string{"X-Api-Key": adminToken}},
				{"token in api-key", map[string]string{"Api-Key": adminToken}},
				{"SQL in the token", map[string]string{"Authorization": "Bearer ' OR '1'='1"}},
				{"forged cookie", map[string]string{"Cookie": "sy_session=sys_forged"}},
			} {
				r := e.send(request{method: method, path: url, body: body, header: tc.header})
				if r.Status != http.StatusUnauthorized {
					t.Errorf("%s %s with %s: %d, want 401", method, path, tc.name, r.Status)
					continue
				}
				if p := r.problem(t); p.Code != "unauthorized" || r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s with %s: problem %+v, WWW-Authenticate %q", method, path, tc.name, p, r.Header.Get("WWW-Authenticate"))
				}
			}
		}
	}
	if ops < 38 {
		t.Fatalf("checked %d operations", ops)
	}
	if after := e.countRows(t); !maps.Equal(after, before) {
		t.Fatalf("refused requests changed the database: %v → %v", before, after)
	}
}

// countRows counts the rows of every table that requests could change.
func (e *env) countRows(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"providers", "provider_credentials", "models", "provider_templates", "connections",
		"users", "api_tokens", "sessions", "audit_log", "benchmarks"} {
		var n int
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestLoginIsTheOnlyPublicOperation(t *testing.T) {
	e := newEnv(t, storetest.SQLite())
	r := want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "admin", "password": "wrong-password-here"}), http.StatusUnauthorized)
	if r.problem(t).Detail != "the username or password is wrong" {
		t.Fatalf("login failure detail = %q", r.problem(t).Detail)
	}
	r = want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "nobody", "password": "wrong-password-here"}), http.StatusUnauthorized)
	if r.problem(t).Detail != "the username or password is wrong" {
		t.Fatal("an unknown user is answered differently from a wrong password")
	}
	want(t, e.anon("GET", "/api/v1/openapi.json", nil), http.StatusOK)
	want(t, e.anon("GET", "/docs", nil), http.StatusOK)
}
