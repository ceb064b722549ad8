package netguard

import (
	"context"
	"net"
	"net/netip"
)

// SetDial replaces the client's net.Dialer, so that tests see every address
// the guard would dial and can send it to a loopback server instead.
func SetDial(o *ClientOptions, f func(ctx context.Context, network, addr string) (net.Conn, error)) {
	o.dial = f
}

// Control runs the dialer's second check on address.
func Control(p *Policy, address string) error {
	return (&guard{policy: p}).control(context.Background(), "tcp", address, nil)
}

// Classify is classify: why an address is not public, or "".
func Classify(a netip.Addr) string { return classify(a) }
