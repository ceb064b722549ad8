package apidocs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

const specURL = "/api/v1/openapi.json"

// serve sends one request to a fresh handler and returns the response.
func serve(t *testing.T, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler(specURL).ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantHeader(t *testing.T, res *http.Response, key, want string) {
	t.Helper()
	if got := res.Header.Get(key); got != want {
		t.Errorf("%s = %q, want %q", key, got, want)
	}
}

var externalURL = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+`)

func TestPage(t *testing.T) {
	res := serve(t, http.MethodGet, "/docs", nil)
	body := string(readBody(t, res))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	wantHeader(t, res, "Content-Type", "text/html; charset=utf-8")
	wantHeader(t, res, "Content-Security-Policy", ContentSecurityPolicy)
	wantHeader(t, res, "X-Content-Type-Options", "nosniff")
	wantHeader(t, res, "Cache-Control", "no-cache")
	if res.Header.Get("ETag") == "" {
		t.Error("no ETag on the page")
	}
	if !strings.Contains(body, `spec-url="`+specURL+`"`) {
		t.Errorf("page does not point Redoc at %s:\n%s", specURL, body)
	}
	if !strings.Contains(body, `<script src="/docs/assets/`+bundleName+`"></script>`) {
		t.Errorf("page does not load /docs/assets/%s:\n%s", bundleName, body)
	}
	if m := externalURL.FindAllString(body, -1); m != nil {
		t.Errorf("page names outside addresses %q:\n%s", m, body)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(ContentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	if directives["default-src"] != "'none'" {
		t.Errorf("default-src is %q, want 'none'", directives["default-src"])
	}
	for name, value := range directives {
		if strings.Contains(value, "http") || strings.Contains(value, "*") {
			t.Errorf("%s allows another origin: %q", name, value)
		}
		if name != "style-src" && strings.Contains(value, "unsafe") {
			t.Errorf("%s is unsafe: %q", name, value)
		}
	}
	if directives["script-src"] != "'self'" {
		t.Errorf("script-src is %q, want 'self' alone", directives["script-src"])
	}
}

func TestBundle(t *testing.T) {
	want, err := os.ReadFile("assets/" + bundleName)
	if err != nil {
		t.Fatalf("the bundle's file name does not match redocVersion %s: %v", redocVersion, err)
	}
	if !bytes.Contains(want[:4096], []byte(`Version: "`+redocVersion+`"`)) && !bytes.Contains(want, []byte(`"`+redocVersion+`"`)) {
		t.Errorf("assets/%s does not say it is Redoc %s", bundleName, redocVersion)
	}

	res := serve(t, http.MethodGet, "/docs/assets/"+bundleName, nil)
	got := readBody(t, res)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("served %d bytes, want the %d of the file", len(got), len(want))
	}
	wantHeader(t, res, "Content-Type", "text/javascript; charset=utf-8")
	wantHeader(t, res, "Cache-Control", "public, max-age=31536000, immutable")
	wantHeader(t, res, "X-Content-Type-Options", "nosniff")
	wantHeader(t, res, "Content-Encoding", "")
	sum := sha256.Sum256(want)
	wantHeader(t, res, "ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
}

func TestBundleGzip(t *testing.T) {
	want, err := os.ReadFile("assets/" + bundleName)
	if err != nil {
		t.Fatal(err)
	}
	res := serve(t, http.MethodGet, "/docs/assets/"+bundleName, http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}})
	compressed := readBody(t, res)
	wantHeader(t, res, "Content-Encoding", "gzip")
	wantHeader(t, res, "Content-Type", "text/javascript; charset=utf-8")
	wantHeader(t, res, "Vary", "Accept-Encoding")
	if len(compressed) >= len(want)/2 {
		t.Errorf("gzip body is %d bytes of %d", len(compressed), len(want))
	}
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("gzip body does not decode to the bundle")
	}
	if etag := res.Header.Get("ETag"); !strings.HasSuffix(etag, `-gzip"`) {
		t.Errorf("ETag %q of the gzip body should differ from the plain one", etag)
	}

	res = serve(t, http.MethodGet, "/docs/assets/"+bundleName, http.Header{"Accept-Encoding": {"gzip;q=0, identity"}})
	wantHeader(t, res, "Content-Encoding", "")
}

