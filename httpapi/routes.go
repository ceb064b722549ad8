package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// routes maps the whole HTTP surface.
func routes(cfg Config) http.Handler {
	r := chi.NewRouter()
	r.Method(http.MethodGet, "/healthz", handleHealthz())
	r.Method(http.MethodGet, "/readyz", handleReadyz(cfg))
	return r
}
