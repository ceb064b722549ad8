package netguard_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
)

// canary is a Gemini-style API key; no piece of it may appear in an error.
const canary = "AIzaQXcanary7Hj2Wk9Lm4Pz8Rt5Vb3Nc6Dg1Fy"

// assertNoCanary fails if text contains any 6-character piece of canary.
func assertNoCanary(t *testing.T, text string) {
	t.Helper()
	for i := 0; i+6 <= len(canary); i++ {
		if strings.Contains(text, canary[i:i+6]) {
			t.Errorf("%q contains %q, part of the canary secret", text, canary[i:i+6])
			return
		}
	}
}

// resolver maps names to addresses; unknown names do not exist.
type resolver map[string][]string

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	ss, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// rebinder answers each lookup with the next answer, like a DNS server with
// a zero TTL that changes its mind.
type rebinder struct {
	mu      sync.Mutex
	answers [][]string
	calls   int
}

func (r *rebinder) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.answers[min(r.calls, len(r.answers)-1)]
	r.calls++
	return []netip.Addr{netip.MustParseAddr(a[0])}, nil
}

// dialRecorder stands in for the network. It records every address the
// guard dials and connects to the loopback server at to instead ("" means
// the test expects no dial at all).
type dialRecorder struct {
	t     *testing.T
	to    string
	mu    sync.Mutex
	addrs []string
}

func (d *dialRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	if d.to == "" {
		d.t.Errorf("the guard dialled %s; it should have refused", addr)
		return nil, errors.New("test: no dial expected")
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, d.to)
}

func (d *dialRecorder) dialled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

