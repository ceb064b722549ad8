package tokenauth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/tokenauth"
)

var gcpKey = sync.OnceValues(func() (*rsa.PrivateKey, string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	p := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	// The key's base64 body is a canary: no piece of it may be shown.
	body := strings.Join(strings.Split(p, "\n")[1:len(strings.Split(p, "\n"))-2], "")
	addCanary(body)
	return k, p
})

func saJSON(t *testing.T, fields map[string]any) string {
	t.Helper()
	_, p := gcpKey()
	m := map[string]any{
		"type":           "service_account",
		"project_id":     "proj-1",
		"private_key_id": "kid-1",
		"private_key":    p,
		"client_email":   "gateway@proj-1.iam.gserviceaccount.com",
		"client_id":      "1234",
		"auth_uri":       "https://accounts.google.com/o/oauth2/auth",
		"token_uri":      "https://oauth2.googleapis.com/token",
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gcpCred(sa string, config map[string]string) switchyard.Credential {
	return switchyard.Credential{Method: switchyard.AuthGCPServiceAccount, Config: config,
		Secrets: secrets("service_account_json", sa)}
}

// verifyAssertion checks a JWT's RS256 signature with the test key and
// returns its header and claims.
func verifyAssertion(t *testing.T, jwt string) (header, claims map[string]any) {
	t.Helper()
	k, _ := gcpKey()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("the assertion is not signed by the service account key: %v", err)
	}
	for i, out := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestGCPServiceAccount(t *testing.T) {
	ts := newTokenServer(t, true)
	tokenURI := ts.URL + "/token"
	sa := saJSON(t, map[string]any{"token_uri": tokenURI})
	a := mustFactory(t, gcpCred(sa, nil), provider.AuthOptions{HTTP: guarded(t, ts.Server)})

	for range 3 {
		if got := mustApply(t, a); got != "Bearer tok-1" {
			t.Fatalf("Authorization %q", got)
		}
	}
	if n := ts.count(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	r := ts.last()
	if r.Path != "/token" {
		t.Errorf("path %q", r.Path)
	}
	if got := r.Form.Get("grant_type"); got != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Errorf("grant_type %q", got)
	}
	h, c := verifyAssertion(t, r.Form.Get("assertion"))
	if h["alg"] != "RS256" || h["kid"] != "kid-1" {
		t.Errorf("header %v", h)
	}
	if c["iss"] != "gateway@proj-1.iam.gserviceaccount.com" {
		t.Errorf("iss %v", c["iss"])
	}
	if c["aud"] != tokenURI {
		t.Errorf("aud %v, want %s", c["aud"], tokenURI)
	}
	if c["scope"] != "https://www.googleapis.com/auth/cloud-platform" {
		t.Errorf("scope %v", c["scope"])
	}

	if !a.Invalidate() {
		t.Fatal("Invalidate reported no token")
	}
	if got := mustApply(t, a); got != "Bearer tok-2" {
		t.Fatalf("Authorization %q after Invalidate", got)
	}

	// Scopes from the config.
	a = mustFactory(t, gcpCred(sa, map[string]string{"scopes": "https://a.example/x, https://b.example/y"}),
		provider.AuthOptions{HTTP: guarded(t, ts.Server)})
	mustApply(t, a)
	if _, c := verifyAssertion(t, ts.last().Form.Get("assertion")); c["scope"] != "https://a.example/x https://b.example/y" {
		t.Errorf("scope %v", c["scope"])
	}
}

func TestGCPTokenEndpointRefusal(t *testing.T) {
	ts := newTokenServer(t, true)
	ts.failStatus = http.StatusBadRequest
	ts.failBody = `{"error":"invalid_grant","error_description":"Invalid JWT Signature.","echo":"RAWBODYMARKER"}`
	a := mustFactory(t, gcpCred(saJSON(t, map[string]any{"token_uri": ts.URL + "/token"}), nil),
		provider.AuthOptions{HTTP: guarded(t, ts.Server)})
	_, err := apply(t, a)
	e := providerError(t, err, provider.CodeAuth)
	for _, want := range []string{ts.host(), "400", "invalid_grant", "Invalid JWT Signature."} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q does not name %q", safe(err), want)
		}
	}
	if strings.Contains(err.Error(), "RAWBODYMARKER") {
		t.Errorf("message %q shows the raw body", safe(err))
	}
}

// x/oauth2/jwt formats transport errors with %v; the guard's refusal must
// still come out as blocked_destination.
func TestGCPTokenURIRefusedByGuard(t *testing.T) {
	a := mustFactory(t, gcpCred(saJSON(t, map[string]any{"token_uri": "https://169.254.169.254/token"}), nil),
		provider.AuthOptions{HTTP: guarded(t, nil)})
	_, err := apply(t, a)
	e := providerError(t, err, provider.CodeBlocked)
	if !strings.Contains(e.Message, "169.254.169.254") {
		t.Errorf("message %q", safe(err))
	}
}

func TestGCPServiceAccountErrors(t *testing.T) {
	_, pemKey := gcpKey()
	if !leaks(pemKey) {
		t.Fatal("the canary check does not see the private key")
	}
	cases := []struct {
		name string
		json string
		want string
	}{
		{"no type", saJSON(t, map[string]any{"type": nil}), `"type"`},
		{"external account", saJSON(t, map[string]any{"type": "external_account"}), "external_account"},
		{"authorized user", saJSON(t, map[string]any{"type": "authorized_user"}), "service_account"},
		{"no client_email", saJSON(t, map[string]any{"client_email": nil}), "client_email"},
		{"no private_key", saJSON(t, map[string]any{"private_key": nil}), "private_key"},
		{"private_key not PEM", saJSON(t, map[string]any{"private_key": strings.ReplaceAll(pemKey, "-----", "")}), "private_key"},
		{"private_key truncated", saJSON(t, map[string]any{"private_key": pemKey[:len(pemKey)/2] + "\n-----END PRIVATE KEY-----\n"}), "private_key"},
		{"private_key a number", saJSON(t, map[string]any{"private_key": 12}), "private_key"},
		{"http token_uri", saJSON(t, map[string]any{"token_uri": "http://oauth2.googleapis.com/token"}), "https"},
		{"token_uri userinfo", saJSON(t, map[string]any{"token_uri": "https://u:p@oauth2.googleapis.com/token"}), "user information"},
		{"not JSON", saJSON(t, nil)[:200], "not valid JSON"},
		{"bad escape in key", strings.Replace(saJSON(t, nil), `\n`, `\q`, 3), "not valid JSON"},
		{"array", `[` + saJSON(t, nil) + `]`, "JSON object"},
		{"empty", "", "service_account_json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokenauth.Factory(gcpCred(tc.json, nil), provider.AuthOptions{HTTP: guarded(t, nil)})
			e := providerError(t, err, provider.CodeAuth)
			if !strings.Contains(e.Message, tc.want) {
				t.Errorf("message %q should name %q", safe(err), tc.want)
			}
		})
	}
}

// x/oauth2/jwt posts without a context; the request's deadline still
// bounds the fetch.
func TestGCPFetchHonoursContext(t *testing.T) {
	ts := newTokenServer(t, true)
	ts.delay = 3 * time.Second
	a := mustFactory(t, gcpCred(saJSON(t, map[string]any{"token_uri": ts.URL + "/token"}), nil),
		provider.AuthOptions{HTTP: guarded(t, ts.Server)})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://upstream.example/", nil)
	start := time.Now()
	err := a.Apply(ctx, req, nil)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Apply took %v despite a 200 ms deadline", d)
	}
	providerError(t, err, provider.CodeTimeout)
}
