package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var app = fstest.MapFS{
	"index.html":              {Data: []byte(`<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc123.js"></script>`)},
	"assets/index-abc123.js":  {Data: []byte("console.log('" + strings.Repeat("switchyard ", 400) + "')")},
	"assets/index-abc123.css": {Data: []byte("body{margin:0}")},
	"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	".gitkeep":                {Data: nil},
}

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerServesTheApp(t *testing.T) {
	h := NewHandler(app)
	for _, tc := range []struct {
		name, path  string
		status      int
		cache, body string
		ctype       string
	}{
		{"index at the root", "/", 200, "no-cache", `<div id="root">`, "text/html"},
		{"index by name", "/index.html", 200, "no-cache", `<div id="root">`, "text/html"},
		{"a route of the app falls back to the index", "/providers/0193a1b2", 200, "no-cache", `<div id="root">`, "text/html"},
		{"a deep route with a dot falls back too", "/providers/new.step", 200, "no-cache", `<div id="root">`, "text/html"},
		{"hashed assets are immutable for a year", "/assets/index-abc123.js", 200, "public, max-age=31536000, immutable", "console.log", "text/javascript"},
		{"hashed styles", "/assets/index-abc123.css", 200, "public, max-age=31536000, immutable", "margin:0", "text/css"},
		{"an unhashed file is revalidated", "/favicon.svg", 200, "no-cache", "<svg", "image/svg+xml"},
		{"a missing asset is 404, not the index", "/assets/index-old.js", 404, "", "", ""},
		{"dot files stay hidden", "/.gitkeep", 200, "no-cache", `<div id="root">`, "text/html"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(t, h, "GET", tc.path)
			b := body(t, res)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
			}
			if tc.status != 200 {
				if strings.Contains(b, "root") {
					t.Fatalf("answered with the index page: %s", b)
				}
				return
			}
			if got := res.Header.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tc.ctype) {
				t.Errorf("Content-Type %q, want %s", got, tc.ctype)
			}
			if !strings.Contains(b, tc.body) {
				t.Errorf("body lacks %q: %.200s", tc.body, b)
			}
		})
	}
}

func TestHandlerNeverFallsBackForServerPaths(t *testing.T) {
	h := NewHandler(app)
	for _, p := range []string{"/api", "/api/v1/nope", "/api/v2/providers", "/v1", "/v1/chat/completions", "/docs", "/docs/x",
		"/metrics", "/healthz", "/readyz", "/healthz/", "/./api/v1/x", "//v1/models"} {
		res := get(t, h, "GET", p)
		b := body(t, res)
		if res.StatusCode != 404 || strings.Contains(b, `id="root"`) {
			t.Errorf("GET %s: %d %q, want a 404 that is not the app", p, res.StatusCode, b)
		}
	}
	// Paths that only begin with the same letters are the app's.
	for _, p := range []string{"/apis", "/v1x", "/documents", "/healthzone"} {
		if res := get(t, h, "GET", p); res.StatusCode != 200 {
			t.Errorf("GET %s: %d, want the app", p, res.StatusCode)
		}
	}
}

func TestHandlerCompressesAndSecures(t *testing.T) {
	h := NewHandler(app)
	res := get(t, h, "GET", "/assets/index-abc123.js", "Accept-Encoding", "br, gzip")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.HasPrefix(string(plain), "console.log('switchyard") {
		t.Fatalf("decompressed body %.40q", plain)
	}
	if res := get(t, h, "GET", "/assets/index-abc123.js", "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although refused with q=0")
	}
	if res := get(t, h, "GET", "/assets/index-abc123.js"); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent without Accept-Encoding")
	}

	res = get(t, h, "GET", "/providers")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if res := get(t, h, "POST", "/providers"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to the app: %d, want 405", res.StatusCode)
	}
	if res := get(t, h, "HEAD", "/"); res.StatusCode != 200 {
		t.Errorf("HEAD /: %d", res.StatusCode)
	}
}

func TestHandlerRevalidatesWithETags(t *testing.T) {
	h := NewHandler(app)
	first := get(t, h, "GET", "/")
	tag := first.Header.Get("ETag")
	if tag == "" {
		t.Fatal("index.html has no ETag")
	}
	if res := get(t, h, "GET", "/providers", "If-None-Match", tag); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating the index: %d, want 304", res.StatusCode)
	}
	// The gzipped and plain forms of a file are different representations.
	plain := get(t, h, "GET", "/assets/index-abc123.js").Header.Get("ETag")
	gz := get(t, h, "GET", "/assets/index-abc123.js", "Accept-Encoding", "gzip").Header.Get("ETag")
	if plain == gz {
		t.Errorf("the same ETag %s for the plain and gzipped forms", plain)
	}
}

func TestHandlerWithoutABuildSaysHowToBuild(t *testing.T) {
	h := NewHandler(fstest.MapFS{".gitkeep": {}})
	res := get(t, h, "GET", "/")
	b := body(t, res)
	if res.StatusCode != 404 || !strings.Contains(b, "make build") {
		t.Fatalf("%d %q", res.StatusCode, b)
	}
}

func TestEmbeddedBuildIsServed(t *testing.T) {
	// The embedded dist always compiles; with a build it holds the app.
	h := Handler()
	res := get(t, h, "GET", "/")
	b := body(t, res)
	if res.StatusCode == 200 && !strings.Contains(b, `<div id="root">`) {
		t.Fatalf("the embedded index page is not the app: %.300s", b)
	}
	if res.StatusCode != 200 && !strings.Contains(b, "make build") {
		t.Fatalf("%d %q", res.StatusCode, b)
	}
}
