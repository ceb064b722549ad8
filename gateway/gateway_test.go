package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/auth"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/registry"
	"github.com/switchyard/switchyard/sqlstore"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

var ctx = context.Background()

const upstreamKey = "sk-upstream-gateway-test-0123456789"

// rig is a gateway over a database whose providers point at fakes.
type rig struct {
	t     *testing.T
	db    *sqlstore.DB
	reg   *registry.Registry
	store switchyard.Store
	gw    *httptest.Server
	g     *gateway.Gateway
	owner *switchyard.User

	mu    sync.Mutex
	usage []switchyard.UsageEvent
	read  int // records already returned by lastUsage
}

func newRig(t *testing.T) *rig { return newRigWith(t, nil) }

// newRigWith is newRig with a gateway configuration of its own.
func newRigWith(t *testing.T, tweak func(*gateway.Config)) *rig {
	t.Helper()
	db := storetest.SQLite().Open(t)
	pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
	if err != nil {
		t.Fatal(err)
	}
	f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
	reg := registry.New(registry.Config{Source: db, NewAdapter: f.New})
	r := &rig{t: t, db: db, reg: reg, store: reg.Track(db)}
	cfg := gateway.Config{Registry: reg, RetryBudget: 1500 * time.Millisecond, Spend: db, BudgetRefresh: 50 * time.Millisecond, Record: func(u switchyard.UsageEvent) {
		if err := u.Validate(); err != nil {
			t.Errorf("the gateway recorded an invalid usage event: %v", err)
		}
		r.mu.Lock()
		r.usage = append(r.usage, u)
		r.mu.Unlock()
	}}
	if tweak != nil {
		tweak(&cfg)
	}
	gw := gateway.New(cfg)
	r.g = gw
	r.gw = httptest.NewServer(gw)
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

// upstream starts a fake and returns its base URL.
func (r *rig) upstream(h http.Handler) string {
	srv := httptest.NewServer(h)
	r.t.Cleanup(srv.Close)
	return srv.URL
}

type providerSpec struct {
	slug, baseURL string
	protocol      switchyard.Protocol
	cred          switchyard.Credential
	params        map[string]string
	models        []*switchyard.Model
	system        string
	settings      switchyard.ProviderSettings
}

func (r *rig) addProvider(s providerSpec) *switchyard.Provider {
	r.t.Helper()
	p := &switchyard.Provider{Name: s.slug, Slug: s.slug, Protocol: s.protocol, BaseURL: s.baseURL, Params: s.params,
		Enabled: true, Credentials: []switchyard.Credential{s.cred}, System: s.system != "", SystemType: s.system, Settings: s.settings}
	if err := r.store.CreateProvider(ctx, p); err != nil {
		r.t.Fatal(err)
	}
	for _, m := range s.models {
		m.ProviderID, m.Enabled = p.ID, true
	}
	if len(s.models) > 0 {
		if err := r.store.CreateModels(ctx, s.models); err != nil {
			r.t.Fatal(err)
		}
	}
	return p
}

func apiKey(k string) switchyard.Credential {
	return switchyard.Credential{Name: "k", Method: switchyard.AuthAPIKey, Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret(k)}}
}

func model(id string, aliases ...string) *switchyard.Model {
	return &switchyard.Model{UpstreamID: id, Aliases: aliases, Pricing: switchyard.Pricing{InputPerMTok: 1, OutputPerMTok: 2},
		Capabilities: switchyard.Capabilities{ContextWindow: 128000, MaxOutputTokens: 4096, Streaming: true, Tools: true,
			InputModalities: []string{"text"}, OutputModalities: []string{"text"}}}
}

// connect creates a connection and returns its gateway key.
func (r *rig) connect(c switchyard.Connection) string {
	r.t.Helper()
	key, hash, display, err := auth.NewToken(auth.PrefixGatewayKey)
	if err != nil {
		r.t.Fatal(err)
	}
	c.Name, c.OwnerID, c.KeyHash, c.KeyPrefix, c.Enabled = "conn-"+display, r.owner.ID, hash, display, true
	if err := r.store.CreateConnection(ctx, &c); err != nil {
		r.t.Fatal(err)
	}
	return key
}

func (r *rig) client(key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(r.gw.URL+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

// lastUsage returns the newest usage record. Records are made after the
// answer is written, so it waits briefly for one newer than the last read.
func (r *rig) lastUsage() switchyard.UsageEvent {
	r.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		r.mu.Lock()
		n := len(r.usage)
		if n > r.read {
			r.read = n
			u := r.usage[n-1]
			r.mu.Unlock()
			return u
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			r.t.Fatal("no new usage record")
		}
		time.Sleep(time.Millisecond)
	}
}
