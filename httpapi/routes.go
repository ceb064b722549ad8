package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/apidocs"
	"github.com/switchyard/switchyard/httpapi/apigen"
)

// routes maps the whole HTTP surface.
func routes(cfg Config, spec *Spec) http.Handler {
	log := cfg.Logger
	r := chi.NewRouter()
	r.Use(recoverer(log), requestContext(log), securityHeaders)
	r.Method(http.MethodGet, "/healthz", handleHealthz())
	r.Method(http.MethodGet, "/readyz", handleReadyz(cfg))

	docs := apidocs.Handler("/api/v1/openapi.json")
	r.Handle("/docs", docs)
	r.Handle("/docs/*", docs)
	r.Get("/api/v1/openapi.json", specHandler(spec.JSON, "application/json"))
	r.Get("/api/v1/openapi.yaml", specHandler(api.YAML, "application/yaml"))

	if cfg.Metrics != nil {
		// Counts only, no secrets: scraped without credentials, as
		// Prometheus expects; restrict it at the network if needed.
		r.Method(http.MethodGet, "/metrics", cfg.Metrics)
	}
	if cfg.Gateway != nil {
		// The gateway has its own authentication (connection keys), error
		// shape (OpenAI's) and limits.
		r.Handle("/v1/*", cfg.Gateway)
	}
	if cfg.Web != nil {
		// Everything else is the dashboard's; it answers 404 itself under
		// the prefixes above, so they never get the app's page.
		r.Handle("/*", cfg.Web)
	}
	if cfg.Control == nil {
		return r
	}
	h := &handlers{ctl: cfg.Control, log: log, secureCookies: cfg.SecureCookies, sessionTTL: cfg.SessionTTL,
		events: cfg.Events, streams: cfg.Streams, heartbeat: cfg.Heartbeat}
	strict := apigen.NewStrictHandlerWithOptions(h, nil, apigen.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			if isMaxBytes(err) {
				writeProblem(w, r, log, tooLarge(maxBytesLimit(err)))
				return
			}
			writeProblem(w, r, log, errorf("invalid", "the body is not valid JSON for this operation; check its syntax and field types"))
		},
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, log, err)
		},
	})
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(noStore, limitBody(cfg.MaxBodyBytes, cfg.MaxImportBytes, log), authenticate(cfg.Control, log), csrf(log), requireJSON(log), validateRequests(spec, log))
		apigen.HandlerWithOptions(strict, apigen.ChiServerOptions{
			BaseRouter: r,
			ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				writeProblem(w, r, log, errorf("invalid", "%s", err.Error()))
			},
		})
		// Paths the document does not know still get a problem answer.
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, r, log, errorf("not_found", "no API endpoint %s %s; see /api/v1/openapi.json", r.Method, r.URL.Path))
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, r, log, errorf(codeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
		})
	})
	return r
}
