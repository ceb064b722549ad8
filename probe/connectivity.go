// Package probe tests providers the way an admin needs when something does
// not work: a connectivity test that walks DNS, TCP, TLS, authentication,
// the endpoint and the model list, and says which stage failed, with a
// stable code and a hint a person can act on.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/netguard"
	"github.com/switchyard/switchyard/provider"
)

// AdapterFunc builds the adapter of a provider and one of its credentials,
// sending through the given client.
type AdapterFunc func(p *switchyard.Provider, cred switchyard.Credential, http provider.Doer) (provider.Adapter, error)

// Tester runs connectivity tests.
type Tester struct {
	// Policy is the SSRF guard every connection goes through.
	Policy *netguard.Policy
	// NewAdapter builds the provider's adapter for the auth, endpoint and
	// model list stages.
	NewAdapter AdapterFunc
	// StageTimeout bounds each stage (default 10 s).
	StageTimeout time.Duration
	// RootCAs replaces the system roots (tests, private CAs).
	RootCAs *x509.CertPool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Test runs every stage against the provider's first active credential and
// stops at the first failure; later stages are reported as skipped.
func (t *Tester) Test(ctx context.Context, p *switchyard.Provider) *switchyard.ProviderTest {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	r := &run{t: t, ctx: ctx, report: &switchyard.ProviderTest{At: now().UTC()}}
	r.all(p)
	rep := r.report
	rep.OK = rep.Code == ""
	return rep
}

type run struct {
	t      *Tester
	ctx    context.Context
	report *switchyard.ProviderTest
}

var stageOrder = []string{switchyard.StageDNS, switchyard.StageTCP, switchyard.StageTLS,
	switchyard.StageAuth, switchyard.StageEndpoint, switchyard.StageModels}

func (r *run) timeout() time.Duration {
	if r.t.StageTimeout > 0 {
		return r.t.StageTimeout
	}
	return 10 * time.Second
}

// stage runs fn, timing it, and records its outcome.
func (r *run) stage(name string, fn func(ctx context.Context) *failure) bool {
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout())
	defer cancel()
	start := time.Now()
	f := fn(ctx)
	s := switchyard.TestStage{Name: name, Status: switchyard.StageOK, DurationMS: time.Since(start).Milliseconds()}
	if f != nil {
		if f.skip {
			s.Status, s.Message = switchyard.StageSkipped, f.message
			r.report.Stages = append(r.report.Stages, s)
			return true
		}
		s.Status, s.Code, s.Message, s.Hint = switchyard.StageFailed, f.code, f.message, f.hint
		r.report.Code = f.code
	}
	r.report.Stages = append(r.report.Stages, s)
	return f == nil
}

// skipRest marks the stages after the failed one as skipped.
func (r *run) skipRest() {
	done := map[string]bool{}
	for _, s := range r.report.Stages {
		done[s.Name] = true
	}
	for _, n := range stageOrder {
		if !done[n] {
			r.report.Stages = append(r.report.Stages, switchyard.TestStage{Name: n, Status: switchyard.StageSkipped,
				Message: "not run: an earlier stage failed"})
		}
	}
}

type failure struct {
	code, message, hint string
	skip                bool
}

func fail(code, hint, format string, args ...any) *failure {
	return &failure{code: code, hint: hint, message: fmt.Sprintf(format, args...)}
}

