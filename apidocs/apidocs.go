// Package apidocs serves a rendered reference of the admin API at /docs.
//
// The renderer is Redoc (see assets/README.md), embedded in the binary, so the
// page works on an installation with no Internet access. The page loads the
// OpenAPI document from a URL on the same server and nothing from anywhere
// else; its Content-Security-Policy enforces that.
package apidocs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

// redocVersion is the version of the vendored Redoc bundle; it is part of the
// bundle's file name.
const redocVersion = "2.5.4"

// bundleName is the file name of the Redoc bundle under assets/.
const bundleName = "redoc-" + redocVersion + ".standalone.js"

// Prefix is where Handler answers: the page at Prefix, its files below
// Prefix + "/assets/".
const Prefix = "/docs"

const assetsPrefix = Prefix + "/assets/"

// ContentSecurityPolicy is sent with the page. Everything is same-origin;
// the exceptions Redoc genuinely needs are:
//   - style-src 'unsafe-inline': Redoc styles itself with styled-components,
//     which inserts <style> elements at run time and cannot be given a nonce
//     from outside the bundle. It allows CSS only, not script, and with
//     img-src, font-src and connect-src held to this origin such CSS cannot
//     send anything elsewhere.
//   - worker-src blob: the search index runs in a Web Worker that Redoc
//     builds from a Blob inside the bundle; a blob: URL is local memory, not
//     the network.
//   - img-src data: inline icons.
//
// No inline or eval'd script is allowed, and the only outside address in the
// bundle that a browser would load (the Redocly logo in the side menu) is
// refused by img-src.
const ContentSecurityPolicy = "default-src 'none'; " +
	"script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; " +
	"font-src 'self'; " +
	"connect-src 'self'; " +
	"worker-src blob:; " +
	"base-uri 'none'; " +
	"form-action 'none'; " +
	"frame-ancestors 'none'"

// Cache-Control values: immutable for files whose name carries a version,
// an hour (then revalidation with the ETag) for the other assets, and
// revalidation on every load for the page, which names the bundle.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheAsset     = "public, max-age=3600"
	cachePage      = "no-cache"
)

//go:embed assets/*.js assets/*.txt assets/LICENSE
var embedded embed.FS

// versioned matches a file name that carries a version number.
var versioned = regexp.MustCompile(`\d+\.\d+\.\d+`)

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard API reference</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<noscript>This page needs JavaScript. The OpenAPI document is at <a href="{{.SpecURL}}">{{.SpecURL}}</a>.</noscript>
<redoc spec-url="{{.SpecURL}}"></redoc>
<script src="{{.Script}}"></script>
</body>
</html>
`))

// asset is one embedded file with what is needed to serve it.
type asset struct {
	name         string
	body         []byte
	contentType  string
	cacheControl string
	etag         string

	gzipOnce sync.Once
	gzipBody []byte // nil when gzip does not make it smaller
	gzipETag string
}

// gzipped returns the gzip encoding of the asset, made on first use, or nil
// when it is not worth sending.
func (a *asset) gzipped() ([]byte, string) {
	a.gzipOnce.Do(func() {
		if !strings.HasPrefix(a.contentType, "text/") {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(a.body); err != nil {
			return
		}
		if err := zw.Close(); err != nil {
			return
		}
		if buf.Len() < len(a.body) {
			a.gzipBody = buf.Bytes()
			a.gzipETag = strings.TrimSuffix(a.etag, `"`) + `-gzip"`
		}
	})
	return a.gzipBody, a.gzipETag
}

type handler struct {
	page   []byte
	etag   string
	assets map[string]*asset
}

// Handler serves the API reference: GET or HEAD on /docs returns the page,
// which renders the OpenAPI document at specURL, and /docs/assets/<name>
// returns the embedded renderer and its licence files. /docs/ redirects to
// /docs; any other path gets 404. Mount it at both /docs and /docs/.
//
// specURL must be a path on this server, such as "/api/v1/openapi.json": the
// page's Content-Security-Policy lets it fetch from its own origin only.
// Handler panics otherwise, as it is called once while wiring the server.
func Handler(specURL string) http.Handler {
	if !strings.HasPrefix(specURL, "/") || strings.HasPrefix(specURL, "//") || strings.ContainsAny(specURL, "\\ \t\r\n") {
		panic(fmt.Sprintf("apidocs: spec URL %q is not a path on this server, like /api/v1/openapi.json", specURL))
	}
	var page bytes.Buffer
	err := pageTemplate.Execute(&page, struct{ SpecURL, Script string }{specURL, assetsPrefix + bundleName})
	if err != nil {
		panic("apidocs: rendering the page: " + err.Error())
	}
	h := &handler{page: page.Bytes(), etag: etagOf(page.Bytes()), assets: map[string]*asset{}}

	files, err := fs.ReadDir(embedded, "assets")
	if err != nil {
		panic("apidocs: reading the embedded assets: " + err.Error())
	}
	for _, f := range files {
		body, err := embedded.ReadFile("assets/" + f.Name())
		if err != nil {
			panic("apidocs: reading the embedded assets: " + err.Error())
		}
		a := &asset{name: f.Name(), body: body, contentType: contentType(f.Name()), cacheControl: cacheAsset, etag: etagOf(body)}
		if versioned.MatchString(f.Name()) {
			a.cacheControl = cacheImmutable
		}
		h.assets[f.Name()] = a
	}
	if h.assets[bundleName] == nil {
		panic("apidocs: the embedded assets lack " + bundleName)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == Prefix:
		if !allowGetHead(w, r) {
			return
		}
		hd := w.Header()
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", cachePage)
		hd.Set("ETag", h.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
	case p == Prefix+"/":
		if !allowGetHead(w, r) {
			return
		}
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
	case strings.HasPrefix(p, assetsPrefix):
		name := strings.TrimPrefix(p, assetsPrefix)
		a := h.assets[name]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		if !allowGetHead(w, r) {
			return
		}
		h.serveAsset(w, r, a)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", a.cacheControl)
	body, etag := a.body, a.etag
	if strings.HasPrefix(a.contentType, "text/") {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			if gz, gzETag := a.gzipped(); gz != nil {
				body, etag = gz, gzETag
				hd.Set("Content-Encoding", "gzip")
			}
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// allowGetHead answers 405 to any method but GET and HEAD.
func allowGetHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// acceptsGzip reports whether an Accept-Encoding value admits gzip.
func acceptsGzip(v string) bool {
	star := false
	for _, part := range strings.Split(v, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		ok := true
		for _, p := range strings.Split(params, ";") {
			k, val, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				val = strings.TrimSpace(val)
				ok = strings.Trim(val, "0.") != "" // q=0, q=0.0, q=0.000 refuse
			}
		}
		if coding == "gzip" {
			return ok
		}
		star = ok
	}
	return star
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	default: // the licence and notice files
		return "text/plain; charset=utf-8"
	}
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}
