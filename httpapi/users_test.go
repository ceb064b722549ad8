package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

type userDoc struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Email       string `json:"email"`
	Role        string `json:"role"`
	Disabled    bool   `json:"disabled"`
	HasPassword bool   `json:"has_password"`
	Version     int64  `json:"version"`
}

// newUser creates a user as the admin, with canaries[4] as the password.
func (e *env) newUser(username, role string) userDoc {
	e.t.Helper()
	var u userDoc
	want(e.t, e.admin("POST", "/api/v1/users", map[string]any{"username": username, "role": role, "password": canaries[4]}),
		http.StatusCreated).json(e.t, &u)
	return u
}

// login starts a session and returns its cookie and CSRF token.
func (e *env) login(username, password string) (*http.Cookie, string) {
	e.t.Helper()
	r := want(e.t, e.anon("POST", "/api/v1/session", map[string]any{"username": username, "password": password}), http.StatusOK)
	var s struct {
		CSRFToken string `json:"csrf_token"`
	}
	r.json(e.t, &s)
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "sy_session" {
			return c, s.CSRFToken
		}
	}
	e.t.Fatalf("login set no session cookie: %v", r.Header)
	return nil, ""
}

// withSession sends a request authenticated by a session cookie and its
// CSRF token.
func (e *env) withSession(c *http.Cookie, csrf, method, path string, body any) resp {
	e.t.Helper()
	return e.send(request{method: method, path: path, body: body, cookies: []*http.Cookie{c},
		header: map[string]string{"X-CSRF-Token": csrf}})
}

func TestUserLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := want(t, e.admin("POST", "/api/v1/users", map[string]any{"username": "ada", "email": "ada@example.com", "role": "user",
			"password": canaries[4]}), http.StatusCreated)
		var u userDoc
		r.json(t, &u)
		if !u.HasPassword || u.Role != "user" || u.Email != "ada@example.com" || u.Version != 1 ||
			r.Header.Get("Location") != "/api/v1/users/"+u.ID || r.Header.Get("ETag") != `"1"` {
			t.Fatalf("created %s", r.Body)
		}
		if strings.Contains(string(r.Body), `"password"`) || strings.Contains(string(r.Body), "argon2") {
			t.Fatalf("the response shows a password or its hash: %s", r.Body)
		}
		stored, err := e.db.GetUser(t.Context(), u.ID)
		if err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
			t.Fatalf("stored %+v, %v", stored, err)
		}
		// The password works.
		e.login("ada", canaries[4])

		// Every bad field at once; a taken username is 409.
		r = want(t, e.admin("POST", "/api/v1/users", map[string]any{"username": "Bad Name", "email": "nope", "role": "user", "password": "short"}), http.StatusBadRequest)
		pd := r.problem(t)
		for _, f := range []string{"username", "email", "password"} {
			if !pd.hasField(f) {
				t.Errorf("problem does not name %s: %s", f, r.Body)
			}
		}
		want(t, e.admin("POST", "/api/v1/users", map[string]any{"username": "ada", "role": "user"}), http.StatusConflict)
		r = want(t, e.admin("POST", "/api/v1/users", map[string]any{"username": "x", "role": "root"}), http.StatusBadRequest)
		if !r.problem(t).hasField("role") {
			t.Fatalf("problem = %s", r.Body)
		}

		// List and filter by role.
		var list struct {
			Items []userDoc `json:"items"`
		}
		want(t, e.admin("GET", "/api/v1/users?role=user", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("users = %+v", list.Items)
		}
		want(t, e.admin("GET", "/api/v1/users?limit=1", nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("users = %+v", list.Items)
		}

		// Admins change anyone's email, role and password, with If-Match.
		// (A login records its time, so the ETag is read after it.)
		etag := want(t, e.admin("GET", "/api/v1/users/"+u.ID, nil), http.StatusOK).Header.Get("ETag")
		r = want(t, e.send(request{method: "PATCH", path: "/api/v1/users/" + u.ID, token: adminToken, header: map[string]string{"If-Match": etag},
			body: map[string]any{"email": "ada@lovelace.example", "password": "N" + canaries[4]}}), http.StatusOK)
		r.json(t, &u)
		if u.Email != "ada@lovelace.example" || r.Header.Get("ETag") == etag {
			t.Fatalf("patched %s", r.Body)
		}
		want(t, e.send(request{method: "PATCH", path: "/api/v1/users/" + u.ID, token: adminToken, header: map[string]string{"If-Match": etag},
			body: map[string]any{"email": "lost@example.com"}}), http.StatusPreconditionFailed)
		r = want(t, e.admin("PATCH", "/api/v1/users/"+u.ID, map[string]any{"email": "bad", "password": "short"}), http.StatusBadRequest)
		pd = r.problem(t)
		if !pd.hasField("email") || !pd.hasField("password") {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "ada", "password": canaries[4]}), http.StatusUnauthorized)
		e.login("ada", "N"+canaries[4])

		// Delete, with If-Match.
		want(t, e.send(request{method: "DELETE", path: "/api/v1/users/" + u.ID, token: adminToken, header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
		want(t, e.admin("DELETE", "/api/v1/users/"+u.ID, nil), http.StatusNoContent)
		want(t, e.admin("GET", "/api/v1/users/"+u.ID, nil), http.StatusNotFound)
		want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "ada", "password": "N" + canaries[4]}), http.StatusUnauthorized)
	})
}

func TestUsersRoleMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		adminPath, selfPath := "/api/v1/users/"+e.adminID, "/api/v1/users/"+e.userID
		before, err := e.db.GetUser(t.Context(), e.adminID)
		if err != nil {
			t.Fatal(err)
		}
		want(t, e.user("GET", "/api/v1/users", nil), http.StatusForbidden)
		want(t, e.user("POST", "/api/v1/users", map[string]any{"username": "eve", "role": "admin"}), http.StatusForbidden)
		// Another user does not exist for a user.
		want(t, e.user("GET", adminPath, nil), http.StatusNotFound)
		want(t, e.user("PATCH", adminPath, map[string]any{"role": "user"}), http.StatusNotFound)
		want(t, e.user("DELETE", adminPath, nil), http.StatusNotFound)
		// Themselves: read and change the email, but not the role or the
		// disabled flag, and no deleting.
		var self userDoc
		want(t, e.user("GET", selfPath, nil), http.StatusOK).json(t, &self)
		if self.ID != e.userID || self.Role != "user" {
			t.Fatalf("self = %+v", self)
		}
		want(t, e.user("PATCH", selfPath, map[string]any{"role": "admin"}), http.StatusForbidden)
		want(t, e.user("PATCH", selfPath, map[string]any{"disabled": true}), http.StatusForbidden)
		want(t, e.user("DELETE", selfPath, nil), http.StatusForbidden)
		want(t, e.user("PATCH", selfPath, map[string]any{"email": "uma@example.com", "role": "user"}), http.StatusOK)
		// The anonymous get 401 for everything.
		for _, rq := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/users", nil}, {"POST", "/api/v1/users", map[string]any{"username": "eve", "role": "admin"}},
			{"GET", adminPath, nil}, {"PATCH", adminPath, map[string]any{"role": "user"}}, {"DELETE", adminPath, nil},
		} {
			want(t, e.anon(rq.method, rq.path, rq.body), http.StatusUnauthorized)
		}
		// Nothing refused changed anything.
		after, err := e.db.GetUser(t.Context(), e.adminID)
		if err != nil || after.Version != before.Version || after.Role != "admin" {
			t.Fatalf("a refused request changed the admin: %+v, %v", after, err)
		}
		if _, err := e.db.GetUserByUsername(t.Context(), "eve"); err == nil {
			t.Fatal("a refused request created a user")
		}
		if u, _ := e.db.GetUser(t.Context(), e.userID); u.Role != "user" || u.Disabled || u.Email != "uma@example.com" {
			t.Fatalf("user = %+v", u)
		}
		// Admins: everyone.
		want(t, e.admin("GET", selfPath, nil), http.StatusOK)
		want(t, e.admin("PATCH", selfPath, map[string]any{"email": "u@example.com"}), http.StatusOK)
	})
}

func TestOwnPasswordChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		u := e.newUser("sam", "user")
		path := "/api/v1/users/" + u.ID
		cookie, csrf := e.login("sam", canaries[4])
		other, _ := e.login("sam", canaries[4])
		newPW := "N" + canaries[4]
		loggedIn, err := e.db.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}

		r := want(t, e.withSession(cookie, csrf, "PATCH", path, map[string]any{"password": newPW}), http.StatusBadRequest)
		if !r.problem(t).hasField("current_password") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.withSession(cookie, csrf, "PATCH", path, map[string]any{"password": newPW, "current_password": "wrong password here"}), http.StatusBadRequest)
		if !r.problem(t).hasField("current_password") {
			t.Fatalf("problem = %s", r.Body)
		}
		r = want(t, e.withSession(cookie, csrf, "PATCH", path, map[string]any{"password": "short", "current_password": canaries[4]}), http.StatusBadRequest)
		if !r.problem(t).hasField("password") {
			t.Fatalf("problem = %s", r.Body)
		}
		if s, _ := e.db.GetUser(t.Context(), u.ID); s.Version != loggedIn.Version || s.PasswordHash != loggedIn.PasswordHash {
			t.Fatal("a refused password change changed the user")
		}
		want(t, e.withSession(cookie, csrf, "PATCH", path, map[string]any{"password": newPW, "current_password": canaries[4]}), http.StatusOK)
		// Every session of the user ended, this one included.
		want(t, e.send(request{method: "GET", path: "/api/v1/session", cookies: []*http.Cookie{cookie}}), http.StatusUnauthorized)
		want(t, e.send(request{method: "GET", path: "/api/v1/session", cookies: []*http.Cookie{other}}), http.StatusUnauthorized)
		want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "sam", "password": canaries[4]}), http.StatusUnauthorized)
		cookie, csrf = e.login("sam", newPW)

		// Wrong current passwords are limited like failed logins.
		var last resp
		for range 6 {
			last = e.withSession(cookie, csrf, "PATCH", path, map[string]any{"password": canaries[4], "current_password": "wrong password here"})
		}
		want(t, last, http.StatusTooManyRequests)
		if last.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %v", last.Header)
		}
	})
}