func (r *run) all(p *switchyard.Provider) {
	defer r.skipRest()
	u, err := url.Parse(p.BaseURL)
	if err != nil || u.Hostname() == "" {
		r.stage(switchyard.StageDNS, func(context.Context) *failure {
			return fail("invalid_base_url", "write the base URL as https://host/path", "the base URL is not a valid URL")
		})
		return
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	pn, _ := strconv.ParseUint(port, 10, 16)
	target := net.JoinHostPort(host, port)

	if !r.stage(switchyard.StageDNS, func(ctx context.Context) *failure { return r.dns(ctx, host, uint16(pn)) }) {
		return
	}
	var conn net.Conn
	if !r.stage(switchyard.StageTCP, func(ctx context.Context) *failure {
		var f *failure
		conn, f = r.tcp(ctx, target)
		return f
	}) {
		return
	}
	defer conn.Close()
	if !r.stage(switchyard.StageTLS, func(ctx context.Context) *failure { return r.tls(ctx, conn, u.Scheme, host) }) {
		return
	}
	conn.Close()

	cred, ok := firstActive(p)
	if !ok {
		r.stage(switchyard.StageAuth, func(context.Context) *failure {
			return fail("no_credential", "add a credential, or enable one, in the provider's settings", "the provider has no active credential")
		})
		return
	}
	client := r.t.Policy.Client(netguard.ClientOptions{RootCAs: r.t.RootCAs, ResponseHeaderTimeout: r.timeout()})
	adapter, err := r.t.NewAdapter(p, cred, client)
	if err != nil {
		r.stage(switchyard.StageAuth, func(context.Context) *failure {
			return fail("invalid_configuration", "check the provider's protocol and credential settings", "%s", netguard.Redact(err).Error())
		})
		return
	}
	var pingErr error
	authOK := r.stage(switchyard.StageAuth, func(ctx context.Context) *failure {
		pingErr = adapter.Ping(ctx)
		return authFailure(pingErr)
	})
	if !authOK {
		return
	}
	if !r.stage(switchyard.StageEndpoint, func(context.Context) *failure { return endpointFailure(pingErr) }) {
		return
	}
	r.stage(switchyard.StageModels, func(ctx context.Context) *failure {
		models, err := adapter.ListModels(ctx)
		if err != nil {
			if e, ok := provider.AsError(err); ok && e.Code == provider.CodeUnsupported {
				return &failure{skip: true, message: "the protocol has no model list"}
			}
			return upstreamFailure(err)
		}
		r.report.Models = len(models)
		if len(models) == 0 {
			return fail("no_models", "the account may have no model access yet; on Bedrock and Azure, grant or deploy models first",
				"the provider's model list is empty")
		}
		return nil
	})
}

func firstActive(p *switchyard.Provider) (switchyard.Credential, bool) {
	for _, c := range p.Credentials {
		if c.Status == "" || c.Status == switchyard.CredentialActive {
			return c, true
		}
	}
	return switchyard.Credential{}, false
}

func (r *run) dns(ctx context.Context, host string, port uint16) *failure {
	admitted, refused, err := r.t.Policy.Lookup(ctx, host, port)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fail("dns_not_found", "check the host name in the base URL for typos; a regional endpoint needs a valid region",
			"the host name %s does not exist", host)
	case err != nil && ctx.Err() != nil:
		return fail("dns_timeout", "the DNS server did not answer; check this machine's DNS settings", "looking up %s timed out", host)
	case err != nil:
		return fail("dns_failed", "check the host name and this machine's DNS settings", "cannot look up %s: %s", host, netguard.Redact(err))
	case len(admitted) == 0 && len(refused) > 0:
		return fail("blocked_destination",
			"Switchyard refuses private, loopback and metadata addresses unless allowed; for a self-hosted endpoint on your network add its address or host to "+netguard.Setting,
			"%s", refused[0].Error())
	}
	return nil
}

