package httpapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/switchyard/switchyard"
)

type modelDoc struct {
	ID           string         `json:"id"`
	ProviderID   string         `json:"provider_id"`
	UpstreamID   string         `json:"upstream_id"`
	DisplayName  string         `json:"display_name"`
	Aliases      []string       `json:"aliases"`
	Enabled      bool           `json:"enabled"`
	Status       string         `json:"status"`
	Capabilities map[string]any `json:"capabilities"`
	Pricing      struct {
		In  float64 `json:"input_per_mtok"`
		Out float64 `json:"output_per_mtok"`
	} `json:"pricing"`
	Sources map[string]string `json:"sources"`
	Version int64             `json:"version"`
}

type modelList struct {
	Items      []modelDoc `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

type bulkDoc struct {
	Applied bool `json:"applied"`
	Results []struct {
		Index  int         `json:"index"`
		Op     string      `json:"op"`
		Status string      `json:"status"`
		ID     string      `json:"id"`
		Error  *problemDoc `json:"error"`
	} `json:"results"`
}

// newModel adds a model as the admin and returns it.
func (e *env) newModel(providerID string, body map[string]any) modelDoc {
	e.t.Helper()
	var m modelDoc
	want(e.t, e.admin("POST", "/api/v1/providers/"+providerID+"/models", body), http.StatusCreated).json(e.t, &m)
	return m
}

func TestModelLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		pid := e.newProvider("models-home", true).ID
		r := want(t, e.admin("POST", "/api/v1/providers/"+pid+"/models", map[string]any{
			"upstream_id": "gpt-4o-mini", "display_name": "GPT-4o mini", "aliases": []string{"fast"},
			"capabilities": map[string]any{"context_window": 128000, "max_output_tokens": 16384,
				"input_modalities": []string{"text", "image"}, "tools": true, "json_mode": true},
			"pricing": map[string]any{"input_per_mtok": 0.15, "output_per_mtok": 0.6},
		}), http.StatusCreated)
		var m modelDoc
		r.json(t, &m)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/models/"+m.ID {
			t.Fatalf("ETag %q Location %q", r.Header.Get("ETag"), r.Header.Get("Location"))
		}
		if m.ProviderID != pid || !m.Enabled || m.Status != "unknown" || !slices.Equal(m.Aliases, []string{"fast"}) ||
			m.Capabilities["context_window"] != float64(128000) || m.Capabilities["streaming"] != true || m.Pricing.In != 0.15 {
			t.Fatalf("model = %+v", m)
		}
		// What was sent is an admin override; the rest keeps the defaults.
		for f, src := range map[string]string{"context_window": "override", "max_output_tokens": "override",
			"input_modalities": "override", "tools": "override", "json_mode": "override", "pricing": "override",
			"vision": "default", "streaming": "default", "output_modalities": "default", "reasoning": "default"} {
			if m.Sources[f] != src {
				t.Errorf("sources[%s] = %q, want %q", f, m.Sources[f], src)
			}
		}
		stored, err := e.db.GetModel(t.Context(), m.ID)
		if err != nil || stored.Pricing.InputPerMTok != 0.15 || stored.Pricing.OutputPerMTok != 0.6 {
			t.Fatalf("stored pricing %+v, %v; want exactly 0.15 and 0.6", stored.Pricing, err)
		}

		r = want(t, e.admin("GET", "/api/v1/models/"+m.ID, nil), http.StatusOK)
		if r.Header.Get("ETag") != `"1"` {
			t.Fatalf("ETag %q", r.Header.Get("ETag"))
		}

		// PATCH with the current ETag; a capability sent becomes an override.
		r = want(t, e.send(request{method: "PATCH", path: "/api/v1/models/" + m.ID, token: adminToken,
			header: map[string]string{"If-Match": `"1"`},
			body:   map[string]any{"display_name": "Mini", "capabilities": map[string]any{"vision": true}}}), http.StatusOK)
		var patched modelDoc
		r.json(t, &patched)
		if patched.DisplayName != "Mini" || patched.Version != 2 || r.Header.Get("ETag") != `"2"` ||
			patched.Capabilities["vision"] != true || patched.Sources["vision"] != "override" ||
			patched.Sources["reasoning"] != "default" || patched.Pricing.In != 0.15 {
			t.Fatalf("patched = %+v", patched)
		}
		// A stale If-Match is refused and changes nothing.
		r = want(t, e.send(request{method: "PATCH", path: "/api/v1/models/" + m.ID, token: adminToken,
			header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"display_name": "Lost"}}), http.StatusPreconditionFailed)
		if r.problem(t).Code != "stale_version" {
			t.Fatalf("problem = %s", r.Body)
		}

		// A second model with the same upstream id is a conflict naming it.
		r = want(t, e.admin("POST", "/api/v1/providers/"+pid+"/models", map[string]any{"upstream_id": "gpt-4o-mini"}), http.StatusConflict)
		if !r.problem(t).hasField("upstream_id") {
			t.Fatalf("problem = %s", r.Body)
		}
		// Unknown fields are refused by name, nested ones too; domain rules
		// name their field.
		r = want(t, e.admin("POST", "/api/v1/providers/"+pid+"/models", map[string]any{"upstream_id": "x", "max_tokens": 5,
			"capabilities": map[string]any{"function_calling": true}}), http.StatusBadRequest)
		if pd := r.problem(t); !pd.hasField("max_tokens") || !pd.hasField("capabilities.function_calling") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.admin("PATCH", "/api/v1/models/"+m.ID, map[string]any{"aliases": []string{"a/b"},
			"capabilities": map[string]any{"context_window": 100, "max_output_tokens": 200}}), http.StatusBadRequest)
		if pd := r.problem(t); !pd.hasField("aliases[0]") || !pd.hasField("capabilities.max_output_tokens") {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.admin("POST", "/api/v1/providers/no-such-provider/models", map[string]any{"upstream_id": "x"}), http.StatusNotFound)

		// Lists.
		var list modelList
		want(t, e.admin("GET", "/api/v1/providers/"+pid+"/models", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != m.ID {
			t.Fatalf("provider models = %+v", list)
		}
		want(t, e.admin("GET", "/api/v1/models?provider_id="+pid+"&q=MINI", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("search = %+v", list)
		}
		want(t, e.admin("GET", "/api/v1/models?limit=2", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 2 || list.NextCursor == nil {
			t.Fatalf("first page of every model: %d items, cursor %v", len(list.Items), list.NextCursor)
		}

		// DELETE honours If-Match.
		want(t, e.send(request{method: "DELETE", path: "/api/v1/models/" + m.ID, token: adminToken,
			header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
		want(t, e.send(request{method: "DELETE", path: "/api/v1/models/" + m.ID, token: adminToken,
			header: map[string]string{"If-Match": `"2"`}}), http.StatusNoContent)
		want(t, e.admin("GET", "/api/v1/models/"+m.ID, nil), http.StatusNotFound)

		// Every change is in the audit log.
		audit, err := e.db.ListAudit(t.Context(), switchyard.AuditFilter{ResourceType: "model", ResourceID: m.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range audit.Items {
			actions = append(actions, a.Action)
		}
		if !slices.Equal(actions, []string{"delete", "update", "create"}) {
			t.Fatalf("audit actions = %v", actions)
		}
	})
}

func TestBulkModels(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		pid := e.newProvider("bulk-home", true).ID
		keep := e.newModel(pid, map[string]any{"upstream_id": "keep"})
		gone := e.newModel(pid, map[string]any{"upstream_id": "gone"})
		path := "/api/v1/providers/" + pid + "/models/bulk"
		count := func() int {
			t.Helper()
			var list modelList
			want(t, e.admin("GET", "/api/v1/providers/"+pid+"/models", nil), http.StatusOK).json(t, &list)
			return len(list.Items)
		}

		// Success: every operation applied, each result with its id.
		var res bulkDoc
		want(t, e.admin("POST", path, map[string]any{"operations": []map[string]any{
			{"op": "create", "model": map[string]any{"upstream_id": "a", "pricing": map[string]any{"input_per_mtok": 1, "output_per_mtok": 2}}},
			{"op": "create", "model": map[string]any{"upstream_id": "b"}},
			{"op": "update", "id": keep.ID, "version": 1, "patch": map[string]any{"enabled": false}},
			{"op": "delete", "id": gone.ID},
		}}), http.StatusOK).json(t, &res)
		if !res.Applied || len(res.Results) != 4 {
			t.Fatalf("result = %+v", res)
		}
		for i, r := range res.Results {
			if r.Index != i || r.Status != "ok" || r.ID == "" || r.Error != nil {
				t.Fatalf("result %d = %+v", i, r)
			}
		}
		if res.Results[2].ID != keep.ID || count() != 3 {
			t.Fatalf("after bulk: %+v, %d models", res, count())
		}
		if m, _ := e.db.GetModel(t.Context(), res.Results[0].ID); m == nil || m.SourceOf("pricing") != switchyard.SourceOverride {
			t.Fatalf("bulk-created model = %+v", m)
		}

		// Invalid operations: all named at once, nothing applied.
		res = bulkDoc{}
		r := want(t, e.admin("POST", path, map[string]any{"operations": []map[string]any{
			{"op": "create", "model": map[string]any{"upstream_id": "fine"}},
			{"op": "create", "model": map[string]any{"upstream_id": "has space"}},
			{"op": "update", "patch": map[string]any{"enabled": true}},
			{"op": "delete"},
			{"op": "update", "id": keep.ID, "patch": map[string]any{"aliases": []string{"no/slash"}}},
			{"op": "create"},
		}}), http.StatusBadRequest)
		r.json(t, &res)
		if res.Applied || len(res.Results) != 6 || res.Results[0].Status != "not_applied" {
			t.Fatalf("result = %s", r.Body)
		}
		for i, field := range map[int]string{1: "model.upstream_id", 2: "id", 3: "id", 4: "patch.aliases[0]", 5: "model"} {
			got := res.Results[i]
			if got.Status != "error" || got.Error == nil || got.Error.Status != 400 || !got.Error.hasField(field) {
				t.Errorf("result %d does not name %s: %+v", i, field, got)
			}
		}
		if count() != 3 {
			t.Fatal("an invalid batch changed something")
		}

		// A conflict in the database half-way: rolled back, the failing
		// operation named, the later ones not applied.
		res = bulkDoc{}
		r = want(t, e.admin("POST", path, map[string]any{"operations": []map[string]any{
			{"op": "create", "model": map[string]any{"upstream_id": "c"}},
			{"op": "delete", "id": res0(t, e, pid, "b")},
			{"op": "create", "model": map[string]any{"upstream_id": "a"}},
			{"op": "create", "model": map[string]any{"upstream_id": "d"}},
		}}), http.StatusConflict)
		r.json(t, &res)
		wantStatuses := []string{"not_applied", "not_applied", "error", "not_applied"}
		for i, s := range wantStatuses {
			if res.Results[i].Status != s {
				t.Fatalf("statuses: %s", r.Body)
			}
		}
		if res.Applied || res.Results[0].ID != "" || res.Results[2].Error.Code != "conflict" ||
			!res.Results[2].Error.hasField("model.upstream_id") {
			t.Fatalf("result = %s", r.Body)
		}
		if count() != 3 {
			t.Fatal("a failed batch changed something")
		}

		// A missing model is 404, a stale version 412, each for its item.
		res = bulkDoc{}
		r = want(t, e.admin("POST", path, map[string]any{"operations": []map[string]any{
			{"op": "create", "model": map[string]any{"upstream_id": "e"}},
			{"op": "delete", "id": "no-such-model"},
		}}), http.StatusNotFound)
		r.json(t, &res)
		if res.Results[1].Status != "error" || res.Results[1].Error.Code != "not_found" || res.Results[0].Status != "not_applied" {
			t.Fatalf("result = %s", r.Body)
		}
		res = bulkDoc{}
		r = want(t, e.admin("POST", path, map[string]any{"operations": []map[string]any{
			{"op": "update", "id": keep.ID, "version": 1, "patch": map[string]any{"enabled": true}},
		}}), http.StatusPreconditionFailed)
		r.json(t, &res)
		if res.Results[0].Error.Code != "stale_version" {
			t.Fatalf("result = %s", r.Body)
		}
		// A model of another provider is not found through this one.
		other := e.newModel(e.newProvider("bulk-other", true).ID, map[string]any{"upstream_id": "theirs"})
		want(t, e.admin("POST", path, map[string]any{"operations": []map[string]any{{"op": "delete", "id": other.ID}}}), http.StatusNotFound)
		// A malformed request is a problem document.
		r = want(t, e.admin("POST", path, map[string]any{"operations": []map[string]any{{"op": "upsert"}}}), http.StatusBadRequest)
		if !r.problem(t).hasField("operations[0].op") {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.admin("POST", "/api/v1/providers/no-such/models/bulk", map[string]any{"operations": []map[string]any{{"op": "delete", "id": "x"}}}), http.StatusNotFound).problem(t)
		if count() != 3 {
			t.Fatal("a failed batch changed something")
		}
	})
}

// res0 returns the id of the provider's model with the given upstream id.
func res0(t *testing.T, e *env, providerID, upstreamID string) string {
	t.Helper()
	var list modelList
	want(t, e.admin("GET", "/api/v1/providers/"+providerID+"/models?limit=1000", nil), http.StatusOK).json(t, &list)
	for _, m := range list.Items {
		if m.UpstreamID == upstreamID {
			return m.ID
		}
	}
	t.Fatalf("no model %s", upstreamID)
	return ""
}

func TestModelsRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		shown := e.newProvider("shown", true).ID
		hiddenP := e.newProvider("hidden", false).ID
		visible := e.newModel(shown, map[string]any{"upstream_id": "visible"})
		off := e.newModel(shown, map[string]any{"upstream_id": "off", "enabled": false})
		behind := e.newModel(hiddenP, map[string]any{"upstream_id": "behind"})
		bulk := map[string]any{"operations": []map[string]any{{"op": "create", "model": map[string]any{"upstream_id": "new"}}}}
		patch := map[string]any{"display_name": "changed"}

		// Admins may do everything (the other tests cover the details).
		want(t, e.admin("GET", "/api/v1/models/"+behind.ID, nil), http.StatusOK)
		want(t, e.admin("GET", "/api/v1/providers/"+hiddenP+"/models", nil), http.StatusOK)

		// Users see enabled models of enabled providers only.
		var list modelList
		want(t, e.user("GET", "/api/v1/models?limit=1000", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != visible.ID {
			t.Fatalf("a user lists %+v", list.Items)
		}
		want(t, e.user("GET", "/api/v1/models?enabled=false", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("a user lists disabled models: %+v", list.Items)
		}
		want(t, e.user("GET", "/api/v1/models?provider_id="+hiddenP, nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("a user lists models of a disabled provider: %+v", list.Items)
		}
		want(t, e.user("GET", "/api/v1/providers/"+shown+"/models", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != visible.ID {
			t.Fatalf("a user lists %+v", list.Items)
		}
		want(t, e.user("GET", "/api/v1/providers/"+hiddenP+"/models", nil), http.StatusNotFound)
		want(t, e.user("GET", "/api/v1/models/"+visible.ID, nil), http.StatusOK)

		// A model a user cannot see does not exist for them, for reads and
		// writes; one they can see may not be changed.
		for _, id := range []string{off.ID, behind.ID} {
			want(t, e.user("GET", "/api/v1/models/"+id, nil), http.StatusNotFound)
			want(t, e.user("PATCH", "/api/v1/models/"+id, patch), http.StatusNotFound)
			want(t, e.user("DELETE", "/api/v1/models/"+id, nil), http.StatusNotFound)
		}
		want(t, e.user("PATCH", "/api/v1/models/"+visible.ID, patch), http.StatusForbidden)
		want(t, e.user("DELETE", "/api/v1/models/"+visible.ID, nil), http.StatusForbidden)
		want(t, e.user("POST", "/api/v1/providers/"+shown+"/models", map[string]any{"upstream_id": "mine"}), http.StatusForbidden)
		want(t, e.user("POST", "/api/v1/providers/"+hiddenP+"/models", map[string]any{"upstream_id": "mine"}), http.StatusNotFound)
		want(t, e.user("POST", "/api/v1/providers/"+shown+"/models/bulk", bulk), http.StatusForbidden)
		want(t, e.user("POST", "/api/v1/providers/"+hiddenP+"/models/bulk", bulk), http.StatusNotFound)

		// Without credentials, everything is 401.
		for _, rq := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/models", nil},
			{"GET", "/api/v1/models/" + visible.ID, nil},
			{"PATCH", "/api/v1/models/" + visible.ID, patch},
			{"DELETE", "/api/v1/models/" + visible.ID, nil},
			{"GET", "/api/v1/providers/" + shown + "/models", nil},
			{"POST", "/api/v1/providers/" + shown + "/models", map[string]any{"upstream_id": "mine"}},
			{"POST", "/api/v1/providers/" + shown + "/models/bulk", bulk},
		} {
			if r := e.anon(rq.method, rq.path, rq.body); r.Status != http.StatusUnauthorized {
				t.Errorf("anonymous %s %s answered %d", rq.method, rq.path, r.Status)
			}
		}

		// Nothing the refused requests sent was applied.
		for _, m := range []modelDoc{visible, off, behind} {
			stored, err := e.db.GetModel(t.Context(), m.ID)
			if err != nil || stored.Version != 1 || stored.DisplayName != "" {
				t.Fatalf("model %s changed: %+v, %v", m.UpstreamID, stored, err)
			}
		}
		all, err := e.db.ListModels(t.Context(), switchyard.ModelFilter{ProviderID: shown})
		if err != nil || len(all.Items) != 2 {
			t.Fatalf("provider models: %d, %v", len(all.Items), err)
		}
	})
}
