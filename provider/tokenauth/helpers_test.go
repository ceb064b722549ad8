package tokenauth_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
	"github.com/switchyard/switchyard/provider/tokenauth"
)

// Canary secrets: no piece of them may appear in an error or a log line.
const (
	clientSecretCanary = "csCANARYq7Wm2Rk9Zp4Lx8Tn"
	awsSecretCanary    = "awsSKCANARYv3Hj8Nq2Ws6Ye1Ub5Rc9Fa0Gd7Lk"
	sessionCanary      = "stCANARYm4Pq9Xz2Kw7Jb3Vh8Tn6Rd1Cs5Gf0"
)

// extraCanaries holds secrets made at run time (the GCP test key).
var extraCanaries struct {
	mu sync.Mutex
	s  []string
}

func addCanary(s string) {
	extraCanaries.mu.Lock()
	extraCanaries.s = append(extraCanaries.s, s)
	extraCanaries.mu.Unlock()
}

// leaks reports whether text holds any 8-character piece of a canary.
func leaks(text string) bool {
	extraCanaries.mu.Lock()
	all := append([]string{clientSecretCanary, awsSecretCanary, sessionCanary}, extraCanaries.s...)
	extraCanaries.mu.Unlock()
	for _, s := range all {
		for i := 0; i+8 <= len(s); i++ {
			if strings.Contains(text, s[i:i+8]) {
				return true
			}
		}
	}
	return false
}

// assertNoSecret fails if text holds any piece of a canary secret.
func assertNoSecret(t *testing.T, text string) {
	t.Helper()
	if leaks(text) {
		t.Errorf("an error contains part of a canary secret; it is not shown")
	}
}

// safe returns err's text for a test message, unless it leaks a canary.
func safe(err error) string {
	if err == nil {
		return "<nil>"
	}
	if leaks(err.Error()) {
		return "(error withheld: it contains part of a canary secret)"
	}
	return err.Error()
}

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// guarded returns the netguard client that admits loopback only, trusting
// srv's certificate when it has one.
func guarded(t *testing.T, srv *httptest.Server) *http.Client {
	t.Helper()
	p, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	var opts netguard.ClientOptions
	if srv != nil && srv.TLS != nil {
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		opts.RootCAs = pool
	}
	return p.Client(opts)
}

// tokenRequest is what a token endpoint received.
type tokenRequest struct {
	Path       string
	Form       url.Values
	BasicUser  string
	BasicPass  string
	HasBasic   bool
	ContentTyp string
}

// clientID returns the client id and secret, from Basic auth or the form.
func (r tokenRequest) credentials() (id, secret string) {
	if r.HasBasic {
		id, _ = url.QueryUnescape(r.BasicUser)
		secret, _ = url.QueryUnescape(r.BasicPass)
		return id, secret
	}
	return r.Form.Get("client_id"), r.Form.Get("client_secret")
}

// tokenServer is a token endpoint that answers with issued tokens
// ("tok-1", "tok-2", …) unless fail says otherwise.
type tokenServer struct {
	*httptest.Server
	mu        sync.Mutex
	requests  []tokenRequest
	expiresIn int
	delay     time.Duration
	// fail, when set, answers instead: status and body.
	failStatus int
	failBody   string
}

func newTokenServer(t *testing.T, tls bool) *tokenServer {
	ts := &tokenServer{expiresIn: 3600}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		u, p, ok := r.BasicAuth()
		ts.mu.Lock()
		ts.requests = append(ts.requests, tokenRequest{Path: r.URL.Path, Form: r.PostForm, BasicUser: u, BasicPass: p,
			HasBasic: ok, ContentTyp: r.Header.Get("Content-Type")})
		n, status, body, exp, delay := len(ts.requests), ts.failStatus, ts.failBody, ts.expiresIn, ts.delay
		ts.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "tok-" + itoa(n), "token_type": "Bearer", "expires_in": exp,
		})
	})
	if tls {
		ts.Server = httptest.NewTLSServer(h)
	} else {
		ts.Server = httptest.NewServer(h)
	}
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.requests)
}

func (ts *tokenServer) last() tokenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.requests[len(ts.requests)-1]
}

func (ts *tokenServer) host() string {
	return strings.TrimPrefix(strings.TrimPrefix(ts.URL, "https://"), "http://")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// secrets builds a credential's secrets.
func secrets(kv ...string) map[string]switchyard.Secret {
	m := map[string]switchyard.Secret{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = switchyard.NewSecret(kv[i+1])
	}
	return m
}

// apply authenticates a fresh request and returns its Authorization header.
func apply(t *testing.T, a provider.Authenticator) (string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://upstream.example/v1/chat", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Apply(context.Background(), req, []byte("{}")); err != nil {
		return "", err
	}
	return req.Header.Get("Authorization"), nil
}

func mustApply(t *testing.T, a provider.Authenticator) string {
	t.Helper()
	h, err := apply(t, a)
	if err != nil {
		t.Fatalf("Apply: %s", safe(err))
	}
	return h
}

func mustFactory(t *testing.T, cred switchyard.Credential, opts provider.AuthOptions) provider.Authenticator {
	t.Helper()
	a, err := tokenauth.Factory(cred, opts)
	if err != nil {
		t.Fatalf("Factory: %s", safe(err))
	}
	return a
}

// providerError asserts that err is a *provider.Error with code.
func providerError(t *testing.T, err error, code string) *provider.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s", code)
	}
	assertNoSecret(t, err.Error())
	e, ok := provider.AsError(err)
	if !ok {
		t.Fatalf("error %T is not a *provider.Error: %s", err, safe(err))
	}
	if e.Code != code {
		t.Fatalf("code %q, want %q: %s", e.Code, code, safe(err))
	}
	return e
}

var errWrongKey = errors.New("secret: cannot decrypt with the current key")
