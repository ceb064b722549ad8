package tokenauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/tokenauth"
)

func oauth2Cred(tokenURL string) switchyard.Credential {
	return switchyard.Credential{
		Method: switchyard.AuthOAuth2,
		Config: map[string]string{"client_id": "switchyard-client", "token_url": tokenURL,
			"scopes": "models.read, chat.write   admin", "audience": "https://api.example"},
		Secrets: secrets("client_secret", clientSecretCanary),
	}
}

func TestClientCredentialsFetchesOnceAndReuses(t *testing.T) {
	ts := newTokenServer(t, false)
	clk := newClock()
	a := mustFactory(t, oauth2Cred(ts.URL+"/oauth/token"), provider.AuthOptions{HTTP: guarded(t, ts.Server), Now: clk.Now})

	for range 10 {
		if got := mustApply(t, a); got != "Bearer tok-1" {
			t.Fatalf("Authorization %q, want Bearer tok-1", got)
		}
	}
	if n := ts.count(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}

	r := ts.last()
	if r.Path != "/oauth/token" {
		t.Errorf("path %q", r.Path)
	}
	if got := r.Form.Get("grant_type"); got != "client_credentials" {
		t.Errorf("grant_type %q", got)
	}
	if id, secret := r.credentials(); id != "switchyard-client" || secret != clientSecretCanary {
		t.Errorf("client id %q and the client secret (matches: %v) not sent", id, secret == clientSecretCanary)
	}
	if got := r.Form.Get("scope"); got != "models.read chat.write admin" {
		t.Errorf("scope %q", got)
	}
	if got := r.Form.Get("audience"); got != "https://api.example" {
		t.Errorf("audience %q", got)
	}
}

func TestClientCredentialsRefreshesBeforeExpiry(t *testing.T) {
	ts := newTokenServer(t, false)
	clk := newClock()
	a := mustFactory(t, oauth2Cred(ts.URL), provider.AuthOptions{HTTP: guarded(t, ts.Server), Now: clk.Now})

	mustApply(t, a)
	clk.Advance(3500 * time.Second) // 100 s left: still used
	if got := mustApply(t, a); got != "Bearer tok-1" || ts.count() != 1 {
		t.Fatalf("Authorization %q after %d fetches; want the first token reused", got, ts.count())
	}
	clk.Advance(41 * time.Second) // 59 s left: replaced 60 s early
	if got := mustApply(t, a); got != "Bearer tok-2" || ts.count() != 2 {
		t.Fatalf("Authorization %q after %d fetches; want a second token", got, ts.count())
	}
	if got := mustApply(t, a); got != "Bearer tok-2" || ts.count() != 2 {
		t.Fatalf("Authorization %q after %d fetches; want the second token reused", got, ts.count())
	}
}

func TestShortLivedTokenRefreshedAtHalfLife(t *testing.T) {
	ts := newTokenServer(t, false)
	ts.expiresIn = 20
	clk := newClock()
	a := mustFactory(t, oauth2Cred(ts.URL), provider.AuthOptions{HTTP: guarded(t, ts.Server), Now: clk.Now})

	mustApply(t, a)
	clk.Advance(5 * time.Second)
	mustApply(t, a)
	if n := ts.count(); n != 1 {
		t.Fatalf("%d fetches after 5 s of a 20 s token, want 1", n)
	}
	clk.Advance(6 * time.Second)
	mustApply(t, a)
	if n := ts.count(); n != 2 {
		t.Fatalf("%d fetches after 11 s of a 20 s token, want 2", n)
	}
}

func TestInvalidateFetchesAnew(t *testing.T) {
	ts := newTokenServer(t, false)
	a := mustFactory(t, oauth2Cred(ts.URL), provider.AuthOptions{HTTP: guarded(t, ts.Server)})

	if a.Invalidate() {
		t.Error("Invalidate reported a token before any was fetched")
	}
	mustApply(t, a)
	if !a.Invalidate() {
		t.Fatal("Invalidate reported no token")
	}
	if a.Invalidate() {
		t.Error("a second Invalidate reported a token")
	}
	if got := mustApply(t, a); got != "Bearer tok-2" {
		t.Fatalf("Authorization %q after Invalidate, want Bearer tok-2", got)
	}
}