func mustPolicy(t *testing.T, allow ...string) *netguard.Policy {
	t.Helper()
	p, err := netguard.NewPolicy(allow)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-goog-api-key", canary)
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

func refused(t *testing.T, err error) *netguard.Refused {
	t.Helper()
	var r *netguard.Refused
	if !errors.As(err, &r) {
		t.Fatalf("err = %v (%T), want a *netguard.Refused", err, err)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("err %T is not a *url.Error", err)
	}
	return r
}

func TestRefusedByDefault(t *testing.T) {
	tests := []struct {
		host   string
		reason string // part of Refused.Reason
		shown  string // the address the message names
		never  bool   // no allowlist entry can admit it
	}{
		{"127.0.0.1", "loopback", "127.0.0.1", false},
		{"localhost", "loopback", "127.0.0.1", false},
		{"2130706433", "non-standard form of the IPv4 address 127.0.0.1, which is loopback", "2130706433", true},
		{"017700000001", "non-standard form of the IPv4 address 127.0.0.1, which is loopback", "017700000001", true},
		{"0x7f000001", "non-standard form of the IPv4 address 127.0.0.1, which is loopback", "0x7f000001", true},
		{"127.1", "non-standard form of the IPv4 address 127.0.0.1, which is loopback", "127.1", true},
		{"010.0.0.1", "non-standard form of the IPv4 address 8.0.0.1", "010.0.0.1", true},
		{"1.2.3.4.5", "not a valid IPv4 address or host name", "1.2.3.4.5", true},
		{"0.0.0.0", "unspecified", "0.0.0.0", true},
		{"[::]", "unspecified", "::", true},
		{"[::1]", "loopback", "::1", false},
		{"[::ffff:127.0.0.1]", "IPv4-mapped address of 127.0.0.1, which is loopback", "::ffff:127.0.0.1", false},
		{"[::ffff:192.0.2.1]", "IPv4-mapped address of 192.0.2.1, which is reserved for documentation", "::ffff:192.0.2.1", false},
		{"[::127.0.0.1]", "IPv4-compatible address of 127.0.0.1, which is loopback", "::7f00:1", false},
		{"169.254.169.254", "link-local (cloud metadata)", "169.254.169.254", false},
		{"169.254.1.1", "link-local", "169.254.1.1", false},
		{"[fe80::1]", "link-local", "fe80::1", false},
		{"[fd00:ec2::254]", "cloud metadata", "fd00:ec2::254", false},
		{"10.0.0.1", "private (RFC 1918)", "10.0.0.1", false},
		{"192.168.1.1", "private (RFC 1918)", "192.168.1.1", false},
		{"172.16.0.1", "private (RFC 1918)", "172.16.0.1", false},
		{"100.64.0.1", "carrier-grade NAT", "100.64.0.1", false},
		{"[fd00::1]", "unique local", "fd00::1", false},
		{"224.0.0.1", "multicast", "224.0.0.1", true},
		{"[ff02::1]", "multicast", "ff02::1", true},
		{"255.255.255.255", "broadcast", "255.255.255.255", true},
		{"240.0.0.1", "reserved", "240.0.0.1", false},
		{"192.0.0.8", "IETF protocol assignments", "192.0.0.8", false},
		{"198.18.0.1", "benchmarking", "198.18.0.1", false},
		{"203.0.113.7", "documentation", "203.0.113.7", false},
		{"[2001:db8::1]", "documentation", "2001:db8::1", false},
		{"[2001::1]", "Teredo", "2001::1", false},
		{"[64:ff9b::7f00:1]", "NAT64 address of 127.0.0.1, which is loopback", "64:ff9b::7f00:1", false},
		{"[64:ff9b:1::1]", "local-use NAT64", "64:ff9b:1::1", false},
		{"[2002:7f00:1::]", "6to4 address of 127.0.0.1, which is loopback", "2002:7f00:1::", false},
		{"[2002:a00:1::1]", "6to4 address of 10.0.0.1, which is private", "2002:a00:1::1", false},
		{"[100::1]", "discard-only", "100::1", false},
		{"loopback.test", "loopback", "127.0.0.1", false},
		{"metadata.test", "link-local (cloud metadata)", "169.254.169.254", false},
		{"mapped.test", "loopback", "127.0.0.1", false},
	}
	res := resolver{
		"localhost":     {"127.0.0.1", "::1"},
		"loopback.test": {"127.0.0.1"},
		"metadata.test": {"169.254.169.254"},
		"mapped.test":   {"::ffff:127.0.0.1"},
	}
	p := mustPolicy(t)
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			d := &dialRecorder{t: t}
			opts := netguard.ClientOptions{Resolver: res}
			netguard.SetDial(&opts, d.dial)
			c := p.Client(opts)
			_, _, err := get(t, c, "http://"+tt.host+"/v1beta/models?key="+canary)
			r := refused(t, err)
			if !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", r.Reason, tt.reason)
			}
			msg := r.Error()
			if !strings.Contains(msg, tt.shown+" is "+r.Reason) {
				t.Errorf("message %q does not say %q", msg, tt.shown+" is "+r.Reason)
			}
			if mentions := strings.Contains(msg, netguard.Setting); mentions == tt.never {
				t.Errorf("message %q: mentions %s = %v, want %v", msg, netguard.Setting, mentions, !tt.never)
			}
			assertNoCanary(t, netguard.Redact(err).Error())
			if len(d.dialled()) != 0 {
				t.Errorf("dialled %v", d.dialled())
			}
		})
	}
}

func TestMessageNamesAddressReasonAndSetting(t *testing.T) {
	c := mustPolicy(t).Client(netguard.ClientOptions{Resolver: resolver{"meta.evil.test": {"169.254.169.254"}}})
	_, _, err := get(t, c, "http://169.254.169.254/latest/meta-data/")
	want := "netguard: refused to connect to 169.254.169.254:80: 169.254.169.254 is link-local (cloud metadata); " +
		"to allow it, add 169.254.169.254 to SWITCHYARD_OUTBOUND_ALLOW"
	if r := refused(t, err); r.Error() != want || r.Host != "169.254.169.254" || r.Addr != "169.254.169.254:80" {
		t.Errorf("got  %q (Host %q, Addr %q)\nwant %q", r.Error(), r.Host, r.Addr, want)
	}
	_, _, err = get(t, c, "https://meta.evil.test/")
	want = "netguard: refused to connect to meta.evil.test (169.254.169.254:443): 169.254.169.254 is link-local (cloud metadata); " +
		"to allow it, add 169.254.169.254 or meta.evil.test to SWITCHYARD_OUTBOUND_ALLOW"
	if r := refused(t, err); r.Error() != want || r.Host != "meta.evil.test" {
		t.Errorf("got  %q\nwant %q", r.Error(), want)
	}
}

