package probe_test

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/probe"
	"github.com/switchyard/switchyard/provider"
)

// resolver answers from a fixed table; other names do not exist.
type resolver map[string]string

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ip, ok := r[host]; ok {
		return []netip.Addr{netip.MustParseAddr(ip)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// stubAdapter answers Ping and ListModels as told.
type stubAdapter struct {
	provider.Adapter
	ping   error
	models []provider.ModelInfo
	list   error
}

func (s stubAdapter) Ping(context.Context) error { return s.ping }
func (s stubAdapter) ListModels(context.Context) ([]provider.ModelInfo, error) {
	return s.models, s.list
}

func newProvider(baseURL string) *switchyard.Provider {
	return &switchyard.Provider{Name: "p", Slug: "p", Protocol: switchyard.ProtocolOpenAI, BaseURL: baseURL, Enabled: true,
		Credentials: []switchyard.Credential{{Name: "k", Method: switchyard.AuthAPIKey,
			Secrets: map[string]switchyard.Secret{"api_key": switchyard.NewSecret("sk-test-key-0123456789abcdef")}}}}
}

func tester(t *testing.T, allow []string, ad stubAdapter, roots *x509.CertPool) *probe.Tester {
	t.Helper()
	pol, err := netguard.NewPolicy(allow)
	if err != nil {
		t.Fatal(err)
	}
	pol = pol.WithResolver(resolver{"provider.test": "127.0.0.1", "public.test": "93.184.216.34", "metadata.test": "169.254.169.254"})
	return &probe.Tester{Policy: pol, RootCAs: roots, StageTimeout: 2 * time.Second,
		NewAdapter: func(*switchyard.Provider, switchyard.Credential, provider.Doer) (provider.Adapter, error) {
			return ad, nil
		}}
}

func stages(r *switchyard.ProviderTest) string {
	var b strings.Builder
	for _, s := range r.Stages {
		b.WriteString(s.Name + "=" + s.Status)
		if s.Code != "" {
			b.WriteString("(" + s.Code + ")")
		}
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

func TestConnectivityStages(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	tlsPort := tlsSrv.Listener.Addr().(*net.TCPAddr).Port
	plainPort := plain.Listener.Addr().(*net.TCPAddr).Port
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	local := []string{"127.0.0.1/32"}
	models := []provider.ModelInfo{{ID: "m1"}, {ID: "m2"}}
	hostPort := func(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

	tests := []struct {
		name     string
		baseURL  string
		allow    []string
		adapter  stubAdapter
		roots    *x509.CertPool
		want     string
		code     string
		mentions string
	}{
		{"all stages pass", "https://" + hostPort("127.0.0.1", tlsPort) + "/v1", local, stubAdapter{models: models}, roots,
			"dns=ok tcp=ok tls=ok auth=ok endpoint=ok models=ok", "", ""},
		{"plain http skips TLS", "http://" + hostPort("127.0.0.1", plainPort), local, stubAdapter{models: models}, nil,
			"dns=ok tcp=ok tls=skipped auth=ok endpoint=ok models=ok", "", ""},
		{"unknown host", "https://nowhere.test/v1", nil, stubAdapter{}, nil,
			"dns=failed(dns_not_found) tcp=skipped tls=skipped auth=skipped endpoint=skipped models=skipped", "dns_not_found", "nowhere.test"},
		{"loopback refused by default", "https://" + hostPort("provider.test", tlsPort), nil, stubAdapter{}, roots,
			"dns=failed(blocked_destination) tcp=skipped tls=skipped auth=skipped endpoint=skipped models=skipped", "blocked_destination", "SWITCHYARD_OUTBOUND_ALLOW"},
		{"metadata address refused", "http://metadata.test/latest", nil, stubAdapter{}, nil,
			"dns=failed(blocked_destination) tcp=skipped tls=skipped auth=skipped endpoint=skipped models=skipped", "blocked_destination", "169.254.169.254"},
		{"nothing listens", "https://" + hostPort("127.0.0.1", closedPort), local, stubAdapter{}, nil,
			"dns=ok tcp=failed(tcp_refused) tls=skipped auth=skipped endpoint=skipped models=skipped", "tcp_refused", "refused"},
		{"certificate for another name", "https://" + hostPort("provider.test", tlsPort), []string{"provider.test"}, stubAdapter{}, roots,
			"dns=ok tcp=ok tls=failed(tls_name_mismatch) auth=skipped endpoint=skipped models=skipped", "tls_name_mismatch", "example.com"},
		{"untrusted certificate", "https://" + hostPort("127.0.0.1", tlsPort), local, stubAdapter{}, nil,
			"dns=ok tcp=ok tls=failed(tls_unknown_authority) auth=skipped endpoint=skipped models=skipped", "tls_unknown_authority", "trusted"},
		{"https to a plain server", "https://" + hostPort("127.0.0.1", plainPort), local, stubAdapter{}, nil,
			"dns=ok tcp=ok tls=failed(tls_not_tls) auth=skipped endpoint=skipped models=skipped", "tls_not_tls", "TLS"},
		{"key rejected", "https://" + hostPort("127.0.0.1", tlsPort), local,
			stubAdapter{ping: &provider.Error{Code: provider.CodeAuth, Status: 401, Message: "Incorrect API key provided"}}, roots,
			"dns=ok tcp=ok tls=ok auth=failed(auth_rejected) endpoint=skipped models=skipped", "auth_rejected", "Incorrect API key"},
		{"forbidden", "https://" + hostPort("127.0.0.1", tlsPort), local,
			stubAdapter{ping: &provider.Error{Code: provider.CodeForbidden, Status: 403}}, roots,
			"dns=ok tcp=ok tls=ok auth=failed(auth_forbidden) endpoint=skipped models=skipped", "auth_forbidden", "403"},
		{"rate limited", "https://" + hostPort("127.0.0.1", tlsPort), local,
			stubAdapter{ping: &provider.Error{Code: provider.CodeRateLimited, Status: 429, RetryAfter: 30 * time.Second}}, roots,
			"dns=ok tcp=ok tls=ok auth=failed(rate_limited) endpoint=skipped models=skipped", "rate_limited", "30s"},
		{"wrong path", "https://" + hostPort("127.0.0.1", tlsPort) + "/wrong", local,
			stubAdapter{ping: &provider.Error{Code: provider.CodeNotFound, Status: 404}}, roots,
			"dns=ok tcp=ok tls=ok auth=ok endpoint=failed(endpoint_not_found) models=skipped", "endpoint_not_found", "base URL"},
		{"empty model list", "https://" + hostPort("127.0.0.1", tlsPort), local, stubAdapter{}, roots,
			"dns=ok tcp=ok tls=ok auth=ok endpoint=ok models=failed(no_models)", "no_models", ""},
		{"no model list in the protocol", "https://" + hostPort("127.0.0.1", tlsPort), local, stubAdapter{list: provider.ErrUnsupported}, roots,
			"dns=ok tcp=ok tls=ok auth=ok endpoint=ok models=skipped", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := tester(t, tt.allow, tt.adapter, tt.roots).Test(context.Background(), newProvider(tt.baseURL))
			if got := stages(rep); got != tt.want {
				t.Fatalf("stages = %s\nwant     %s", got, tt.want)
			}
			if rep.Code != tt.code || rep.OK != (tt.code == "") {
				t.Fatalf("code %q ok %v, want %q", rep.Code, rep.OK, tt.code)
			}
			if tt.code == "" {
				return
			}
			var failed switchyard.TestStage
			for _, s := range rep.Stages {
				if s.Status == switchyard.StageFailed {
					failed = s
				}
			}
			if failed.Hint == "" || !strings.Contains(failed.Message+" "+failed.Hint, tt.mentions) {
				t.Fatalf("failed stage %+v should mention %q and give a hint", failed, tt.mentions)
			}
			if strings.Contains(failed.Message, "sk-test-key") {
				t.Fatal("a stage message contains the key")
			}
		})
	}
}
