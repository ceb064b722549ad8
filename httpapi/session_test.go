package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
)

func TestSessionCookieAndCSRF(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		e.newUser("sam", "user")
		r := want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "sam", "password": canaries[4]}), http.StatusOK)
		var login struct {
			User      userDoc `json:"user"`
			CSRFToken string  `json:"csrf_token"`
		}
		r.json(t, &login)
		var cookie *http.Cookie
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == "sy_session" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure || cookie.Path != "/" || cookie.MaxAge <= 0 {
			t.Fatalf("session cookie = %+v (Set-Cookie %q)", cookie, r.Header.Get("Set-Cookie"))
		}
		if login.User.Username != "sam" || login.CSRFToken == "" {
			t.Fatalf("login = %s", r.Body)
		}

		// GET /session returns the CSRF token of the cookie's session.
		var s struct {
			User      userDoc `json:"user"`
			CSRFToken string  `json:"csrf_token"`
		}
		want(t, e.send(request{method: "GET", path: "/api/v1/session", cookies: []*http.Cookie{cookie}}), http.StatusOK).json(t, &s)
		if s.CSRFToken != login.CSRFToken || s.User.Username != "sam" {
			t.Fatalf("session = %+v", s)
		}

		// An unsafe cookie request needs the CSRF token: without it, or with
		// a wrong one, nothing happens.
		body := map[string]any{"name": "from-browser", "models": []string{"gpt-4o-mini"}}
		r = want(t, e.send(request{method: "POST", path: "/api/v1/connections", body: body, cookies: []*http.Cookie{cookie}}), http.StatusForbidden)
		if r.problem(t).Code != "forbidden" {
			t.Fatalf("problem = %s", r.Body)
		}
		want(t, e.send(request{method: "POST", path: "/api/v1/connections", body: body, cookies: []*http.Cookie{cookie},
			header: map[string]string{"X-CSRF-Token": "not-the-token"}}), http.StatusForbidden)
		var list connectionList
		want(t, e.send(request{method: "GET", path: "/api/v1/connections", cookies: []*http.Cookie{cookie}}), http.StatusOK).json(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("a request without the CSRF token created %+v", list.Items)
		}
		want(t, e.withSession(cookie, login.CSRFToken, "POST", "/api/v1/connections", body), http.StatusCreated)
		// Logging out needs it too.
		want(t, e.send(request{method: "DELETE", path: "/api/v1/session", cookies: []*http.Cookie{cookie}}), http.StatusForbidden)

		// Logout clears the cookie and ends the session.
		r = want(t, e.withSession(cookie, login.CSRFToken, "DELETE", "/api/v1/session", nil), http.StatusNoContent)
		var cleared *http.Cookie
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == "sy_session" {
				cleared = c
			}
		}
		if cleared == nil || cleared.Value != "" || cleared.MaxAge >= 0 {
			t.Fatalf("logout Set-Cookie = %q", r.Header.Get("Set-Cookie"))
		}
		r = want(t, e.send(request{method: "GET", path: "/api/v1/session", cookies: []*http.Cookie{cookie}}), http.StatusUnauthorized)
		if r.problem(t).Code != "unauthorized" {
			t.Fatalf("problem = %s", r.Body)
		}
	})
}

func TestLoginFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		e.newUser("sam", "user")
		// A wrong password reads exactly like an unknown user.
		wrong := want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "sam", "password": "wrong password here"}), http.StatusUnauthorized)
		unknown := want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "nobody", "password": "wrong password here"}), http.StatusUnauthorized)
		pw, pu := wrong.problem(t), unknown.problem(t)
		if pw.Detail != pu.Detail || pw.Code != pu.Code || pw.Title != pu.Title {
			t.Fatalf("wrong password %q and unknown user %q answer differently", pw.Detail, pu.Detail)
		}
		if wrong.Header.Get("Set-Cookie") != "" {
			t.Fatalf("a failed login set a cookie: %q", wrong.Header.Get("Set-Cookie"))
		}
		// Five failures for one user are allowed; the sixth attempt is 429,
		// even with the right password.
		for range 4 {
			want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "sam", "password": "wrong password here"}), http.StatusUnauthorized)
		}
		r := want(t, e.anon("POST", "/api/v1/session", map[string]any{"username": "sam", "password": canaries[4]}), http.StatusTooManyRequests)
		if r.problem(t).Code != "rate_limited" {
			t.Fatalf("problem = %s", r.Body)
		}
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n <= 0 {
			t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
		// Other users are not locked out by it.
		e.newUser("kim", "user")
		e.login("kim", canaries[4])
	})
}