func TestAcceptsGzip(t *testing.T) {
	for v, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"GZIP":               true,
		"deflate, gzip":      true,
		"gzip;q=0":           false,
		"gzip; q=0.000":      false,
		"gzip;q=0.001":       true,
		"*":                  true,
		"*;q=0":              false,
		"br, *":              true,
		"gzip;q=0, *":        false,
		"identity":           false,
		"x-gzip":             false,
		"br;q=1.0, gzip;q=1": true,
	} {
		if got := acceptsGzip(v); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestLicenceFiles(t *testing.T) {
	res := serve(t, http.MethodGet, "/docs/assets/LICENSE", nil)
	body := string(readBody(t, res))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "MIT License") {
		t.Fatalf("status %d, body %.80q", res.StatusCode, body)
	}
	wantHeader(t, res, "Content-Type", "text/plain; charset=utf-8")
	wantHeader(t, res, "Cache-Control", "public, max-age=3600")
	wantHeader(t, res, "X-Content-Type-Options", "nosniff")
	if res.Header.Get("ETag") == "" {
		t.Error("no ETag on an unversioned asset")
	}
	res = serve(t, http.MethodGet, "/docs/assets/redoc.standalone.js.LICENSE.txt", nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("bundled notices: status %d", res.StatusCode)
	}
}

func TestConditionalGet(t *testing.T) {
	for _, target := range []string{"/docs", "/docs/assets/" + bundleName, "/docs/assets/LICENSE"} {
		etag := serve(t, http.MethodGet, target, nil).Header.Get("ETag")
		res := serve(t, http.MethodGet, target, http.Header{"If-None-Match": {etag}})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match %s: status %d, want 304", target, etag, res.StatusCode)
		}
	}
}

func TestHead(t *testing.T) {
	for _, target := range []string{"/docs", "/docs/assets/" + bundleName} {
		get := serve(t, http.MethodGet, target, nil)
		getBody := readBody(t, get)
		head := serve(t, http.MethodHead, target, nil)
		if head.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: status %d", target, head.StatusCode)
		}
		if b := readBody(t, head); len(b) != 0 {
			t.Errorf("HEAD %s: %d bytes of body", target, len(b))
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Cache-Control", "ETag", "Content-Security-Policy"} {
			if head.Header.Get(k) != get.Header.Get(k) {
				t.Errorf("HEAD %s: %s = %q, GET has %q", target, k, head.Header.Get(k), get.Header.Get(k))
			}
		}
		if head.Header.Get("Content-Length") == "" || get.ContentLength != int64(len(getBody)) {
			t.Errorf("HEAD %s: Content-Length %q, body %d", target, head.Header.Get("Content-Length"), len(getBody))
		}
	}
}

func TestNotFound(t *testing.T) {
	for _, target := range []string{
		"/docs/assets/nope.js",
		"/docs/assets/",
		"/docs/assets",
		"/docs/assets/README.md",
		"/docs/assets/../apidocs.go",
		"/docs/assets/sub/" + bundleName,
		"/docs/index.html",
		"/docs/other",
		"/docsx",
		"/",
	} {
		res := serve(t, http.MethodGet, target, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}
}

func TestMethodsAndRedirect(t *testing.T) {
	for _, target := range []string{"/docs", "/docs/", "/docs/assets/" + bundleName} {
		res := serve(t, http.MethodPost, target, nil)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: status %d, Allow %q", target, res.StatusCode, res.Header.Get("Allow"))
		}
	}
	res := serve(t, http.MethodGet, "/docs/", nil)
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/docs" {
		t.Errorf("GET /docs/: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestSpecURL(t *testing.T) {
	for _, bad := range []string{"", "api/v1/openapi.json", "https://example.com/openapi.json", "//example.com/x", `/\example.com`, "/a b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler(%q) did not panic", bad)
				}
			}()
			Handler(bad)
		}()
	}
	// Escaped into the page, never breaking out of the attribute.
	req := httptest.NewRequest(http.MethodGet, "/docs", nil)
	rec := httptest.NewRecorder()
	Handler(`/spec?a=1&b="><script>`).ServeHTTP(rec, req)
	body := rec.Body.String()
	if strings.Contains(body, `"><script>`) || !strings.Contains(body, `spec-url="/spec?a=1&amp;b=%22%3e%3cscript%3e"`) {
		t.Errorf("spec URL not escaped:\n%s", body)
	}
}
