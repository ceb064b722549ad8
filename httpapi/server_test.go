package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/httpapi"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func TestProbes(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		db         error
		ready      bool
		wantStatus int
		wantChecks map[string]string
	}{
		{"healthz while starting", "/healthz", nil, false, 200, nil},
		{"healthz with database down", "/healthz", errors.New("down"), true, 200, nil},
		{"ready", "/readyz", nil, true, 200, map[string]string{"startup": "ok", "database": "ok"}},
		{"not ready while starting", "/readyz", nil, false, 503, map[string]string{"startup": "fail", "database": "ok"}},
		{"not ready without database", "/readyz", errors.New("password=hunter2 refused"), true, 503, map[string]string{"startup": "ok", "database": "fail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := httpapi.NewServer(httpapi.Config{DB: pinger{tt.db}, Ready: func() bool { return tt.ready }})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			var body struct {
				Checks map[string]struct{ Status, Error string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.wantChecks {
				if body.Checks[k].Status != want {
					t.Errorf("check %s = %q, want %q", k, body.Checks[k].Status, want)
				}
			}
			if tt.db != nil && len(rec.Body.String()) > 0 && strings.Contains(rec.Body.String(), "hunter2") {
				t.Fatal("the readiness answer repeats the database error")
			}
		})
	}
	h, err := httpapi.NewServer(httpapi.Config{DB: pinger{}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/healthz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz = %d, want 405", rec.Code)
	}
}

// TestDashboardTakesOnlyUnroutedPaths mounts a dashboard and checks that it
// gets the paths no other route serves, and none of theirs.
func TestDashboardTakesOnlyUnroutedPaths(t *testing.T) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("dashboard")) })
	gw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("gateway")) })
	h, err := httpapi.NewServer(httpapi.Config{DB: pinger{}, Gateway: gw, Web: app})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/":                     "dashboard",
		"/providers":            "dashboard",
		"/providers/abc/models": "dashboard",
		"/healthz":              `"status":"ok"`,
		"/v1/models":            "gateway",
		"/docs":                 "<html",
		"/api/v1/openapi.json":  `"openapi"`,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s = %d %.80q, want %q", path, rec.Code, rec.Body.String(), want)
		}
	}
}
