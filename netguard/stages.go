package netguard

import (
	"context"
	"net"
	"net/netip"
)

// Lookup resolves host as a client would and splits its addresses into the
// ones a client may dial and the refusals, for callers that report each
// stage of a connection (the connectivity test). err is a lookup failure.
func (p *Policy) Lookup(ctx context.Context, host string, port uint16) (admitted []netip.AddrPort, refused []*Refused, err error) {
	targets, refused, err := p.resolve(ctx, p.resolver, "tcp", host, port)
	for _, t := range targets {
		admitted = append(admitted, t.addr)
	}
	return admitted, refused, err
}

// DialContext returns the guarded dial function that clients built with the
// same options use, for callers that speak TCP and TLS themselves.
func (p *Policy) DialContext(opts ClientOptions) func(ctx context.Context, network, addr string) (net.Conn, error) {
	g := &guard{policy: p, resolver: opts.Resolver}
	if g.resolver == nil {
		g.resolver = p.resolver
	}
	d := &net.Dialer{KeepAlive: -1, ControlContext: g.control}
	g.dial = d.DialContext
	if opts.dial != nil {
		g.dial = opts.dial
	}
	return g.dialContext
}