func TestPublicAddressesOnAnyPort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	for _, tt := range []struct{ url, dialled string }{
		{"http://api.provider.test:4444/v1", "8.8.8.8:4444"},
		{"http://api.provider.test/v1", "8.8.8.8:80"},
		{"http://[2606:4700::1111]:8443/", "[2606:4700::1111]:8443"},
		{"http://[::ffff:8.8.4.4]:81/", "8.8.4.4:81"},
		{"http://[64:ff9b::808:808]/", "[64:ff9b::808:808]:80"},
	} {
		d := &dialRecorder{t: t, to: srv.Listener.Addr().String()}
		opts := netguard.ClientOptions{Resolver: resolver{"api.provider.test": {"8.8.8.8"}}}
		netguard.SetDial(&opts, d.dial)
		_, body, err := get(t, mustPolicy(t).Client(opts), tt.url)
		if err != nil || body != "ok" {
			t.Errorf("%s: body %q, err %v", tt.url, body, err)
		}
		if got := d.dialled(); len(got) != 1 || got[0] != tt.dialled {
			t.Errorf("%s: dialled %v, want [%s]", tt.url, got, tt.dialled)
		}
	}
}

func TestClassifyPublic(t *testing.T) {
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "192.169.0.1", "2606:4700::1111",
		"2a00:1450:4001::1", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2001:200::1"} {
		if r := netguard.Classify(netip.MustParseAddr(s)); r != "" {
			t.Errorf("%s: %q, want public", s, r)
		}
	}
}

func TestDNSRebinding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "public") }))
	defer srv.Close()
	res := &rebinder{answers: [][]string{{"8.8.8.8"}, {"127.0.0.1"}}}
	d := &dialRecorder{t: t, to: srv.Listener.Addr().String()}
	opts := netguard.ClientOptions{Resolver: res}
	netguard.SetDial(&opts, d.dial)
	c := mustPolicy(t).Client(opts)
	if _, body, err := get(t, c, "http://rebind.test/"); err != nil || body != "public" {
		t.Fatalf("first request: body %q, err %v", body, err)
	}
	c.CloseIdleConnections() // the next request dials again
	_, _, err := get(t, c, "http://rebind.test/")
	if r := refused(t, err); r.Addr != "127.0.0.1:80" || r.Reason != "loopback" {
		t.Errorf("second request: %v", r)
	}
	if got := d.dialled(); len(got) != 1 || got[0] != "8.8.8.8:80" {
		t.Errorf("dialled %v, want only the public address", got)
	}
	if res.calls != 2 {
		t.Errorf("%d lookups, want one per dial", res.calls)
	}
}

func TestOnlyAdmittedAddressesOfANameAreDialled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	d := &dialRecorder{t: t, to: srv.Listener.Addr().String()}
	opts := netguard.ClientOptions{Resolver: resolver{"mixed.test": {"169.254.169.254", "10.0.0.1", "8.8.8.8"}}}
	netguard.SetDial(&opts, d.dial)
	if _, body, err := get(t, mustPolicy(t).Client(opts), "http://mixed.test/"); err != nil || body != "ok" {
		t.Fatalf("body %q, err %v", body, err)
	}
	if got := d.dialled(); len(got) != 1 || got[0] != "8.8.8.8:80" {
		t.Errorf("dialled %v, want [8.8.8.8:80]", got)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		io.WriteString(w, "target body "+r.Header.Get("x-goog-api-key"))
	}))
	defer target.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := "http://10.0.0.1/steal"
		if r.URL.Path == "/to-loopback" {
			to = target.URL + "/steal"
		}
		w.Header().Set("Location", to)
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, "origin body")
	}))
	defer origin.Close()
	// Both servers are admitted: even an admitted host must not receive
	// the key through a redirect.
	p := mustPolicy(t, "127.0.0.1/32")
	c := p.Client(netguard.ClientOptions{})
	for _, path := range []string{"/to-private", "/to-loopback"} {
		resp, body, err := get(t, c, origin.URL+path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if resp.StatusCode != http.StatusFound || body != "origin body" {
			t.Errorf("%s: %d %q, want the 302 and its own body", path, resp.StatusCode, body)
		}
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("redirect target called %d times", n)
	}
}

