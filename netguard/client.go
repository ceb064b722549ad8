package netguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	defaultResponseHeader = 5 * time.Minute
	minAttemptTimeout     = 2 * time.Second
)

// ClientOptions tune a client. The zero value is usable.
type ClientOptions struct {
	// Resolver resolves host names; nil means the policy's resolver
	// (WithResolver), else the system resolver.
	Resolver Resolver
	// ResponseHeaderTimeout limits the wait for response headers after the
	// request is written. Zero means 5 minutes (a non-streaming completion
	// sends its headers only when it is done); negative means no limit.
	ResponseHeaderTimeout time.Duration
	// Timeout is http.Client.Timeout: a limit on the whole exchange, body
	// included. Zero means none, as streams need.
	Timeout time.Duration
	// RootCAs replaces the system roots, for self-hosted servers with a
	// private CA. Nil means the system roots.
	RootCAs *x509.CertPool

	// dial replaces the net.Dialer in tests.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client returns a client whose every connection is checked against p. It
// dials at most 10 s (DNS included), allows 10 s for the TLS handshake
// (TLS 1.2 or newer), speaks HTTP/2 where the server offers it, pools idle
// connections, uses no proxy and follows no redirects: a 3xx response is
// returned as it is. Build one client per purpose and reuse it, so that
// connections are pooled.
func (p *Policy) Client(opts ClientOptions) *http.Client {
	g := &guard{policy: p, resolver: opts.Resolver}
	if g.resolver == nil {
		g.resolver = p.resolver
	}
	d := &net.Dialer{KeepAlive: 30 * time.Second, ControlContext: g.control}
	g.dial = d.DialContext
	if opts.dial != nil {
		g.dial = opts.dial
	}
	rh := opts.ResponseHeaderTimeout
	switch {
	case rh == 0:
		rh = defaultResponseHeader
	case rh < 0:
		rh = 0
	}
	t := &http.Transport{
		Proxy:                 nil, // never from the environment: the check would see the proxy
		DialContext:           g.dialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: opts.RootCAs},
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: rh,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		// A gateway sends many requests to few hosts: keep enough idle
		// connections that a burst reuses them instead of dialling.
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      true, // a custom dialer turns HTTP/2 off unless forced
	}
	return &http.Client{
		Transport: t,
		Timeout:   opts.Timeout,
		// Go would send x-api-key, api-key and x-goog-api-key on to any host
		// a redirect names; return the 3xx instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type guard struct {
	policy   *Policy
	resolver Resolver
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
}

// admittedKey carries, to control, the address that dialContext admitted
// by host name: only dialContext knows the name.
type admittedKey struct{}

// dialContext resolves the host itself, so that the policy sees both the
// name asked for and the addresses, then dials the admitted addresses in
// turn, as IP literals.
func (g *guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("netguard: port %q is not a number", ps)
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	targets, refused, err := g.policy.resolve(ctx, g.resolver, network, host, uint16(port))
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, refused[0]
	}
	var errs []error
	for i, t := range targets {
		actx, acancel := attemptContext(ctx, len(targets)-i)
		if t.byName {
			actx = context.WithValue(actx, admittedKey{}, t.addr)
		}
		c, err := g.dial(actx, network, t.addr.String())
		acancel()
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

// attemptContext gives one of the remaining attempts its share of the time
// left, but at least 2 s, as net.Dialer does.
func attemptContext(ctx context.Context, remaining int) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || remaining <= 1 {
		return context.WithCancel(ctx)
	}
	share := time.Until(dl) / time.Duration(remaining)
	if share < minAttemptTimeout {
		share = minAttemptTimeout
	}
	return context.WithTimeout(ctx, share)
}

// control checks, on the socket about to connect, the address once more.
func (g *guard) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: cannot check address %q: %w", address, err)
	}
	admitted, _ := ctx.Value(admittedKey{}).(netip.AddrPort)
	byName := admitted.IsValid() && admitted.Addr().Unmap() == ap.Addr().Unmap() && admitted.Port() == ap.Port()
	if ref := g.policy.check(ap.Addr(), ap.Port(), byName); ref != nil {
		ref.Host = ap.Addr().String()
		return ref
	}
	return nil
}
