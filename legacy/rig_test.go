package legacy_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/catalog"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/legacy"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
	"github.com/switchyard/switchyard/transfer"
)

var ctx = context.Background()

// rig is a seeded store, the registry following it, and the gateway in
// front, with outbound calls allowed to the loopback fakes.
type rig struct {
	t     *testing.T
	db    *sqlstore.DB
	store legacy.Store
	reg   *registry.Registry
	gw    *httptest.Server
	owner *switchyard.User
	// tokens is an OAuth2 token endpoint for Vertex's service account.
	tokens *httptest.Server
}

func newRig(t *testing.T) *rig { return newRigOn(t, storetest.SQLite()) }

func newRigOn(t *testing.T, b storetest.Backend) *rig {
	t.Helper()
	db := b.Open(t)
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Seed(ctx, db); err != nil {
		t.Fatal(err)
	}
	tokens := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"ya29.legacy-test","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(tokens.Close)
	roots := x509.NewCertPool()
	roots.AddCert(tokens.Certificate())
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{RootCAs: roots})}
	reg := registry.New(registry.Config{Source: db, NewAdapter: f.New})
	r := &rig{t: t, db: db, reg: reg, store: reg.Track(db), tokens: tokens}
	r.gw = httptest.NewServer(gateway.New(gateway.Config{Registry: reg, Spend: db, RetryBudget: 500 * time.Millisecond}))
	t.Cleanup(r.gw.Close)
	r.owner = &switchyard.User{Username: "app-owner", Role: switchyard.RoleUser}
	if err := db.CreateUser(ctx, r.owner); err != nil {
		t.Fatal(err)
	}
	if err := reg.Reload(ctx, "start"); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) upstream(h http.Handler) string {
	srv := httptest.NewServer(h)
	r.t.Cleanup(srv.Close)
	return srv.URL
}

// connect stores a connection and returns its gateway key.
func (r *rig) connect(c switchyard.Connection) (*switchyard.Connection, string) {
	r.t.Helper()
	key, hash, prefix, err := auth.NewToken(auth.PrefixGatewayKey)
	if err != nil {
		r.t.Fatal(err)
	}
	c.OwnerID, c.KeyHash, c.KeyPrefix, c.Enabled = r.owner.ID, hash, prefix, true
	if c.Name == "" {
		c.Name = "app"
	}
	if err := r.store.CreateConnection(ctx, &c); err != nil {
		r.t.Fatal(err)
	}
	return &c, key
}

// chat asks the gateway for model with key and returns the status and body.
func (r *rig) chat(key, model string) (int, string) {
	r.t.Helper()
	body := `{"model":` + jsonString(model) + `,"max_tokens":32,"messages":[{"role":"user","content":"hello there"}]}`
	req, _ := http.NewRequest("POST", r.gw.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// export is the configuration as a transfer document, at a fixed time.
func (r *rig) export() string {
	r.t.Helper()
	d, err := transfer.Export(ctx, r.db, transfer.ExportOptions{Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// env is a fake operator environment.
func env(kv map[string]string) func(string) (string, bool) {
	return func(n string) (string, bool) { v, ok := kv[n]; return v, ok }
}

func item(t *testing.T, rep *legacy.Report, source, key string) legacy.Item {
	t.Helper()
	for _, it := range rep.Items {
		if it.Source == source && it.Key == key {
			return it
		}
	}
	b, _ := json.MarshalIndent(rep, "", " ")
	t.Fatalf("no %s item %q in the report:\n%s", source, key, b)
	return legacy.Item{}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if switchyard.ErrorCode(err) != code {
		t.Fatalf("error = %v (%s), want %s", err, switchyard.ErrorCode(err), code)
	}
}
