package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type auditDoc struct {
	ID           string         `json:"id"`
	At           time.Time      `json:"at"`
	ActorID      string         `json:"actor_id"`
	ActorName    string         `json:"actor_name"`
	Action       string         `json:"action"`
	ResourceType string         `json:"resource_type"`
	ResourceID   string         `json:"resource_id"`
	Before       map[string]any `json:"before"`
	After        map[string]any `json:"after"`
}

type auditList struct {
	Items      []auditDoc `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

func TestAuditLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		start := time.Now().Add(-time.Second)
		p := e.newProvider("audited", true)
		want(t, e.admin("PATCH", "/api/v1/providers/"+p.ID, map[string]any{"name": "Audited renamed",
			"headers": map[string]any{"X-Org": canaries[1]}}), http.StatusOK)
		want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "app", "provider_id": p.ID,
			"credential": map[string]any{"name": "own", "method": "api_key", "secrets": map[string]any{"api_key": canaries[3]}}}), http.StatusCreated)
		u := e.newUser("audrey", "user")
		want(t, e.admin("PATCH", "/api/v1/users/"+u.ID, map[string]any{"password": "N" + canaries[4]}), http.StatusOK)

		// The provider update, newest first, with before and after.
		var list auditList
		want(t, e.admin("GET", "/api/v1/audit?resource_type=provider&resource_id="+p.ID, nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 2 || list.Items[0].Action != "update" || list.Items[1].Action != "create" {
			t.Fatalf("provider audit = %+v", list.Items)
		}
		upd := list.Items[0]
		if upd.Before["name"] != "Provider audited" || upd.After["name"] != "Audited renamed" ||
			upd.ActorID != e.adminID || upd.ActorName != "admin" || upd.At.Before(start) {
			t.Fatalf("update entry = %+v", upd)
		}

		// Filters: actor, time window, and pages.
		want(t, e.admin("GET", "/api/v1/audit?actor_id="+e.userID, nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ResourceType != "connection" || list.Items[0].Action != "create" {
			t.Fatalf("the user's changes = %+v", list.Items)
		}
		want(t, e.admin("GET", "/api/v1/audit?since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("entries from the future: %+v", list.Items)
		}
		want(t, e.admin("GET", "/api/v1/audit?until="+url.QueryEscape(start.Format(time.RFC3339Nano)), nil), http.StatusOK).json(t, &list)
		for _, it := range list.Items {
			if !it.At.Before(start) {
				t.Fatalf("until let through %+v", it)
			}
		}
		r := want(t, e.admin("GET", "/api/v1/audit?since="+url.QueryEscape(time.Now().Format(time.RFC3339))+"&until="+url.QueryEscape(start.Format(time.RFC3339)), nil), http.StatusBadRequest)
		if !r.problem(t).hasField("until") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.admin("GET", "/api/v1/audit?since=yesterday", nil), http.StatusBadRequest)
		if !r.problem(t).hasField("since") {
			t.Fatalf("problem = %s", r.Body)
		}
		var all []auditDoc
		path := "/api/v1/audit?limit=2"
		for range 20 {
			want(t, e.admin("GET", path, nil), http.StatusOK).json(t, &list)
			all = append(all, list.Items...)
			if list.NextCursor == nil {
				break
			}
			path = "/api/v1/audit?limit=2&cursor=" + url.QueryEscape(*list.NextCursor)
		}
		seen := map[string]bool{}
		for i, it := range all {
			if seen[it.ID] {
				t.Fatalf("entry %s on two pages", it.ID)
			}
			seen[it.ID] = true
			if i > 0 && it.At.After(all[i-1].At) {
				t.Fatalf("not newest first: %v after %v", it.At, all[i-1].At)
			}
		}
		if len(all) < 7 {
			t.Fatalf("paged through %d entries", len(all))
		}

		// No entry shows a secret, a password hash or a token hash (the
		// harness scans every body for the canaries as well).
		r = want(t, e.admin("GET", "/api/v1/audit?limit=1000", nil), http.StatusOK)
		for _, bad := range []string{"argon2", "password_hash", "key_hash", `"hash"`} {
			if strings.Contains(string(r.Body), bad) {
				t.Errorf("the audit log shows %s: %s", bad, r.Body)
			}
		}
		var pw auditList
		want(t, e.admin("GET", "/api/v1/audit?resource_type=user&resource_id="+u.ID, nil), http.StatusOK).json(t, &pw)
		if len(pw.Items) != 2 || pw.Items[0].After["password_changed"] != true {
			t.Fatalf("user audit = %+v", pw.Items)
		}
	})
}

func TestAuditRoleMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		want(t, e.admin("GET", "/api/v1/audit", nil), http.StatusOK)
		r := want(t, e.user("GET", "/api/v1/audit", nil), http.StatusForbidden)
		if r.problem(t).Code != "forbidden" {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.anon("GET", "/api/v1/audit", nil), http.StatusUnauthorized)
	})
}