func TestAllowlist(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	otherPort := "1"
	if port == "1" {
		otherPort = "2"
	}
	res := resolver{
		"model.test":     {"127.0.0.1"},
		"other.test":     {"127.0.0.1"},
		"a.corp.test":    {"127.0.0.1"},
		"b.a.corp.test":  {"127.0.0.1"},
		"corp.test":      {"127.0.0.1"},
		"evilcorp.test":  {"127.0.0.1"},
		"mixed.test":     {"10.0.0.1", "127.0.0.1"},
		"MODEL.test":     {"127.0.0.1"},
		"model.test.":    {"127.0.0.1"},
		"ten.model.test": {"10.1.2.3"},
	}
	tests := []struct {
		allow []string
		host  string
		ok    bool
		says  string // part of the refusal message
	}{
		{nil, "127.0.0.1", false, "add 127.0.0.1 to SWITCHYARD_OUTBOUND_ALLOW"},
		{[]string{"127.0.0.1/32"}, "127.0.0.1", true, ""},
		{[]string{"127.0.0.0/8"}, "127.0.0.1", true, ""},
		{[]string{"127.0.0.1"}, "127.0.0.1", true, ""},
		{[]string{"127.0.0.1:" + port}, "127.0.0.1", true, ""},
		{[]string{"127.0.0.1:" + otherPort}, "127.0.0.1", false, "admits it only on port " + otherPort},
		{[]string{"10.0.0.0/8"}, "127.0.0.1", false, "loopback"},
		{[]string{"::1"}, "127.0.0.1", false, "loopback"},
		{[]string{"127.0.0.1/32"}, "model.test", true, ""},
		{[]string{"model.test"}, "model.test", true, ""},
		{[]string{"Model.Test."}, "model.test", true, ""},
		{[]string{"model.test"}, "model.test.", true, ""},
		{[]string{"model.test:" + port}, "model.test", true, ""},
		{[]string{"model.test:" + otherPort}, "model.test", false, "add 127.0.0.1 or model.test to"},
		{[]string{"model.test"}, "other.test", false, "add 127.0.0.1 or other.test to"},
		{[]string{"model.test"}, "127.0.0.1", false, "loopback"},
		{[]string{"*.corp.test"}, "a.corp.test", true, ""},
		{[]string{"*.corp.test"}, "b.a.corp.test", true, ""},
		{[]string{"*.corp.test"}, "corp.test", false, "loopback"},
		{[]string{"*.corp.test"}, "evilcorp.test", false, "loopback"},
		{[]string{"127.0.0.1/32"}, "mixed.test", true, ""},
		{[]string{"127.0.0.1/32", "model.test"}, "ten.model.test", false, "private"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.allow, ",")+"/"+tt.host, func(t *testing.T) {
			c := mustPolicy(t, tt.allow...).Client(netguard.ClientOptions{Resolver: res})
			_, body, err := get(t, c, "http://"+net.JoinHostPort(tt.host, port)+"/")
			if tt.ok {
				if err != nil || body != "ok" {
					t.Fatalf("body %q, err %v; want it admitted", body, err)
				}
				return
			}
			if r := refused(t, err); !strings.Contains(r.Error(), tt.says) {
				t.Errorf("message %q does not say %q", r.Error(), tt.says)
			}
		})
	}
}

