package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/probe"
	"github.com/switchyard/switchyard/provider/fake"
	"github.com/switchyard/switchyard/provider/protocols"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

type testDoc struct {
	OK     bool   `json:"ok"`
	Code   string `json:"code"`
	Models int    `json:"models"`
	Stages []struct {
		Name, Status, Code, Message, Hint string
	} `json:"stages"`
}

func (d testDoc) stage(name string) (status, code string) {
	for _, s := range d.Stages {
		if s.Name == name {
			return s.Status, s.Code
		}
	}
	return "", ""
}

// withTester gives the control plane a connectivity tester that may reach
// loopback, where the fakes run.
func withTester(t *testing.T) func(*control.Config) {
	return func(c *control.Config) {
		pol, err := netguard.NewPolicy([]string{"127.0.0.1/32"})
		if err != nil {
			t.Fatal(err)
		}
		f := &protocols.Factory{HTTP: pol.Client(netguard.ClientOptions{}), TokenHTTP: pol.Client(netguard.ClientOptions{})}
		c.Tester = &probe.Tester{Policy: pol, NewAdapter: f.New, StageTimeout: 3 * time.Second}
	}
}

func TestConnectivityTestThroughTheAPI(t *testing.T) {
	up := fake.NewOpenAI(fake.OpenAIConfig{APIKeys: []string{canaries[0]}})
	srv := httptest.NewServer(up)
	defer srv.Close()
	e := newEnvWith(t, storetest.SQLite(), withTester(t))

	body := newProviderBody("fake-openai")
	body["protocol"], body["base_url"] = "openai_compatible", srv.URL+"/v1"
	body["credentials"] = []map[string]any{{"name": "primary", "method": "api_key", "secrets": map[string]any{"api_key": "sk-wrong-key-00000000000000"}}}
	delete(body, "headers")
	var p providerDoc
	want(t, e.admin("POST", "/api/v1/providers", body), http.StatusCreated).json(t, &p)

	// A rejected key fails the auth stage and the result is kept.
	var rep testDoc
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/test", nil), http.StatusOK).json(t, &rep)
	if st, code := rep.stage("auth"); rep.OK || rep.Code != "auth_rejected" || st != "failed" || code != "auth_rejected" {
		t.Fatalf("wrong key: %+v", rep)
	}
	var stored struct {
		LastTest *testDoc `json:"last_test"`
	}
	want(t, e.admin("GET", "/api/v1/providers/"+p.ID, nil), http.StatusOK).json(t, &stored)
	if stored.LastTest == nil || stored.LastTest.Code != "auth_rejected" {
		t.Fatalf("last_test = %+v", stored.LastTest)
	}

	// With the right key every stage passes and the models are counted.
	want(t, e.admin("PATCH", "/api/v1/providers/"+p.ID, map[string]any{"credentials": []map[string]any{
		{"name": "primary", "method": "api_key", "secrets": map[string]any{"api_key": canaries[0]}}}}), http.StatusOK)
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/test", nil), http.StatusOK).json(t, &rep)
	if !rep.OK || rep.Models == 0 {
		t.Fatalf("right key: %+v", rep)
	}
	if st, _ := rep.stage("tls"); st != "skipped" {
		t.Fatalf("plain http should skip TLS: %+v", rep)
	}

	// A rate limit names its wait.
	up.SetFault(fake.RateLimit(20 * time.Second))
	rep = testDoc{}
	want(t, e.admin("POST", "/api/v1/providers/"+p.ID+"/test", nil), http.StatusOK).json(t, &rep)
	if rep.Code != "rate_limited" {
		t.Fatalf("rate limited: %+v", rep)
	}
	up.ClearFaults()

	// Unsaved configurations: a wrong path, and a metadata address.
	cfg := newProviderBody("unsaved")
	cfg["protocol"], cfg["base_url"] = "openai_compatible", srv.URL+"/wrong"
	cfg["credentials"] = []map[string]any{{"name": "k", "method": "api_key", "secrets": map[string]any{"api_key": canaries[0]}}}
	rep = testDoc{}
	want(t, e.admin("POST", "/api/v1/connectivity-tests", cfg), http.StatusOK).json(t, &rep)
	if st, _ := rep.stage("endpoint"); rep.Code != "endpoint_not_found" || st != "failed" {
		t.Fatalf("wrong path: %+v", rep)
	}
	cfg["base_url"] = "http://169.254.169.254/latest"
	rep = testDoc{}
	want(t, e.admin("POST", "/api/v1/connectivity-tests", cfg), http.StatusOK).json(t, &rep)
	if rep.Code != "blocked_destination" || up.RequestCount() == 0 {
		t.Fatalf("metadata address: %+v", rep)
	}
	// Nothing was saved by the unsaved tests.
	r := want(t, e.admin("GET", "/api/v1/providers?q=unsaved", nil), http.StatusOK)
	var list struct{ Items []any }
	r.json(t, &list)
	if len(list.Items) != 0 {
		t.Fatal("testing a configuration saved it")
	}
	// A bad configuration is refused before any connection, naming fields.
	cfg["credentials"] = []map[string]any{{"name": "k", "method": "api_key"}}
	if p := want(t, e.admin("POST", "/api/v1/connectivity-tests", cfg), http.StatusBadRequest).problem(t); !p.hasField("credentials[0].secrets.api_key") {
		t.Fatalf("problem = %+v", p)
	}

	// Users may not run tests.
	want(t, e.user("POST", "/api/v1/providers/"+p.ID+"/test", nil), http.StatusForbidden)
	want(t, e.user("POST", "/api/v1/connectivity-tests", cfg), http.StatusForbidden)
}
