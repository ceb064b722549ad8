package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
)

type tokenDoc struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Token     *string    `json:"token"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

type tokenList struct {
	Items []tokenDoc `json:"items"`
}

func TestTokenLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := want(t, e.user("POST", "/api/v1/tokens", map[string]any{"name": "ci", "expires_in_days": 30}), http.StatusCreated)
		var tok tokenDoc
		r.json(t, &tok)
		if tok.Token == nil || !strings.HasPrefix(*tok.Token, auth.PrefixAPIToken) || !strings.HasPrefix(*tok.Token, strings.TrimSuffix(tok.Prefix, "…")) ||
			tok.UserID != e.userID || tok.ExpiresAt == nil {
			t.Fatalf("created %s", r.Body)
		}
		if d := time.Until(*tok.ExpiresAt); d < 29*24*time.Hour || d > 30*24*time.Hour {
			t.Fatalf("expires in %s, want 30 days", d)
		}
		secret := *tok.Token
		if stored, err := e.db.GetTokenByHash(t.Context(), auth.HashToken(secret)); err != nil || stored.ID != tok.ID {
			t.Fatalf("stored by hash: %v", err)
		}
		// The new token acts as its user, with the user's role.
		var s struct {
			User userDoc `json:"user"`
		}
		want(t, e.send(request{method: "GET", path: "/api/v1/session", token: secret}), http.StatusOK).json(t, &s)
		if s.User.ID != e.userID {
			t.Fatalf("the token acts as %+v", s.User)
		}
		want(t, e.send(request{method: "GET", path: "/api/v1/users", token: secret}), http.StatusForbidden)

		// The list shows it without the secret.
		var list tokenList
		r = want(t, e.user("GET", "/api/v1/tokens", nil), http.StatusOK)
		r.json(t, &list)
		if len(list.Items) != 2 || strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), `"token"`) {
			t.Fatalf("list = %s", r.Body)
		}
		// A token without expiry.
		var forever tokenDoc
		want(t, e.user("POST", "/api/v1/tokens", map[string]any{"name": "forever"}), http.StatusCreated).json(t, &forever)
		if forever.ExpiresAt != nil {
			t.Fatalf("forever = %+v", forever)
		}
		// Bad input is named.
		for _, body := range []map[string]any{{"name": ""}, {"name": "x", "expires_in_days": 0}, {"name": "x", "user_id": e.adminID}} {
			r = want(t, e.user("POST", "/api/v1/tokens", body), http.StatusBadRequest)
			if pd := r.problem(t); !pd.hasField("name") && !pd.hasField("expires_in_days") && !pd.hasField("user_id") {
				t.Fatalf("problem = %s", r.Body)
			}
		}

		// Revoked: 401 on its next request; revoking twice is fine.
		want(t, e.user("DELETE", "/api/v1/tokens/"+tok.ID, nil), http.StatusNoContent)
		r = want(t, e.send(request{method: "GET", path: "/api/v1/session", token: secret}), http.StatusUnauthorized)
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("401 without WWW-Authenticate: %v", r.Header)
		}
		want(t, e.user("DELETE", "/api/v1/tokens/"+tok.ID, nil), http.StatusNoContent)
		want(t, e.user("GET", "/api/v1/tokens", nil), http.StatusOK).json(t, &list)
		for _, it := range list.Items {
			if it.ID == tok.ID && it.RevokedAt == nil {
				t.Fatalf("the revoked token is listed without revoked_at: %+v", it)
			}
		}
		want(t, e.user("DELETE", "/api/v1/tokens/no-such", nil), http.StatusNotFound)
	})
}

func TestExpiredToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		secret, hash, display, err := auth.NewToken(auth.PrefixAPIToken)
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().Add(-time.Minute)
		if err := e.db.CreateToken(t.Context(), &switchyard.APIToken{UserID: e.userID, Name: "old", Hash: hash, Prefix: display, ExpiresAt: &past}); err != nil {
			t.Fatal(err)
		}
		want(t, e.send(request{method: "GET", path: "/api/v1/session", token: secret}), http.StatusUnauthorized)
	})
}

func TestTokensRoleMatrix(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		var adminTok, userTok tokenDoc
		want(t, e.admin("POST", "/api/v1/tokens", map[string]any{"name": "admin-ci"}), http.StatusCreated).json(t, &adminTok)
		want(t, e.user("POST", "/api/v1/tokens", map[string]any{"name": "user-ci"}), http.StatusCreated).json(t, &userTok)

		// A user lists only their own, and cannot ask for someone else's.
		var list tokenList
		want(t, e.user("GET", "/api/v1/tokens", nil), http.StatusOK).json(t, &list)
		for _, it := range list.Items {
			if it.UserID != e.userID {
				t.Fatalf("a user lists %+v", it)
			}
		}
		want(t, e.user("GET", "/api/v1/tokens?user_id="+e.userID, nil), http.StatusOK)
		want(t, e.user("GET", "/api/v1/tokens?user_id="+e.adminID, nil), http.StatusForbidden)
		// Another user's token does not exist for them.
		want(t, e.user("DELETE", "/api/v1/tokens/"+adminTok.ID, nil), http.StatusNotFound)
		// The anonymous get 401.
		want(t, e.anon("GET", "/api/v1/tokens", nil), http.StatusUnauthorized)
		want(t, e.anon("POST", "/api/v1/tokens", map[string]any{"name": "x"}), http.StatusUnauthorized)
		want(t, e.anon("DELETE", "/api/v1/tokens/"+adminTok.ID, nil), http.StatusUnauthorized)
		// Nothing refused changed anything.
		want(t, e.send(request{method: "GET", path: "/api/v1/users", token: *adminTok.Token}), http.StatusOK)
		if ts, _ := e.db.ListTokens(t.Context(), e.adminID); len(ts) != 2 {
			t.Fatalf("admin tokens = %d", len(ts))
		}

		// Admins list anyone's and revoke any.
		want(t, e.admin("GET", "/api/v1/tokens?user_id="+e.userID, nil), http.StatusOK).json(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("the user's tokens, as an admin sees them: %+v", list.Items)
		}
		want(t, e.admin("GET", "/api/v1/tokens?user_id=no-such", nil), http.StatusNotFound)
		want(t, e.admin("DELETE", "/api/v1/tokens/"+userTok.ID, nil), http.StatusNoContent)
		want(t, e.send(request{method: "GET", path: "/api/v1/session", token: *userTok.Token}), http.StatusUnauthorized)
		want(t, e.user("GET", "/api/v1/session", nil), http.StatusOK)
	})
}