func (r *run) tcp(ctx context.Context, target string) (net.Conn, *failure) {
	dial := r.t.Policy.DialContext(netguard.ClientOptions{})
	conn, err := dial(ctx, "tcp", target)
	if err == nil {
		return conn, nil
	}
	var refused *netguard.Refused
	switch {
	case errors.As(err, &refused):
		return nil, fail("blocked_destination", "add the address or host to "+netguard.Setting+" if it is yours", "%s", refused.Error())
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, fail("tcp_refused", "nothing listens there: check the port in the base URL and that the server runs",
			"%s refused the connection", target)
	case ctx.Err() != nil || isTimeout(err):
		return nil, fail("tcp_timeout", "a firewall may drop the traffic, or the host is down; check the port and network path",
			"connecting to %s timed out", target)
	}
	return nil, fail("tcp_failed", "check the host and port in the base URL", "cannot connect to %s: %s", target, netguard.Redact(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (r *run) tls(ctx context.Context, conn net.Conn, scheme, host string) *failure {
	if scheme != "https" {
		return &failure{skip: true, message: "plain http: the traffic is not encrypted"}
	}
	tc := tls.Client(conn, &tls.Config{ServerName: host, RootCAs: r.t.RootCAs, MinVersion: tls.VersionTLS12})
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return nil
	}
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var certErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &hostErr):
		names := strings.Join(hostErr.Certificate.DNSNames, ", ")
		return fail("tls_name_mismatch", "the base URL's host does not match the server's certificate; use the host the certificate names, or fix the certificate",
			"the certificate is for %s, not %s", orNone(names), host)
	case errors.As(err, &authErr):
		return fail("tls_unknown_authority", "the certificate is self-signed or from a private CA the system does not trust; install the CA on this machine",
			"the certificate is not signed by a trusted authority")
	case errors.As(err, &certErr) && certErr.Reason == x509.Expired:
		return fail("tls_expired", "the server's certificate has expired (or this machine's clock is wrong); renew the certificate",
			"the certificate has expired or is not yet valid")
	case errors.As(err, &recErr):
		return fail("tls_not_tls", "the server speaks plain HTTP on this port; use http:// in the base URL, or the server's TLS port",
			"the server did not answer with TLS")
	case ctx.Err() != nil:
		return fail("tls_timeout", "the server accepted the connection but did not complete TLS; check the port", "the TLS handshake timed out")
	}
	return fail("tls_failed", "check the server's TLS settings", "TLS handshake failed: %s", netguard.Redact(err))
}

func orNone(s string) string {
	if s == "" {
		return "(no names)"
	}
	return s
}

// authFailure reports the failures of the authenticated ping that concern
// the credential; the others belong to the endpoint stage.
func authFailure(err error) *failure {
	e, ok := provider.AsError(err)
	if !ok {
		return nil
	}
	switch e.Code {
	case provider.CodeAuth:
		return fail("auth_rejected", "the provider rejected the credential: check it was copied whole, is still active, and belongs to this provider (and region or organization)",
			"%s", e.Error())
	case provider.CodeForbidden:
		return fail("auth_forbidden", "the credential works but may not do this: check its permissions, the region, or model access (Bedrock: request model access; IAM: allow bedrock:ListFoundationModels and bedrock:InvokeModel)",
			"%s", e.Error())
	case provider.CodeRateLimited:
		hint := "the provider is rate limiting this credential; wait and test again"
		if e.RetryAfter > 0 {
			hint = fmt.Sprintf("the provider is rate limiting this credential; test again in %s", e.RetryAfter.Round(time.Second))
		}
		return fail("rate_limited", hint, "%s", e.Error())
	}
	return nil
}

// endpointFailure reports what remains of the ping's failure.
func endpointFailure(err error) *failure {
	if err == nil {
		return nil
	}
	return upstreamFailure(err)
}

func upstreamFailure(err error) *failure {
	e, ok := provider.AsError(err)
	if !ok {
		return fail("upstream_error", "see the message", "%s", netguard.Redact(err))
	}
	switch e.Code {
	case provider.CodeNotFound:
		return fail("endpoint_not_found", "the base URL, path or API version is wrong (OpenAI-compatible servers usually end in /v1; Azure needs the resource name and a valid api-version)",
			"%s", e.Error())
	case provider.CodeTimeout:
		return fail("endpoint_timeout", "the server accepted the connection but did not answer in time; it may be overloaded or the wrong service", "%s", e.Error())
	case provider.CodeUnavailable, provider.CodeUpstream:
		return fail("upstream_unavailable", "the provider reports an error on its side; check its status page and test again", "%s", e.Error())
	case provider.CodeBadResponse:
		return fail("bad_response", "the server did not answer in the provider's protocol; check the protocol and base URL", "%s", e.Error())
	case provider.CodeBlocked:
		return fail("blocked_destination", "add the address or host to "+netguard.Setting+" if it is yours", "%s", e.Error())
	case provider.CodeRateLimited, provider.CodeAuth, provider.CodeForbidden:
		return authFailure(err)
	}
	return fail(e.Code, "see the message", "%s", e.Error())
}