// The provider client retries once after a 401 with a fresh token.
func TestClientRetriesWithFreshToken(t *testing.T) {
	ts := newTokenServer(t, false)
	var mu sync.Mutex
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer tok-2" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer up.Close()
	hc := guarded(t, ts.Server)
	a := mustFactory(t, oauth2Cred(ts.URL), provider.AuthOptions{HTTP: hc})
	c := &provider.Client{HTTP: hc, Auth: a, BaseURL: up.URL}
	if err := c.JSON(context.Background(), http.MethodPost, "/v1/chat", map[string]string{}, nil); err != nil {
		t.Fatalf("JSON: %s", safe(err))
	}
	if strings.Join(seen, ",") != "Bearer tok-1,Bearer tok-2" {
		t.Errorf("upstream saw %q", seen)
	}
}

func TestConcurrentRequestsShareOneFetch(t *testing.T) {
	ts := newTokenServer(t, false)
	ts.delay = 50 * time.Millisecond
	a := mustFactory(t, oauth2Cred(ts.URL), provider.AuthOptions{HTTP: guarded(t, ts.Server)})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := apply(t, a); err != nil {
				t.Errorf("Apply: %s", safe(err))
			}
		})
	}
	wg.Wait()
	if n := ts.count(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
}

func TestTokenEndpointRefusal(t *testing.T) {
	ts := newTokenServer(t, false)
	ts.failStatus = http.StatusUnauthorized
	ts.failBody = `{"error":"invalid_client","error_description":"Client authentication failed","trace":"RAWBODYMARKER ` + clientSecretCanary + `"}`
	a := mustFactory(t, oauth2Cred(ts.URL), provider.AuthOptions{HTTP: guarded(t, ts.Server)})

	_, err := apply(t, a)
	e := providerError(t, err, provider.CodeAuth)
	for _, want := range []string{ts.host(), "401", "invalid_client", "Client authentication failed"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q does not name %q", safe(err), want)
		}
	}
	if strings.Contains(err.Error(), "RAWBODYMARKER") {
		t.Errorf("message %q shows the raw body", safe(err))
	}
	if a.Invalidate() {
		t.Error("Invalidate reported a token after a failed fetch")
	}

	// A body that is not OAuth2 JSON: status only.
	ts.mu.Lock()
	ts.failStatus, ts.failBody = http.StatusInternalServerError, "<html>RAWBODYMARKER stack trace</html>"
	ts.mu.Unlock()
	_, err = apply(t, a)
	e = providerError(t, err, provider.CodeAuth)
	if !strings.Contains(e.Message, ts.host()) || !strings.Contains(e.Message, "500") || strings.Contains(err.Error(), "RAWBODYMARKER") {
		t.Errorf("message %q: want the host and status, not the body", safe(err))
	}
}

func TestTokenURLRefusedByGuard(t *testing.T) {
	for _, u := range []string{"http://169.254.169.254/latest/token", "https://10.0.0.1/token", "http://[::1]:9/token"} {
		a := mustFactory(t, oauth2Cred(u), provider.AuthOptions{HTTP: guarded(t, nil)})
		_, err := apply(t, a)
		e := providerError(t, err, provider.CodeBlocked)
		if !strings.Contains(e.Message, "netguard") || !strings.Contains(e.Message, "token endpoint") {
			t.Errorf("%s: message %q", u, safe(err))
		}
	}
}