func TestControlIsASecondLock(t *testing.T) {
	p := mustPolicy(t, "127.0.0.1:8000")
	for addr, ok := range map[string]bool{
		"10.0.0.1:80":         false,
		"169.254.169.254:80":  false,
		"127.0.0.1:8000":      true,
		"127.0.0.1:8001":      false,
		"8.8.8.8:443":         true,
		"[::ffff:10.0.0.1]:1": false,
		"0.0.0.0:8000":        false,
	} {
		err := netguard.Control(p, addr)
		var r *netguard.Refused
		if ok != (err == nil) || !ok && !errors.As(err, &r) {
			t.Errorf("%s: err = %v, want ok = %v", addr, err, ok)
		}
	}
}

func TestProxyEnvironmentIgnored(t *testing.T) {
	var hits atomic.Int32
	var uri atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		uri.Store(r.RequestURI)
		io.WriteString(w, "direct")
	}))
	defer srv.Close()
	// A proxy on a closed port: a proxied request would fail.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, dead)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	// A name, since Go never proxies requests to 127.0.0.1 or localhost.
	c := mustPolicy(t, "model.test").Client(netguard.ClientOptions{Resolver: resolver{"model.test": {"127.0.0.1"}}})
	if tr := c.Transport.(*http.Transport); tr.Proxy != nil {
		t.Error("the transport has a Proxy function")
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	_, body, err := get(t, c, "http://model.test:"+port+"/v1/models")
	if err != nil || body != "direct" || hits.Load() != 1 {
		t.Fatalf("body %q, err %v, hits %d; want a direct request", body, err, hits.Load())
	}
	if got := uri.Load(); got != "/v1/models" {
		t.Errorf("request URI %q, want the origin form a direct request has", got)
	}
}

func TestTransportSettings(t *testing.T) {
	c := mustPolicy(t).Client(netguard.ClientOptions{})
	tr := c.Transport.(*http.Transport)
	if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || !tr.ForceAttemptHTTP2 ||
		tr.TLSHandshakeTimeout != 10*time.Second || tr.ResponseHeaderTimeout != 5*time.Minute ||
		tr.MaxIdleConnsPerHost < 2 || tr.IdleConnTimeout == 0 || c.Timeout != 0 {
		t.Errorf("transport settings: %+v", tr)
	}
	if err := c.CheckRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("CheckRedirect = %v", err)
	}
	c = mustPolicy(t).Client(netguard.ClientOptions{ResponseHeaderTimeout: -1, Timeout: time.Minute})
	if rh := c.Transport.(*http.Transport).ResponseHeaderTimeout; rh != 0 || c.Timeout != time.Minute {
		t.Errorf("ResponseHeaderTimeout %v, Timeout %v", rh, c.Timeout)
	}
}

func TestHTTP2AndPrivateCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake that must fail
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := mustPolicy(t, "127.0.0.1").Client(netguard.ClientOptions{RootCAs: pool})
	resp, body, err := get(t, c, srv.URL)
	if err != nil || resp.ProtoMajor != 2 || body != "HTTP/2.0" {
		t.Fatalf("proto %v, body %q, err %v", resp, body, err)
	}
	// Without the CA the handshake fails: the system roots are used.
	if _, _, err := get(t, mustPolicy(t, "127.0.0.1").Client(netguard.ClientOptions{}), srv.URL); err == nil {
		t.Error("certificate from an unknown CA accepted")
	}
}

func TestNewPolicyAccepts(t *testing.T) {
	good := []string{
		"10.0.0.0/8", "fd00::/8", "10.1.2.3", "fd00::1", "10.1.2.3:8000", "[fd00::1]:8443", "[fd00::/8]:8443",
		"10.0.0.0/8:8000", "vllm.internal", "vllm.internal:8000", "*.corp.example", "*.corp.example:443",
		"localhost", "Ollama.Local.", " 192.168.0.0/16 ", "::ffff:10.0.0.1", "my_host.internal", "0.0.0.0/0", "::/0",
	}
	for _, e := range good {
		if _, err := netguard.NewPolicy([]string{e}); err != nil {
			t.Errorf("%q: %v", e, err)
		}
	}
}