func TestDemotedAdminDeniedNextRequest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		root := e.newUser("root2", "admin")
		cookie, csrf := e.login("root2", canaries[4])
		want(t, e.withSession(cookie, csrf, "GET", "/api/v1/users", nil), http.StatusOK)
		// An API token of theirs, made while they were an admin.
		var tok struct {
			Token string `json:"token"`
		}
		want(t, e.withSession(cookie, csrf, "POST", "/api/v1/tokens", map[string]any{"name": "ops"}), http.StatusCreated).json(t, &tok)
		want(t, e.send(request{method: "GET", path: "/api/v1/users", token: tok.Token}), http.StatusOK)

		want(t, e.admin("PATCH", "/api/v1/users/"+root.ID, map[string]any{"role": "user"}), http.StatusOK)
		// The session ended; the token acts with the new role at once.
		want(t, e.withSession(cookie, csrf, "GET", "/api/v1/users", nil), http.StatusUnauthorized)
		want(t, e.send(request{method: "GET", path: "/api/v1/users", token: tok.Token}), http.StatusForbidden)
		want(t, e.send(request{method: "POST", path: "/api/v1/users", token: tok.Token, body: map[string]any{"username": "eve", "role": "admin"}}), http.StatusForbidden)

		// Disabling refuses the token as well.
		want(t, e.admin("PATCH", "/api/v1/users/"+root.ID, map[string]any{"disabled": true}), http.StatusOK)
		want(t, e.send(request{method: "GET", path: "/api/v1/session", token: tok.Token}), http.StatusUnauthorized)
		want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "root2", "password": canaries[4]}), http.StatusUnauthorized)
	})
}

func TestLastAdmin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		self := "/api/v1/users/" + e.adminID
		for _, body := range []map[string]any{{"role": "user"}, {"disabled": true}} {
			r := want(t, e.admin("PATCH", self, body), http.StatusConflict)
			if r.problem(t).Code != "conflict" {
				t.Fatalf("problem = %s", r.Body)
			}
		}
		want(t, e.admin("DELETE", self, nil), http.StatusConflict)
		// A disabled admin does not count.
		other := e.newUser("root2", "admin")
		want(t, e.admin("PATCH", "/api/v1/users/"+other.ID, map[string]any{"disabled": true}), http.StatusOK)
		want(t, e.admin("PATCH", self, map[string]any{"role": "user"}), http.StatusConflict)
		// With another active admin, demotion works.
		want(t, e.admin("PATCH", "/api/v1/users/"+other.ID, map[string]any{"disabled": false}), http.StatusOK)
		want(t, e.admin("PATCH", "/api/v1/users/"+other.ID, map[string]any{"role": "user"}), http.StatusOK)
		want(t, e.admin("PATCH", "/api/v1/users/"+other.ID, map[string]any{"role": "admin"}), http.StatusOK)
		want(t, e.admin("PATCH", self, map[string]any{"role": "user"}), http.StatusOK)
		if u, _ := e.db.GetUser(t.Context(), e.adminID); u.Role != "user" {
			t.Fatalf("bootstrap admin = %+v", u)
		}
		// The demoted bootstrap admin's token is now a user's.
		want(t, e.admin("GET", "/api/v1/users", nil), http.StatusForbidden)
	})
}

func TestDeleteUserWithConnections(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		var c connectionDoc
		want(t, e.user("POST", "/api/v1/connections", map[string]any{"name": "app", "models": []string{"gpt-4o-mini"}}), http.StatusCreated).json(t, &c)
		r := want(t, e.admin("DELETE", "/api/v1/users/"+e.userID, nil), http.StatusConflict)
		if !strings.Contains(r.problem(t).Detail, "connection") {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.user("GET", "/api/v1/session", nil), http.StatusOK)
		want(t, e.admin("DELETE", "/api/v1/connections/"+c.ID, nil), http.StatusNoContent)
		want(t, e.admin("DELETE", "/api/v1/users/"+e.userID, nil), http.StatusNoContent)
		// The deleted user's token is refused.
		want(t, e.user("GET", "/api/v1/session", nil), http.StatusUnauthorized)
	})
}