func TestAzureAD(t *testing.T) {
	ts := newTokenServer(t, true)
	hc := guarded(t, ts.Server)
	cred := switchyard.Credential{
		Method: switchyard.AuthAzureAD,
		Config: map[string]string{"tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "client_id": "app-1",
			"authority_host": ts.host()},
		Secrets: secrets("client_secret", clientSecretCanary),
	}
	a := mustFactory(t, cred, provider.AuthOptions{HTTP: hc})
	if got := mustApply(t, a); got != "Bearer tok-1" {
		t.Fatalf("Authorization %q", got)
	}
	r := ts.last()
	if r.Path != "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token" {
		t.Errorf("path %q", r.Path)
	}
	if got := r.Form.Get("scope"); got != "https://cognitiveservices.azure.com/.default" {
		t.Errorf("scope %q", got)
	}
	if id, secret := r.credentials(); id != "app-1" || secret != clientSecretCanary {
		t.Errorf("client id %q and the client secret (matches: %v) not sent", id, secret == clientSecretCanary)
	}
	if got := r.Form.Get("grant_type"); got != "client_credentials" {
		t.Errorf("grant_type %q", got)
	}

	// A URL-style authority host and a scope override.
	cred.Config["authority_host"] = ts.URL + "/"
	cred.Config["scope"] = "api://my-gateway/.default"
	a = mustFactory(t, cred, provider.AuthOptions{HTTP: hc})
	mustApply(t, a)
	if got := ts.last().Form.Get("scope"); got != "api://my-gateway/.default" {
		t.Errorf("scope %q", got)
	}
}

func TestConfigErrors(t *testing.T) {
	hc := guarded(t, nil)
	base := func() switchyard.Credential { return oauth2Cred("https://idp.example/token") }
	azure := func() switchyard.Credential {
		return switchyard.Credential{Method: switchyard.AuthAzureAD,
			Config:  map[string]string{"tenant_id": "contoso.onmicrosoft.com", "client_id": "app"},
			Secrets: secrets("client_secret", clientSecretCanary)}
	}
	cases := []struct {
		name string
		cred func() switchyard.Credential
		want string
	}{
		{"no client_id", func() switchyard.Credential { c := base(); delete(c.Config, "client_id"); return c }, "client_id"},
		{"no token_url", func() switchyard.Credential { c := base(); delete(c.Config, "token_url"); return c }, "token_url"},
		{"no secret", func() switchyard.Credential { c := base(); c.Secrets = nil; return c }, "client_secret"},
		{"sealed secret", func() switchyard.Credential {
			c := base()
			c.Secrets = map[string]switchyard.Secret{"client_secret": switchyard.SealedSecret("", errWrongKey)}
			return c
		}, "decrypted"},
		{"ftp token_url", func() switchyard.Credential { c := base(); c.Config["token_url"] = "ftp://idp.example/token"; return c }, "https or http"},
		{"relative token_url", func() switchyard.Credential { c := base(); c.Config["token_url"] = "/token"; return c }, "absolute"},
		{"userinfo", func() switchyard.Credential {
			c := base()
			c.Config["token_url"] = "https://user:" + clientSecretCanary + "@idp.example/token"
			return c
		}, "user information"},
		{"azure tenant path", func() switchyard.Credential { c := azure(); c.Config["tenant_id"] = "../evil"; return c }, "tenant_id"},
		{"azure no tenant", func() switchyard.Credential { c := azure(); delete(c.Config, "tenant_id"); return c }, "tenant_id"},
		{"azure http authority", func() switchyard.Credential {
			c := azure()
			c.Config["authority_host"] = "http://login.example"
			return c
		}, "https"},
		{"azure authority path", func() switchyard.Credential {
			c := azure()
			c.Config["authority_host"] = "https://login.example/x"
			return c
		}, "authority_host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cred := tc.cred()
			_, err := tokenauth.Factory(cred, provider.AuthOptions{HTTP: hc})
			e := providerError(t, err, provider.CodeAuth)
			if !strings.Contains(e.Message, tc.want) || !strings.Contains(e.Message, string(cred.Method)) {
				t.Errorf("message %q should name %q and the method", safe(err), tc.want)
			}
		})
	}
}

func TestNoHTTPClientRefused(t *testing.T) {
	if _, err := tokenauth.Factory(oauth2Cred("https://idp.example/token"), provider.AuthOptions{}); err == nil {
		t.Fatal("a token method was built without the guarded client")
	}
}

func TestUnknownMethod(t *testing.T) {
	for _, m := range []switchyard.AuthMethod{"kerberos", switchyard.AuthAPIKey} {
		_, err := tokenauth.Factory(switchyard.Credential{Method: m}, provider.AuthOptions{})
		if err == nil || !strings.Contains(err.Error(), string(m)) {
			t.Errorf("%s: error %v should name the method", m, err)
		}
	}
}