func TestNewPolicyRejects(t *testing.T) {
	tests := []struct{ entry, says string }{
		{"", "is empty"},
		{"10.0.0.0/33", "is not a valid CIDR"},
		{"10.1.2.3/8", "did you mean 10.0.0.0/8?"},
		{"10.1.2.3:0", "port that is not a number from 1 to 65535"},
		{"10.1.2.3:65536", "port that is not a number from 1 to 65535"},
		{"vllm.internal:http", "port that is not a number"},
		{"[fd00::1", "no closing ]"},
		{"[fd00::1]8443", "after ]"},
		{"[10.0.0.1]:80", "not an IPv6 address"},
		{"fd00::zz", "not a valid IPv6 address"},
		{"https://vllm.internal", "is a URL; give only the host"},
		{"vllm internal", "is not a host name"},
		{"*.", "is not a host name"},
		{"a.*.example", "is not a host name"},
		{"-bad.example", "is not a host name"},
		{"127.1", "cannot end in a number"},
		{"2130706433", "cannot end in a number"},
		{"0x7f000001", "cannot end in a number"},
		{"fe80::1%eth0", "zone"},
		{"::ffff:10.0.0.0/104", "IPv4-mapped"},
	}
	for _, tt := range tests {
		_, err := netguard.NewPolicy([]string{"10.0.0.0/8", tt.entry})
		if err == nil {
			t.Errorf("%q accepted", tt.entry)
			continue
		}
		msg := err.Error()
		for _, want := range []string{netguard.Setting, strconv.Quote(tt.entry), tt.says, netguard.AcceptedForms} {
			if !strings.Contains(msg, want) {
				t.Errorf("%q: message %q does not say %q", tt.entry, msg, want)
			}
		}
	}
}

