package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// reserved are the path prefixes of the server's other handlers: a request
// under them that reached the dashboard is a mistake, answered 404, never
// with the app's index page.
var reserved = []string{"/api", "/v1", "/docs", "/metrics", "/healthz", "/readyz"}

// Caching: Vite names every file under assets/ after a hash of its content,
// so they never change and are cached for a year; index.html names the
// current ones and is revalidated on every load.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// contentSecurityPolicy lets the app load only what this server serves.
// Mantine sets inline styles, hence 'unsafe-inline' for styles only.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the embedded dashboard build.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid name: fs.Sub cannot fail here
	}
	return NewHandler(sub)
}

type file struct {
	body  []byte
	gz    []byte // nil when compressing does not pay
	ctype string
	etag  string // of body; the gzipped form adds "-gz"
}

type handler struct {
	files map[string]*file // by path without the leading slash
	index *file
}

// NewHandler serves the single-page app in files: its files as they are,
// and index.html for every other path outside the reserved prefixes (the
// app routes in the browser). Files are read and compressed once, here.
func NewHandler(files fs.FS) http.Handler {
	h := &handler{files: map[string]*file{}}
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path.Base(name), ".") {
			return nil
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(b)
		f := &file{body: b, ctype: mime.TypeByExtension(path.Ext(name)), etag: hex.EncodeToString(sum[:8])}
		if f.ctype == "" {
			f.ctype = http.DetectContentType(b)
		}
		if compressible(f.ctype) && len(b) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			if buf.Len() < len(b)*9/10 {
				f.gz = buf.Bytes()
			}
		}
		h.files[name] = f
		return nil
	})
	h.index = h.files["index.html"]
	return h
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := path.Clean("/" + r.URL.Path)
	for _, pre := range reserved {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			http.NotFound(w, r)
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(p, "/")
	if f, ok := h.files[name]; ok && name != "index.html" {
		cache := cacheRevalidate
		if strings.HasPrefix(name, "assets/") {
			cache = cacheImmutable
		}
		h.serve(w, r, f, cache)
		return
	}
	// A missing build file is a 404: answering it with the index page would
	// hand the browser HTML where it expects a script.
	if strings.HasPrefix(name, "assets/") {
		http.NotFound(w, r)
		return
	}
	if h.index == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", cacheRevalidate)
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "The dashboard is not in this build. Build it with `make build` (npm ci && npm run build in web/), "+
			"or use the API at /api/v1 (reference at /docs).\n")
		return
	}
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	h.serve(w, r, h.index, cacheRevalidate)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, f *file, cache string) {
	hd := w.Header()
	hd.Set("Content-Type", f.ctype)
	hd.Set("Cache-Control", cache)
	hd.Add("Vary", "Accept-Encoding")
	body, etag := f.body, f.etag
	if f.gz != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body, etag = f.gz, f.etag+"-gz"
	}
	// With the ETag, a revalidated index.html costs a 304.
	hd.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
