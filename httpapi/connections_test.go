package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/auth"
)

type connectionDoc struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	OwnerID      string   `json:"owner_id"`
	ProviderID   string   `json:"provider_id"`
	ProviderType string   `json:"provider_type"`
	Models       []string `json:"models"`
	KeyPrefix    string   `json:"key_prefix"`
	Key          *string  `json:"key"`
	Enabled      bool     `json:"enabled"`
	Version      int64    `json:"version"`
	Credential   *credDoc `json:"credential"`
}

type connectionList struct {
	Items      []connectionDoc `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

func TestConnectionLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		p := e.newProvider("openai-prod", true)
		r := want(t, e.user("POST", "/api/v1/connections", map[string]any{
			"name": "billing-app", "provider_id": p.ID, "rate_limit_rpm": 60,
			"credential": map[string]any{"name": "mine", "method": "api_key", "secrets": map[string]any{"api_key": canaries[3]}},
		}), http.StatusCreated)
		var c connectionDoc
		r.json(t, &c)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("the answer carrying a new key may be cached: Cache-Control %q", r.Header.Get("Cache-Control"))
		}
		if c.Key == nil || !strings.HasPrefix(*c.Key, auth.PrefixGatewayKey) || !strings.HasPrefix(*c.Key, strings.TrimSuffix(c.KeyPrefix, "…")) {
			t.Fatalf("key %v, key_prefix %q", c.Key, c.KeyPrefix)
		}
		key := *c.Key
		if c.OwnerID != e.userID || c.ProviderID != p.ID || !c.Enabled || c.Version != 1 ||
			r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/connections/"+c.ID {
			t.Fatalf("created %+v, headers %v", c, r.Header)
		}
		if c.Credential == nil || !c.Credential.Secrets["api_key"].Set {
			t.Fatalf("credential view = %+v", c.Credential)
		}
		stored, err := e.db.GetConnection(t.Context(), c.ID)
		if err != nil || stored.KeyHash != auth.HashToken(key) || stored.Credential.Secrets["api_key"].Reveal() != canaries[3] {
			t.Fatalf("stored connection: %+v, %v", stored, err)
		}

		// The key is never shown again.
		r = want(t, e.user("GET", "/api/v1/connections/"+c.ID, nil), http.StatusOK)
		if strings.Contains(string(r.Body), `"key"`) || strings.Contains(string(r.Body), key) {
			t.Fatalf("GET shows the key: %s", r.Body)
		}

		// A PATCH without the secret keeps it; a stale If-Match changes nothing.
		r = want(t, e.send(request{method: "PATCH", path: "/api/v1/connections/" + c.ID, token: e.userToken,
			header: map[string]string{"If-Match": `"1"`},
			body:   map[string]any{"name": "billing", "credential": map[string]any{"name": "renamed", "method": "api_key"}}}), http.StatusOK)
		var patched connectionDoc
		r.json(t, &patched)
		if patched.Name != "billing" || patched.Version != 2 || patched.Credential == nil || patched.Credential.Name != "renamed" ||
			!patched.Credential.Secrets["api_key"].Set || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("patched = %+v", patched)
		}
		want(t, e.send(request{method: "PATCH", path: "/api/v1/connections/" + c.ID, token: e.userToken,
			header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"name": "lost"}}), http.StatusPreconditionFailed)
		if stored, _ = e.db.GetConnection(t.Context(), c.ID); stored.Name != "billing" || stored.Credential.Secrets["api_key"].Reveal() != canaries[3] {
			t.Fatalf("after PATCHes: %+v", stored)
		}
		// Fields a connection's credential does not have are refused by name.
		r = want(t, e.user("PATCH", "/api/v1/connections/"+c.ID, map[string]any{
			"credential": map[string]any{"name": "x", "method": "api_key", "weight": 3}}), http.StatusBadRequest)
		if !r.problem(t).hasField("credential.weight") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Switching the method needs the new method's secrets.
		r = want(t, e.user("PATCH", "/api/v1/connections/"+c.ID, map[string]any{
			"credential": map[string]any{"name": "x", "method": "bearer"}}), http.StatusBadRequest)
		if !r.problem(t).hasField("credential.secrets.token") {
			t.Fatalf("problem = %s", r.Body)
		}
		// null removes the credential.
		r = want(t, e.user("PATCH", "/api/v1/connections/"+c.ID, map[string]any{"credential": nil}), http.StatusOK)
		patched = connectionDoc{}
		r.json(t, &patched)
		if patched.Credential != nil {
			t.Fatalf("credential not removed: %s", r.Body)
		}

		// Old style: switch to a provider type with provider_id null.
		r = want(t, e.user("PATCH", "/api/v1/connections/"+c.ID, map[string]any{"provider_id": nil, "provider_type": "openai"}), http.StatusOK)
		patched = connectionDoc{}
		r.json(t, &patched)
		if patched.ProviderID != "" || patched.ProviderType != "openai" {
			t.Fatalf("after switching to old style: %s", r.Body)
		}
		// Both at once is refused.
		r = want(t, e.user("PATCH", "/api/v1/connections/"+c.ID, map[string]any{"provider_id": p.ID}), http.StatusBadRequest)
		if !r.problem(t).hasField("provider_type") {
			t.Fatalf("problem = %s", r.Body)
		}

		// Rotating replaces the key: the old one stops matching.
		r = want(t, e.user("POST", "/api/v1/connections/"+c.ID+"/rotate-key", nil), http.StatusOK)
		var rotated connectionDoc
		r.json(t, &rotated)
		if rotated.Key == nil || *rotated.Key == key || rotated.KeyPrefix == "" {
			t.Fatalf("rotated = %s", r.Body)
		}
		if _, err := e.db.GetConnectionByKeyHash(t.Context(), auth.HashToken(key)); err == nil {
			t.Fatal("the old key still matches")
		}
		if got, err := e.db.GetConnectionByKeyHash(t.Context(), auth.HashToken(*rotated.Key)); err != nil || got.ID != c.ID {
			t.Fatalf("the new key does not match: %v", err)
		}

		// The audit log has every change, and never a key.
		var audit struct {
			Items []map[string]any `json:"items"`
		}
		r = want(t, e.admin("GET", "/api/v1/audit?resource_type=connection&resource_id="+c.ID, nil), http.StatusOK)
		r.json(t, &audit)
		if len(audit.Items) < 5 || audit.Items[0]["action"] != "rotate_key" || audit.Items[len(audit.Items)-1]["action"] != "create" {
			t.Fatalf("audit = %s", r.Body)
		}
		if strings.Contains(string(r.Body), key) || strings.Contains(string(r.Body), *rotated.Key) || strings.Contains(string(r.Body), stored.KeyHash) {
			t.Fatal("the audit log shows a gateway key or its hash")
		}

		// A provider in use cannot be deleted.
		want(t, e.user("PATCH", "/api/v1/connections/"+c.ID, map[string]any{"provider_id": p.ID, "provider_type": nil}), http.StatusOK)
		want(t, e.admin("DELETE", "/api/v1/providers/"+p.ID, nil), http.StatusConflict)

		want(t, e.send(request{method: "DELETE", path: "/api/v1/connections/" + c.ID, token: e.userToken,
			header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
		want(t, e.user("DELETE", "/api/v1/connections/"+c.ID, nil), http.StatusNoContent)
		want(t, e.user("GET", "/api/v1/connections/"+c.ID, nil), http.StatusNotFound)
		if _, err := e.db.GetConnectionByKeyHash(t.Context(), auth.HashToken(*rotated.Key)); err == nil {
			t.Fatal("a deleted connection's key still matches")
		}
	})
}

func TestConnectionInputErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hidden := e.newProvider("hidden", false)
		// A disabled provider does not exist for a user.
		r := want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "x", "provider_id": hidden.ID}), http.StatusBadRequest)
		if !r.problem(t).hasField("provider_id") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "x", "provider_id": "no-such"}), http.StatusBadRequest)
		if !r.problem(t).hasField("provider_id") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Admins may use it.
		want(t, e.admin("POST", "/api/v1/connections", map[string]any{"name": "x", "provider_id": hidden.ID}), http.StatusCreated)

		// An unknown provider type is named, with the known types listed.
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "x", "provider_type": "nope"}), http.StatusBadRequest)
		pd := r.problem(t)
		if !pd.hasField("provider_type") || !strings.Contains(string(r.Body), "anthropic") || !strings.Contains(string(r.Body), "openai") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "old", "provider_type": "openai"}), http.StatusCreated)
		var c connectionDoc
		r.json(t, &c)
		if c.ProviderType != "openai" || c.ProviderID != "" {
			t.Fatalf("old-style connection = %s", r.Body)
		}
		// A models-only connection.
		want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "models", "models": []string{"gpt-4o-mini"}}), http.StatusCreated)

		// Every bad field at once.
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "", "rate_limit_rpm": -1,
			"credential": map[string]any{"name": "k", "method": "api_key", "status": "active"}}), http.StatusBadRequest)
		pd = r.problem(t)
		for _, f := range []string{"rate_limit_rpm"} {
			if !pd.hasField(f) {
				t.Errorf("problem does not name %s: %s", f, r.Body)
			}
		}
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "",
			"credential": map[string]any{"name": "k", "method": "api_key", "status": "active"}}), http.StatusBadRequest)
		if !r.problem(t).hasField("credential.status") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": ""}), http.StatusBadRequest)
		pd = r.problem(t)
		if !pd.hasField("name") || !pd.hasField("provider_id") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "x", "models": []string{"gpt"},
			"credential": map[string]any{"name": "k", "method": "api_key"}}), http.StatusBadRequest)
		if !r.problem(t).hasField("credential.secrets.api_key") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Unknown fields, such as a routing override, are refused by name.
		r = want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "x", "models": []string{"gpt"}, "api_base": "https://attacker.example"}), http.StatusBadRequest)
		if !r.problem(t).hasField("api_base") {
			t.Fatalf("problem = %s", r.Body)
		}
		// An admin naming an owner that does not exist.
		r = want(t, e.admin("POST", "/api/v1/connections", map[string]any{"name": "x", "models": []string{"gpt"}, "owner_id": "no-such"}), http.StatusBadRequest)
		if !r.problem(t).hasField("owner_id") {
			t.Fatalf("problem = %s", r.Body)
		}
	})
}

func TestConnectionsRoleMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		p := e.newProvider("shared", true)
		var adminConn, userConn connectionDoc
		want(t, e.admin("POST", "/api/v1/connections", map[string]any{"name": "admins", "provider_id": p.ID}), http.StatusCreated).json(t, &adminConn)
		want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "users", "provider_id": p.ID}), http.StatusCreated).json(t, &userConn)
		before, err := e.db.GetConnection(t.Context(), adminConn.ID)
		if err != nil {
			t.Fatal(err)
		}

		// A user sees only their own.
		var list connectionList
		want(t, e.user("GET", "/api/v1/connections", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != userConn.ID {
			t.Fatalf("a user lists %+v", list.Items)
		}
		want(t, e.user("GET", "/api/v1/connections?owner_id="+e.userID, nil), http.StatusOK)
		want(t, e.user("GET", "/api/v1/connections?owner_id="+e.adminID, nil), http.StatusForbidden)
		// Another user's connection does not exist for them.
		adminPath := "/api/v1/connections/" + adminConn.ID
		want(t, e.user("GET", adminPath, nil), http.StatusNotFound)
		want(t, e.user("PATCH", adminPath, map[string]any{"name": "mine now"}), http.StatusNotFound)
		want(t, e.user("POST", adminPath+"/rotate-key", nil), http.StatusNotFound)
		want(t, e.user("DELETE", adminPath, nil), http.StatusNotFound)
		// Nor may they create one for someone else.
		r := want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "for admin", "provider_id": p.ID, "owner_id": e.adminID}), http.StatusForbidden)
		if !r.problem(t).hasField("owner_id") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Their own: every operation.
		userPath := "/api/v1/connections/" + userConn.ID
		want(t, e.user("GET", userPath, nil), http.StatusOK)
		want(t, e.user("PATCH", userPath, map[string]any{"enabled": false}), http.StatusOK)
		want(t, e.user("POST", userPath+"/rotate-key", nil), http.StatusOK)

		// Without authentication: 401 for everything.
		for _, rq := range []struct{ method, path string }{
			{"GET", "/api/v1/connections"}, {"POST", "/api/v1/connections"}, {"GET", adminPath},
			{"PATCH", adminPath}, {"DELETE", adminPath}, {"POST", adminPath + "/rotate-key"},
		} {
			var body any
			if rq.method == "POST" || rq.method == "PATCH" {
				body = map[string]any{"name": "anon", "provider_id": p.ID}
			}
			r := want(t, e.anon(rq.method, rq.path, body), http.StatusUnauthorized)
			if r.problem(t).Code != "unauthorized" {
				t.Fatalf("%s %s: %s", rq.method, rq.path, r.Body)
			}
		}

		// None of the refused requests changed anything.
		after, err := e.db.GetConnection(t.Context(), adminConn.ID)
		if err != nil || after.Version != before.Version || after.Name != "admins" || after.KeyHash != before.KeyHash {
			t.Fatalf("a refused request changed the admin's connection: %+v, %v", after, err)
		}
		want(t, e.admin("GET", "/api/v1/connections?owner_id="+e.adminID, nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("connections of the admin: %+v", list.Items)
		}

		// Admins see and manage all, and may set the owner.
		want(t, e.admin("GET", "/api/v1/connections", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("an admin lists %+v", list.Items)
		}
		want(t, e.admin("GET", "/api/v1/connections?owner_id="+e.userID+"&limit=1", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != userConn.ID || list.NextCursor != nil {
			t.Fatalf("an admin lists the user's: %+v", list)
		}
		want(t, e.admin("GET", userPath, nil), http.StatusOK)
		want(t, e.admin("PATCH", userPath, map[string]any{"name": "renamed by admin"}), http.StatusOK)
		want(t, e.admin("POST", userPath+"/rotate-key", nil), http.StatusOK)
		var forUser connectionDoc
		want(t, e.admin("POST", "/api/v1/connections", map[string]any{"name": "for user", "provider_id": p.ID, "owner_id": e.userID}), http.StatusCreated).json(t, &forUser)
		if forUser.OwnerID != e.userID {
			t.Fatalf("owner = %q", forUser.OwnerID)
		}
		want(t, e.user("GET", "/api/v1/connections/"+forUser.ID, nil), http.StatusOK)
		want(t, e.admin("DELETE", userPath, nil), http.StatusNoContent)
	})
}