func TestCheckURL(t *testing.T) {
	res := resolver{
		"internal.test":   {"10.0.0.5"},
		"api.public.test": {"8.8.8.8"},
		"half.test":       {"8.8.8.8", "127.0.0.1"},
	}
	p := mustPolicy(t, "allowed.test", "192.168.0.0/16").WithResolver(res)
	res["allowed.test"] = []string{"10.9.9.9"}
	tests := []struct {
		url  string
		says string // "" means accepted
	}{
		{"https://api.public.test/v1", ""},
		{"http://api.public.test:8000/v1", ""},
		{"https://allowed.test/v1", ""},
		{"http://192.168.1.10:11434", ""},
		{"https://internal.test/v1", "resolves to 10.0.0.5, which is private (RFC 1918); add 10.0.0.5 (or the host name internal.test) to SWITCHYARD_OUTBOUND_ALLOW to allow it"},
		{"https://half.test/v1", "resolves to 127.0.0.1, which is loopback"},
		{"http://169.254.169.254/latest", "points to 169.254.169.254, which is link-local (cloud metadata); add it to SWITCHYARD_OUTBOUND_ALLOW"},
		{"http://[::]:8080/", "points to ::, which is unspecified (connecting to it reaches this machine); no setting allows it"},
		{"http://2130706433/", "has a host, 2130706433, that is a non-standard form of the IPv4 address 127.0.0.1, which is loopback"},
		{"https://nowhere.test/", "has a host, nowhere.test, that cannot be resolved here"},
		{"https://u:" + canary + "@api.public.test/", "must not contain a user name or password"},
		{"ftp://api.public.test/", "must start with https://"},
		{"https://api.public.test:0/", "port that is not a number"},
	}
	for _, tt := range tests {
		err := p.CheckURL(context.Background(), tt.url)
		if tt.says == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.url, err)
			}
			continue
		}
		if switchyard.ErrorCode(err) != switchyard.EINVALID || !strings.Contains(switchyard.ErrorMessage(err), tt.says) {
			t.Errorf("%s:\n got %v\nwant EINVALID saying %q", tt.url, err, tt.says)
		}
		assertNoCanary(t, err.Error())
	}
	var r *netguard.Refused
	if err := p.CheckURL(context.Background(), "https://internal.test/"); !errors.As(err, &r) || r.Addr != "10.0.0.5:443" {
		t.Errorf("err = %v, want it to wrap a *Refused", err)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://generativelanguage.googleapis.com/v1beta/models?key=" + canary, "https://generativelanguage.googleapis.com/v1beta/models?REDACTED"},
		{"https://user:" + canary + "@h.test/p", "https://h.test/p"},
		{"https://" + canary + "@h.test/p", "https://h.test/p"},
		{"https://h.test/p?a=1&key=" + canary + "#frag", "https://h.test/p?REDACTED"},
		{"https://h.test/p?", "https://h.test/p"},
		{"https://h.test/v1/chat", "https://h.test/v1/chat"},
		{"https://u:" + canary + "@h.test/%zz?key=" + canary, "https://h.test/%zz?REDACTED"},
		{"h.test:bad/x?key=" + canary, "h.test:bad/x?REDACTED"},
	}
	for _, tt := range tests {
		if got := netguard.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactClientErrors(t *testing.T) {
	// An upstream that drops the connection: the error carries the URL.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c := mustPolicy(t, "127.0.0.1").Client(netguard.ClientOptions{Resolver: resolver{}})
	for _, u := range []string{
		srv.URL + "/v1beta/models/gemini:generateContent?alt=sse&key=" + canary, // upstream failure
		"http://10.0.0.1/v1beta/models?key=" + canary,                           // refused
		"http://nowhere.test/v1beta/models?key=" + canary,                       // DNS failure
	} {
		_, _, err := get(t, c, u)
		if err == nil {
			t.Fatalf("%s: no error", u)
		}
		if !strings.Contains(err.Error(), canary) {
			t.Logf("note: net/http no longer puts the query in %q", err)
		}
		for name, e := range map[string]error{
			"url.Error": err,
			"wrapped":   fmt.Errorf("gemini: generate: %w", err),
			"joined":    errors.Join(errors.New("retry failed"), err),
		} {
			red := netguard.Redact(e)
			assertNoCanary(t, red.Error())
			var ue *url.Error
			if !errors.As(red, &ue) || !strings.HasSuffix(ue.URL, "?REDACTED") {
				t.Errorf("%s: no *url.Error with a redacted URL in %v", name, red)
			} else {
				assertNoCanary(t, ue.URL)
				assertNoCanary(t, ue.Error())
			}
			if strings.Contains(u, "10.0.0.1") {
				var r *netguard.Refused
				if !errors.As(red, &r) {
					t.Errorf("%s: the *Refused is lost after Redact", name)
				}
			}
		}
	}
}

func TestRedactText(t *testing.T) {
	inputs := []string{
		"upstream rejected the request: x-goog-api-key: " + canary,
		"header Authorization: Bearer " + canary,
		`{"error":{"api_key":"` + canary + `"}}`,
		"api-key=" + canary + ", retrying",
		"key " + canary + " is invalid", // a bare Google key
		`Post "https://h.test/v1?key=` + canary + `": EOF`,
		// Echoed twice, the second time without the header name.
		"Authorization: Bearer " + canary + " was rejected; the token Bearer " + canary + " is unknown",
		"Incorrect API key provided: sk-" + canary[4:] + ".", // sk-… keys anywhere
	}
	for _, in := range inputs {
		red := netguard.Redact(errors.New(in))
		assertNoCanary(t, red.Error())
		if !strings.Contains(red.Error(), netguard.Redacted) {
			t.Errorf("%q: redacted to %q without saying so", in, red)
		}
	}
	if netguard.Redact(nil) != nil {
		t.Error("Redact(nil) != nil")
	}
	plain := errors.New("connection refused")
	if netguard.Redact(plain) != plain {
		t.Error("an error without secrets was replaced")
	}
	keep := fmt.Errorf("get %q: %w", "https://h.test/?key="+canary, context.DeadlineExceeded)
	red := netguard.Redact(keep)
	if !errors.Is(red, context.DeadlineExceeded) {
		t.Errorf("errors.Is lost through Redact: %v", red)
	}
	var ne net.Error
	if !errors.As(netguard.Redact(&url.Error{Op: "Get", URL: "https://h.test/?key=" + canary, Err: context.DeadlineExceeded}), &ne) || !ne.Timeout() {
		t.Error("a redacted timeout is no longer a net.Error timeout")
	}
}
