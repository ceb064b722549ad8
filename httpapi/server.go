// Package httpapi is Switchyard's HTTP transport: the probes, the OpenAPI
// document and its rendered reference, and the admin REST API under /api/v1.
// NewServer takes every dependency explicitly and returns an http.Handler;
// every route is listed in routes.go. Handlers translate between the wire
// types generated from api/openapi.yaml (package apigen) and the control
// plane's service layer; errors become RFC 9457 problems in problem.go.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/events"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config holds the server's dependencies.
type Config struct {
	Logger *slog.Logger
	// DB is checked by /readyz.
	DB Pinger
	// Ready reports whether start-up finished and shutdown has not begun.
	Ready func() bool
	// Control is the control plane; without it only the probes and the
	// documentation are served.
	Control *control.Service
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxImportBytes bounds configuration documents sent to
	// /api/v1/import (default 64 MiB).
	MaxImportBytes int64
	// SecureCookies marks the session cookie Secure (set when serving TLS).
	SecureCookies bool
	// SessionTTL is the session cookie's lifetime (default 12h).
	SessionTTL time.Duration
	// Gateway serves the OpenAI-compatible API under /v1; nil leaves it out.
	Gateway http.Handler
	// Metrics serves Prometheus metrics at /metrics; nil leaves it out.
	Metrics http.Handler
	// Web serves the dashboard at / and every path no other route takes
	// (the app routes in the browser); nil leaves it out.
	Web http.Handler
	// Events feeds the live event stream (GET /api/v1/events); nil makes
	// it unavailable.
	Events *events.Broker
	// Streams ends every live event stream when it is cancelled (at the
	// start of a shutdown); default: never.
	Streams context.Context
	// Heartbeat is how often an idle event stream sends a comment
	// (default 15 s).
	Heartbeat time.Duration
}

// NewServer returns the HTTP handler of the whole service.
func NewServer(cfg Config) (http.Handler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = 64 << 20
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Streams == nil {
		cfg.Streams = context.Background()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	spec, err := LoadSpec(api.YAML)
	if err != nil {
		return nil, err
	}
	return routes(cfg, spec), nil
}

// handleHealthz answers while the process is up.
func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleReadyz answers 200 when start-up has finished and the database
// answers, and 503 with the reason otherwise, so a load balancer sends
// traffic only to replicas that can serve it.
func handleReadyz(cfg Config) http.HandlerFunc {
	type check struct {
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]check{}
		ok := true
		if cfg.Ready() {
			checks["startup"] = check{Status: "ok"}
		} else {
			checks["startup"] = check{Status: "fail", Error: "starting up or shutting down"}
			ok = false
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := cfg.DB.Ping(ctx); err != nil {
			cfg.Logger.Warn("readiness: database does not answer", "error", err)
			checks["database"] = check{Status: "fail", Error: "database unreachable"}
			ok = false
		} else {
			checks["database"] = check{Status: "ok"}
		}
		status, code := "ok", http.StatusOK
		if !ok {
			status, code = "unavailable", http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"status": status, "checks": checks})
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// specHandler serves the OpenAPI document.
func specHandler(body []byte, contentType string) http.HandlerFunc {
	etag := fmt.Sprintf(`"%x"`, len(body))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(body)
	}
}
