package httpapi_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
	"github.com/switchyard/switchyard/transfer"
)

func TestBackupsThroughTheAPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	e := newEnvWith(t, storetest.SQLite(), func(c *control.Config) {
		c.Backups = transfer.NewBackups(transfer.BackupsConfig{Dir: dir, DB: c.Store.(*sqlstore.DB)})
	})
	p := e.newProvider("kept", true)
	var taken struct {
		Name     string `json:"name"`
		Size     int64  `json:"size"`
		Manifest struct {
			Note   string `json:"note"`
			Tables []struct {
				Name string `json:"name"`
				Rows int64  `json:"rows"`
			} `json:"tables"`
		} `json:"manifest"`
	}
	want(t, e.admin("POST", "/api/v1/backups", nil), http.StatusCreated).json(t, &taken)
	if taken.Manifest.Note != "manual" || taken.Size == 0 || len(taken.Manifest.Tables) < 8 {
		t.Fatalf("backup = %+v", taken)
	}
	file := want(t, e.admin("GET", "/api/v1/backups/"+taken.Name, nil), http.StatusOK)
	if len(file.Body) != int(taken.Size) || file.Body[0] != 0x1f || file.Body[1] != 0x8b || file.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("download: %d bytes, %q", len(file.Body), file.Header.Get("Content-Type"))
	}
	var list struct {
		Items []struct{ Name string } `json:"items"`
	}
	want(t, e.admin("GET", "/api/v1/backups", nil), http.StatusOK).json(t, &list)
	if len(list.Items) != 1 || list.Items[0].Name != taken.Name {
		t.Fatalf("list = %+v", list)
	}

	// Change, restore, undo.
	want(t, e.send(request{method: "PATCH", path: "/api/v1/providers/" + p.ID, token: adminToken, body: map[string]any{"name": "changed"}}), http.StatusOK)
	var restored struct {
		Restored struct{ Name string } `json:"restored"`
		Undo     struct{ Name string } `json:"undo"`
	}
	want(t, e.admin("POST", "/api/v1/backups/"+taken.Name+"/restore", nil), http.StatusOK).json(t, &restored)
	var got providerDoc
	want(t, e.admin("GET", "/api/v1/providers/"+p.ID, nil), http.StatusOK).json(t, &got)
	if got.Name != "Provider kept" || restored.Undo.Name == "" {
		t.Fatalf("after restore: name %q, undo %q", got.Name, restored.Undo.Name)
	}
	want(t, e.admin("POST", "/api/v1/backups/"+restored.Undo.Name+"/restore", nil), http.StatusOK)
	want(t, e.admin("GET", "/api/v1/providers/"+p.ID, nil), http.StatusOK).json(t, &got)
	if got.Name != "changed" {
		t.Fatalf("the undo backup did not undo the restore: name %q", got.Name)
	}

	want(t, e.admin("GET", "/api/v1/backups/..%2Fswitchyard.db", nil), http.StatusNotFound)
	want(t, e.admin("POST", "/api/v1/backups/nope.tar.gz/restore", nil), http.StatusNotFound)
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/backups"}, {"POST", "/api/v1/backups"},
		{"GET", "/api/v1/backups/" + taken.Name}, {"POST", "/api/v1/backups/" + taken.Name + "/restore"}} {
		want(t, e.user(r.method, r.path, nil), http.StatusForbidden)
	}
}
