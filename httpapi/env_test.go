package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/httpapi"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// canaries are secrets the API tests send; no response body or log line
// may ever contain any part of them (see checkNoLeaks).
var canaries = []string{
	"sk-Qz7vK2mXw9Lp4Rt8Yb3Nc6Hd1Fg5Js0A",
	"hd-Vx3Bq8Wm2Zk7Pn4Tr9Ly6Gc1Sd5Hf0J",
	"aw-Mk8Xz3Qv7Rp2Wn6Lt9By4Hc1Gd5Fs0K",
	"by-Tn4Wq9Zx2Vk7Mp3Rl8Yc6Bh1Gf5Dd0S",
	"pw-Lr6Kz1Xq8Wv3Nm9Pt4Yb7Hc2Gd5Fs0T",
	"tp-Zw2Qx7Vk3Mr8Pn4Lt9Yc6Bh1Gd5Fs0U",
	"wh-Hq5Zx9Vm2Kr7Pn3Lt8Yc4Bd1Gf6Fs0W",
	"sl-Jt3Wq8Zx5Vk2Mp7Rl4Yc9Bh1Gd6Fs0X",
}

// adminToken is the bootstrap admin's API token in every test server.
const adminToken = "syt_test-admin-token-0123456789abcdefXYZ"

// env is a running API on a fresh database, with an admin and a user.
type env struct {
	t          *testing.T
	db         *sqlstore.DB
	ctl        *control.Service
	srv        *httptest.Server
	spec       *httpapi.Spec
	userToken  string
	adminID    string
	userID     string
	logs       *lockedBuffer
	mu         sync.Mutex
	bodies     [][]byte
	validating bool
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newEnv(t *testing.T, b storetest.Backend) *env {
	t.Helper()
	return newEnvWith(t, b, nil)
}

// newEnvWith is newEnv with a chance to change the control plane's
// configuration (to give it a connectivity tester, say).
func newEnvWith(t *testing.T, b storetest.Backend, configure func(*control.Config)) *env {
	t.Helper()
	return newEnvServer(t, b, configure, nil)
}

// newEnvServer is newEnvWith with a chance to change the server's
// configuration too.
func newEnvServer(t *testing.T, b storetest.Backend, configure func(*control.Config), server func(*httpapi.Config)) *env {
	t.Helper()
	ctx := context.Background()
	db := b.Open(t)
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Seed(ctx, db); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cc := control.Config{Store: db, Catalog: cat, Logger: log}
	if configure != nil {
		configure(&cc)
	}
	ctl, err := control.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ctl.Bootstrap(ctx, adminToken)
	if err != nil || !res.Created || !res.Token {
		t.Fatalf("bootstrap: %+v, %v", res, err)
	}
	sc := httpapi.Config{Logger: log, DB: db, Control: ctl, MaxBodyBytes: 64 << 10}
	if server != nil {
		server(&sc)
	}
	h, err := httpapi.NewServer(sc)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := httpapi.LoadSpec(api.YAML)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, ctl: ctl, srv: httptest.NewServer(h), spec: spec, logs: logs, validating: true}
	t.Cleanup(e.srv.Close)
	admin, err := db.GetUserByUsername(ctx, control.BootstrapUsername)
	if err != nil {
		t.Fatal(err)
	}
	e.adminID = admin.ID
	// A plain user with a token, made through the store.
	u := &switchyard.User{Username: "uma", Role: switchyard.RoleUser}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok, hash, display, err := auth.NewToken(auth.PrefixAPIToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, &switchyard.APIToken{UserID: u.ID, Name: "test", Hash: hash, Prefix: display}); err != nil {
		t.Fatal(err)
	}
	e.userID, e.userToken = u.ID, tok
	t.Cleanup(e.checkNoLeaks)
	return e
}

// resp is a decoded answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem decodes a problem document.
func (r resp) problem(t *testing.T) problemDoc {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("error answer has Content-Type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p problemDoc
	r.json(t, &p)
	return p
}

type problemDoc struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field, Code, Message string
	} `json:"errors"`
}

func (p problemDoc) hasField(field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// request sends a request; body is JSON-encoded unless it is a string or
// []byte. Every answer is validated against the OpenAPI document.
type request struct {
	method, path, token string
	body                any
	header              map[string]string
	cookies             []*http.Cookie
}

func (e *env) send(r request) resp {
	e.t.Helper()
	var body io.Reader
	var raw []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	if raw != nil {
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(r.method, e.srv.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		req.AddCookie(c)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, got, []byte(res.Header.Get("Set-Cookie")))
	e.mu.Unlock()
	out := resp{Status: res.StatusCode, Header: res.Header, Body: got}
	if e.validating {
		e.validate(req, raw, out)
	}
	return out
}

// validate checks an answer against the OpenAPI document.
func (e *env) validate(req *http.Request, body []byte, r resp) {
	e.t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") || strings.HasPrefix(req.URL.Path, "/api/v1/openapi") {
		return
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	// Route on the path alone, as the server sees it.
	routed := req.Clone(context.Background())
	routed.URL.Scheme, routed.URL.Host = "", ""
	route, params, err := e.spec.FindRoute(routed)
	if err != nil {
		// Unknown paths and methods answer with a problem document.
		if r.Header.Get("Content-Type") != "application/problem+json" {
			e.t.Errorf("%s %s: unknown route answered %d with %q", req.Method, req.URL.Path, r.Status, r.Header.Get("Content-Type"))
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: routed, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil }}},
		Status: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		e.t.Errorf("%s %s answered %d, which does not match the OpenAPI document: %v\nbody: %s", req.Method, req.URL.Path, r.Status, err, r.Body)
	}
}

func (e *env) admin(method, path string, body any) resp {
	e.t.Helper()
	return e.send(request{method: method, path: path, token: adminToken, body: body})
}

func (e *env) user(method, path string, body any) resp {
	e.t.Helper()
	return e.send(request{method: method, path: path, token: e.userToken, body: body})
}

func (e *env) anon(method, path string, body any) resp {
	e.t.Helper()
	return e.send(request{method: method, path: path, body: body})
}

// want fails unless the answer has the given status.
func want(t *testing.T, r resp, status int) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

// checkNoLeaks scans every answer and log line for any 8 characters of a
// canary secret.
func (e *env) checkNoLeaks() {
	e.mu.Lock()
	all := bytes.Join(e.bodies, []byte("\n"))
	e.mu.Unlock()
	all = append(all, e.logs.String()...)
	for _, c := range canaries {
		for i := 0; i+8 <= len(c); i++ {
			if bytes.Contains(all, []byte(c[i:i+8])) {
				e.t.Errorf("a response or log line contains %q, part of the secret %q", c[i:i+8], c)
				break
			}
		}
	}
}

// forEachBackend runs fn against SQLite and, when configured, PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, b))
		})
	}
}
